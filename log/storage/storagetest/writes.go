package storagetest

import (
	"fmt"

	"github.com/pledgelog/pledgelog/log"
)

// This file defines what the stream writes, and so what a Storage holding
// the first n batches must return.

// tileHashes returns how many hashes tile level level holds at tree size
// size: one per complete subtree of 256^level leaves.
func tileHashes(level int, size uint64) uint64 {
	return size >> (8 * level)
}

// tileLen returns the width of tile (level, n) at tree size size.
func tileLen(level int, n, size uint64) uint64 {
	c := tileHashes(level, size)
	if c <= n*tileWidth {
		return 0
	}
	return min(c-n*tileWidth, tileWidth)
}

// tileData returns tile (level, n) at width w.
func tileData(level int, n, w uint64) []byte {
	b := make([]byte, 0, w*hashSize)
	for k := range w {
		b = append(b, hash(level, n*tileWidth+k)...)
	}
	return b
}

// tileWrites returns the tiles that grow from tree size from to to.
func (s *Stream) tileWrites(from, to uint64) []log.TileWrite {
	var ws []log.TileWrite
	for level := 0; tileHashes(level, to) > tileHashes(level, from); level++ {
		c0, c1 := tileHashes(level, from), tileHashes(level, to)
		for n := c0 / tileWidth; n <= (c1-1)/tileWidth; n++ {
			w := tileLen(level, n, to)
			ws = append(ws, log.TileWrite{Level: level, N: n, Hashes: tileData(level, n, w)})
		}
	}
	return ws
}

// entries returns entries [lo, hi) concatenated.
func (s *Stream) entries(lo, hi uint64) []byte {
	var b []byte
	for j := lo; j < hi; j++ {
		b = append(b, s.entry(j)...)
	}
	return b
}

// bundle returns entry bundle n at tree size size, or nil.
func (s *Stream) bundle(n, size uint64) []byte {
	lo := n * bundleSize
	if size <= lo {
		return nil
	}
	return s.entries(lo, min(size, lo+bundleSize))
}

// bundleWrites returns the bundle writes taking tree size from to to: a
// chunk for a bundle left open, a full bundle for one that fills up.
func (s *Stream) bundleWrites(from, to uint64) []log.BundleWrite {
	var ws []log.BundleWrite
	for n := from / bundleSize; n <= (to-1)/bundleSize; n++ {
		lo := n * bundleSize
		if to >= lo+bundleSize {
			ws = append(ws, log.BundleWrite{N: n, Full: true, Data: s.bundle(n, to)})
			continue
		}
		start := max(from, lo)
		ws = append(ws, log.BundleWrite{N: n, Start: int(start - lo), Data: s.entries(start, to)})
	}
	return ws
}

func (s *Stream) dedupWrites(from, to uint64) []log.DedupEntry {
	ws := make([]log.DedupEntry, 0, to-from)
	for j := from; j < to; j++ {
		ws = append(ws, log.DedupEntry{Key: dedupKey(j), Index: j})
	}
	return ws
}

// The stream's tables: "entry" has a row per entry; "batch" a row for each
// of the last three batches (older ones are deleted); "gen" three rows that
// every batch overwrites with its number, so that a torn read shows as rows
// of different batches.
const (
	entryTable = "entry"
	batchTable = "batch"
	genTable   = "gen"
	batchRows  = 3
)

var genKeys = []string{"a", "b", "c"}

func entryRow(j uint64) log.Row {
	return log.Row{Table: entryTable, Key: be64(j), Value: fmt.Appendf(nil, "entry %d", j)}
}

func batchRow(i int) log.Row {
	return log.Row{Table: batchTable, Key: be64(uint64(i)), Value: fmt.Appendf(nil, "batch %d", i)}
}

func genRow(key string, i int) log.Row {
	return log.Row{Table: genTable, Key: []byte(key), Value: be64(uint64(i))}
}

// rowWrites returns the rows batch i writes for entries [from, to).
func rowWrites(i int, from, to uint64) []log.Row {
	var rows []log.Row
	for j := from; j < to; j++ {
		rows = append(rows, entryRow(j))
	}
	rows = append(rows, batchRow(i))
	if i >= batchRows {
		rows = append(rows, log.Row{Table: batchTable, Key: be64(uint64(i - batchRows)), Delete: true})
	}
	for _, k := range genKeys {
		rows = append(rows, genRow(k, i))
	}
	return rows
}
