package log

import (
	"bytes"
	"testing"
)

// TestRecentTilesBounded checks that the log keeps at most
// recentTilesPerLevel tiles of a level, the newest, and that a tile is
// answered only at the widths it was committed at.
func TestRecentTilesBounded(t *testing.T) {
	var r recentTiles
	for n := range uint64(100) {
		r.add(&edit{tiles: map[[2]uint64][]byte{
			{0, n}:     bytes.Repeat([]byte{byte(n)}, 256*32),
			{1, n / 8}: bytes.Repeat([]byte{byte(n)}, int(n%8+1)*32),
		}})
	}
	if got := len(*r.m.Load()); got > recentTilesPerLevel+13 {
		t.Fatalf("%d tiles held, want at most %d", got, recentTilesPerLevel+13)
	}
	if _, ok := r.get(0, 100-recentTilesPerLevel-1, 256); ok {
		t.Errorf("tile 0/%d held, %d tiles left of the newest", 100-recentTilesPerLevel-1, recentTilesPerLevel+1)
	}
	if data, ok := r.get(0, 99, 3); !ok || !bytes.Equal(data, bytes.Repeat([]byte{99}, 3*32)) {
		t.Errorf("newest level-0 tile at width 3: %v, %x", ok, data)
	}
	if data, ok := r.get(1, 12, 4); !ok || !bytes.Equal(data, bytes.Repeat([]byte{99}, 4*32)) {
		t.Errorf("level-1 tile 12 at width 4: %v, %x", ok, data)
	}
	if _, ok := r.get(1, 12, 5); ok {
		t.Error("level-1 tile 12 answered at width 5, committed at 4")
	}
}
