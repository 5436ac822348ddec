package storagetest

import (
	"fmt"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// tileIDs are distinct tiles whose naive encodings collide: (1, 11) and
// (11, 1) concatenated as text, (0, 256) and (1, 0) packed into few bytes.
var tileIDs = []struct {
	level int
	n     uint64
}{{0, 0}, {0, 1}, {0, 256}, {1, 0}, {1, 11}, {11, 1}, {2, 1 << 40}}

func testHashTiles(t *testing.T, st log.Storage) {
	c := &chain{st: st}
	want := map[[2]uint64][]byte{}
	// Each round widens every tile by one hash, and commits the tiles in
	// a different order.
	for width := uint64(1); width <= 3; width++ {
		var u log.Update
		for i := range tileIDs {
			id := tileIDs[(i+int(width))%len(tileIDs)]
			data := tileData(id.level, id.n, width)
			u.Tiles = append(u.Tiles, log.TileWrite{Level: id.level, N: id.n, Hashes: data})
			want[[2]uint64{uint64(id.level), id.n}] = data
		}
		c.commit(t, width, u)
		for _, id := range tileIDs {
			got, err := st.HashTile(t.Context(), id.level, id.n)
			wantBytes(t, fmt.Sprintf("HashTile(%d, %d)", id.level, id.n), got, err, want[[2]uint64{uint64(id.level), id.n}])
		}
	}
	for _, id := range []struct {
		level int
		n     uint64
	}{{0, 2}, {1, 1}, {2, 0}, {3, 0}, {1, 1 << 40}} {
		got, err := st.HashTile(t.Context(), id.level, id.n)
		wantBytes(t, fmt.Sprintf("HashTile(%d, %d)", id.level, id.n), got, err, nil)
	}
}

func testEntryBundles(t *testing.T, st log.Storage) {
	s, c := new(Stream), &chain{st: st}
	entries := func(n, lo, hi uint64) []byte { return s.entries(n*bundleSize+lo, n*bundleSize+hi) }
	chunk := func(n, lo, hi uint64) log.BundleWrite {
		return log.BundleWrite{N: n, Start: int(lo), Data: entries(n, lo, hi)}
	}
	full := func(n uint64) log.BundleWrite {
		return log.BundleWrite{N: n, Full: true, Data: entries(n, 0, bundleSize)}
	}
	steps := []struct {
		name   string
		writes []log.BundleWrite
		want   map[uint64][]byte // bundle → content; nil for ErrNotFound
	}{
		{"first chunk", []log.BundleWrite{chunk(0, 0, 2)},
			map[uint64][]byte{0: entries(0, 0, 2), 1: nil}},
		{"second chunk", []log.BundleWrite{chunk(0, 2, 5)},
			map[uint64][]byte{0: entries(0, 0, 5)}},
		// Starts 2 < 10 < 100 sort differently as text.
		{"chunks out of order", []log.BundleWrite{chunk(1, 10, 100), chunk(0, 5, 6), chunk(1, 0, 2), chunk(1, 100, 255), chunk(1, 2, 10)},
			map[uint64][]byte{0: entries(0, 0, 6), 1: entries(1, 0, 255), 2: nil}},
		{"full replaces chunks", []log.BundleWrite{full(0)},
			map[uint64][]byte{0: entries(0, 0, bundleSize), 1: entries(1, 0, 255)}},
		{"full and next chunk", []log.BundleWrite{chunk(2, 0, 1), full(1)},
			map[uint64][]byte{1: entries(1, 0, bundleSize), 2: entries(2, 0, 1)}},
		{"full without chunks", []log.BundleWrite{full(3)},
			map[uint64][]byte{0: entries(0, 0, bundleSize), 2: entries(2, 0, 1), 3: entries(3, 0, bundleSize), 4: nil}},
		{"far bundle", []log.BundleWrite{chunk(1<<40, 0, 3)},
			map[uint64][]byte{1 << 40: entries(1<<40, 0, 3), 1<<40 - 1: nil, 1<<40 + 1: nil}},
	}
	for i, step := range steps {
		c.commit(t, uint64(i+1), log.Update{Bundles: step.writes})
		for n, want := range step.want {
			got, err := st.EntryBundle(t.Context(), n)
			wantBytes(t, fmt.Sprintf("%s: EntryBundle(%d)", step.name, n), got, err, want)
		}
	}
}
