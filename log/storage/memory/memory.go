// Package memory implements log.Storage in memory, for tests.
//
// A Storage keeps everything in maps under one read-write mutex: Commit
// takes the write lock, so readers see all of an Update or none of it. It
// copies every slice it is given and every slice it returns, so no caller
// can change what is stored. Nothing survives the process, and every read
// that scans (Checkpoints, Rows, EntryBundle) sorts what it finds, which is
// fine for tests and not meant for large logs.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pledgelog/pledgelog/log"
)

// Storage is an in-memory log.Storage. Use New to make one.
type Storage struct {
	mu          sync.RWMutex
	latest      []byte
	checkpoints map[uint64][]byte // by tree size
	tiles       map[tileID][]byte // widest version
	full        map[uint64][]byte // full entry bundles
	chunks      map[uint64]chunks // chunks of open bundles
	dedup       map[string]uint64 // dedup key → index
	tables      map[string]table  // derived rows
}

type tileID struct {
	level int
	n     uint64
}

// chunks maps the start of each chunk of a bundle to its data.
type chunks map[int][]byte

// table maps a row's key to its value.
type table map[string][]byte

var _ log.Storage = (*Storage)(nil)

// New returns an empty Storage.
func New() *Storage {
	return &Storage{
		checkpoints: map[uint64][]byte{},
		tiles:       map[tileID][]byte{},
		full:        map[uint64][]byte{},
		chunks:      map[uint64]chunks{},
		dedup:       map[string]uint64{},
		tables:      map[string]table{},
	}
}

// Commit implements log.Storage.
func (s *Storage) Commit(ctx context.Context, u *log.Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(u.Checkpoint) == 0 {
		return fmt.Errorf("memory: commit of size %d without a checkpoint", u.Size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.latest, u.Prev) {
		return log.ErrConflict
	}
	s.latest = bytes.Clone(u.Checkpoint)
	s.checkpoints[u.Size] = s.latest
	for _, t := range u.Tiles {
		s.tiles[tileID{t.Level, t.N}] = bytes.Clone(t.Hashes)
	}
	s.writeBundles(u.Bundles)
	for _, d := range u.Dedup {
		s.dedup[string(d.Key)] = d.Index
	}
	s.writeRows(u.Rows)
	return nil
}

func (s *Storage) writeBundles(ws []log.BundleWrite) {
	for _, w := range ws {
		if w.Full {
			s.full[w.N] = bytes.Clone(w.Data)
			continue
		}
		if s.chunks[w.N] == nil {
			s.chunks[w.N] = chunks{}
		}
		s.chunks[w.N][w.Start] = bytes.Clone(w.Data)
	}
	for _, w := range ws {
		if w.Full {
			delete(s.chunks, w.N) // after all chunks: none outlives its full bundle
		}
	}
}

func (s *Storage) writeRows(rows []log.Row) {
	for _, r := range rows {
		t := s.tables[r.Table]
		switch {
		case r.Delete:
			delete(t, string(r.Key))
		case t == nil:
			s.tables[r.Table] = table{string(r.Key): bytes.Clone(r.Value)}
		default:
			t[string(r.Key)] = bytes.Clone(r.Value)
		}
	}
}

// Close implements log.Storage. It does nothing.
func (s *Storage) Close() error { return nil }

// sortedKeys returns the keys of m for which keep is true, in order.
func sortedKeys[K ~string | ~uint64 | ~int, V any](m map[K]V, keep func(K) bool) []K {
	var ks []K
	for k := range maps.Keys(m) {
		if keep(k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}
