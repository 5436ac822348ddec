package storagetest_test

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
)

// The broken drivers TestMutants runs the suite against. Each wraps the
// memory driver and breaks one promise of log.Storage.

// ignorePrev commits over whatever checkpoint is stored.
type ignorePrev struct{ log.Storage }

func (s *ignorePrev) Commit(ctx context.Context, u *log.Update) error {
	v := *u
	v.Prev, _ = s.Checkpoint(ctx)
	return s.Storage.Commit(ctx, &v)
}

// writeOnConflict refuses a conflicting Update but keeps its rows and dedup
// entries.
type writeOnConflict struct{ log.Storage }

func (s *writeOnConflict) Commit(ctx context.Context, u *log.Update) error {
	err := s.Storage.Commit(ctx, u)
	if cp, _ := s.Checkpoint(ctx); err == log.ErrConflict && cp != nil {
		s.Storage.Commit(ctx, &log.Update{Prev: cp, Checkpoint: cp, Dedup: u.Dedup, Rows: u.Rows})
	}
	return err
}

// tornCommit commits the checkpoint and tiles, and the rest a little later.
type tornCommit struct{ log.Storage }

func (s *tornCommit) Commit(ctx context.Context, u *log.Update) error {
	first := log.Update{Prev: u.Prev, Checkpoint: u.Checkpoint, Size: u.Size, Tiles: u.Tiles}
	if err := s.Storage.Commit(ctx, &first); err != nil {
		return err
	}
	time.Sleep(100 * time.Microsecond)
	rest := log.Update{Prev: u.Checkpoint, Checkpoint: u.Checkpoint, Size: u.Size, Bundles: u.Bundles, Dedup: u.Dedup, Rows: u.Rows}
	return s.Storage.Commit(ctx, &rest)
}

// retainUpdate returns the checkpoint slice of the last Update committed.
type retainUpdate struct {
	log.Storage
	last []byte
}

func (s *retainUpdate) Commit(ctx context.Context, u *log.Update) error {
	err := s.Storage.Commit(ctx, u)
	if err == nil {
		s.last = u.Checkpoint
	}
	return err
}

func (s *retainUpdate) Checkpoint(ctx context.Context) ([]byte, error) {
	if s.last == nil {
		return s.Storage.Checkpoint(ctx)
	}
	return s.last, nil
}

// aliasResults returns the same tile slice to every reader.
type aliasResults struct {
	log.Storage
	mu    sync.Mutex
	tiles map[[2]uint64][]byte
}

func (s *aliasResults) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := [2]uint64{uint64(level), n}
	if t, ok := s.tiles[id]; ok {
		return t, nil
	}
	t, err := s.Storage.HashTile(ctx, level, n)
	if err == nil {
		s.tiles = map[[2]uint64][]byte{id: t}
	}
	return t, err
}

// oldestFirst returns checkpoints in the wrong order.
type oldestFirst struct{ log.Storage }

func (s *oldestFirst) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	cps, err := s.Storage.Checkpoints(ctx, before, limit)
	slices.Reverse(cps)
	return cps, err
}

// beforeInclusive returns the checkpoint of size before too.
type beforeInclusive struct{ log.Storage }

func (s *beforeInclusive) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	return s.Storage.Checkpoints(ctx, before+1, limit)
}

// endInclusive returns the row at end too.
type endInclusive struct{ log.Storage }

func (s *endInclusive) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	if end != nil {
		end = append(bytes.Clone(end), 0)
	}
	return s.Storage.Rows(ctx, table, start, end, limit)
}

// dedupSorted answers in order of the results rather than of the keys.
type dedupSorted struct{ log.Storage }

func (s *dedupSorted) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	res, err := s.Storage.Dedup(ctx, keys)
	slices.SortFunc(res, func(a, b log.DedupResult) int { return cmp.Compare(a.Index, b.Index) })
	return res, err
}

// bundles keeps entry bundles itself, with one of two faults: it
// concatenates chunks in order of arrival, or it prefers chunks to the full
// bundle that replaced them.
type bundles struct {
	log.Storage
	byArrival, stale bool
	mu               sync.Mutex
	chunks           map[uint64][]log.BundleWrite
	full             map[uint64][]byte
}

func newBundles(byArrival, stale bool) *bundles {
	return &bundles{Storage: memory.New(), byArrival: byArrival, stale: stale,
		chunks: map[uint64][]log.BundleWrite{}, full: map[uint64][]byte{}}
}

func (s *bundles) Commit(ctx context.Context, u *log.Update) error {
	if err := s.Storage.Commit(ctx, u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range u.Bundles {
		w.Data = bytes.Clone(w.Data)
		if w.Full {
			s.full[w.N] = w.Data
		} else {
			s.chunks[w.N] = append(s.chunks[w.N], w)
		}
	}
	return nil
}

func (s *bundles) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.full[n]; ok && (!s.stale || len(s.chunks[n]) == 0) {
		return bytes.Clone(b), nil
	}
	cs := slices.Clone(s.chunks[n])
	if len(cs) == 0 {
		return nil, log.ErrNotFound
	}
	if !s.byArrival {
		slices.SortFunc(cs, func(a, b log.BundleWrite) int { return a.Start - b.Start })
	}
	var b []byte
	for _, c := range cs {
		b = append(b, c.Data...)
	}
	return b, nil
}

// joinedTables keeps all rows in one table, under the table's name followed
// by the key.
type joinedTables struct{ log.Storage }

func (s *joinedTables) Commit(ctx context.Context, u *log.Update) error {
	v := *u
	v.Rows = nil
	for _, r := range u.Rows {
		r.Key, r.Table = append([]byte(r.Table), r.Key...), ""
		v.Rows = append(v.Rows, r)
	}
	return s.Storage.Commit(ctx, &v)
}

func (s *joinedTables) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	start = append([]byte(table), start...)
	if end != nil {
		end = append([]byte(table), end...)
	}
	rows, err := s.Storage.Rows(ctx, "", start, end, limit)
	var mine []log.Row
	for _, r := range rows {
		if bytes.HasPrefix(r.Key, []byte(table)) {
			mine = append(mine, log.Row{Table: table, Key: r.Key[len(table):], Value: r.Value})
		}
	}
	return mine, err
}
