package log

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/verify"
)

// recentTilesPerLevel is how many of the most recent hash tiles of each
// level the log keeps in memory (recentTiles): at 8 KiB a tile, 256 KiB a
// level, and enough to hold every level-0 tile a batch of MaxBatchSize
// (4,096 by default) entries touches, twice.
const recentTilesPerLevel = 32

// recentTiles holds copies of the hash tiles the sequencer committed
// last, as committed: the proofs of the entries just appended (the bundles
// their callers wait for) read their tiles from here rather than from
// storage. A hash tile only grows (its first hashes never change), so a
// copy committed at some width answers every read at that width or
// narrower for ever, whatever was committed after it; a read of a wider
// version goes to storage. It is written by the sequencer only, after a
// commit is known to have landed, and read concurrently: the map is
// replaced, never modified.
type recentTiles struct {
	m atomic.Pointer[map[[2]uint64][]byte] // (level, n) → hashes
}

// get returns the first width hashes of tile (level, n), if held.
func (r *recentTiles) get(level int, n uint64, width int) ([]byte, bool) {
	m := r.m.Load()
	if m == nil {
		return nil, false
	}
	data, ok := (*m)[[2]uint64{uint64(level), n}]
	if !ok || len(data) < width*32 {
		return nil, false
	}
	return data[:width*32], true
}

// add remembers the tiles e wrote, committed, and forgets those more than
// recentTilesPerLevel tiles left of the newest of their level.
func (r *recentTiles) add(e *edit) {
	if e == nil || len(e.tiles) == 0 {
		return
	}
	old := r.m.Load()
	m := make(map[[2]uint64][]byte, len(e.tiles)+lenOf(old))
	var newest [64]uint64 // by level
	if old != nil {
		for k, v := range *old {
			m[k] = v
			newest[k[0]%64] = max(newest[k[0]%64], k[1])
		}
	}
	for k, hashes := range e.tiles {
		if len(m[k]) < len(hashes) {
			m[k] = bytes.Clone(hashes) // the tree's edge grows in place
		}
		newest[k[0]%64] = max(newest[k[0]%64], k[1])
	}
	for k := range m {
		if k[1]+recentTilesPerLevel <= newest[k[0]%64] {
			delete(m, k)
		}
	}
	r.m.Store(&m)
}

func lenOf(m *map[[2]uint64][]byte) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// hashTiles reads the log's hash tiles, the recent ones from memory.
type hashTiles struct{ l *Log }

func (r hashTiles) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	if data, ok := r.l.recentTiles.get(t.Level, t.N, t.Width); ok {
		return data, nil
	}
	return storageTiles{r.l.cfg.Storage}.ReadTile(ctx, t)
}
