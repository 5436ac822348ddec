package memory

import (
	"bytes"
	"context"
	"slices"

	"github.com/pledgelog/pledgelog/log"
)

// Checkpoint implements log.Storage.
func (s *Storage) Checkpoint(ctx context.Context) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return found(s.latest, s.latest != nil)
}

// CheckpointAt implements log.Storage.
func (s *Storage) CheckpointAt(ctx context.Context, size uint64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cp, ok := s.checkpoints[size]
	return found(cp, ok)
}

// Checkpoints implements log.Storage.
func (s *Storage) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sizes := sortedKeys(s.checkpoints, func(size uint64) bool { return size < before })
	var cps [][]byte
	for _, size := range slices.Backward(sizes) {
		if len(cps) >= limit {
			break
		}
		cps = append(cps, bytes.Clone(s.checkpoints[size]))
	}
	return cps, nil
}

// HashTile implements log.Storage.
func (s *Storage) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tiles[tileID{level, n}]
	return found(t, ok)
}

// EntryBundle implements log.Storage.
func (s *Storage) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.full[n]; ok {
		return bytes.Clone(b), nil
	}
	cs := s.chunks[n]
	if len(cs) == 0 {
		return nil, log.ErrNotFound
	}
	var b []byte
	for _, start := range sortedKeys(cs, func(int) bool { return true }) {
		b = append(b, cs[start]...)
	}
	return b, nil
}

// Dedup implements log.Storage.
func (s *Storage) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	res := make([]log.DedupResult, len(keys))
	for i, k := range keys {
		res[i].Index, res[i].Found = s.dedup[string(k)]
	}
	return res, nil
}

// Rows implements log.Storage.
func (s *Storage) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[table]
	keys := sortedKeys(t, func(k string) bool {
		return k >= string(start) && (end == nil || k < string(end))
	})
	var rows []log.Row
	for _, k := range keys[:min(len(keys), max(limit, 0))] {
		rows = append(rows, log.Row{Table: table, Key: []byte(k), Value: bytes.Clone(t[k])})
	}
	return rows, nil
}

// found returns a copy of b, or log.ErrNotFound.
func found(b []byte, ok bool) ([]byte, error) {
	if !ok {
		return nil, log.ErrNotFound
	}
	return bytes.Clone(b), nil
}
