package storagetest

import (
	"math"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

func testEmpty(t *testing.T, st log.Storage) {
	ctx := t.Context()
	check(t, st, new(Stream), 0)
	got, err := st.CheckpointAt(ctx, 0)
	wantBytes(t, "CheckpointAt(0)", got, err, nil)
	if cps, err := st.Checkpoints(ctx, math.MaxUint64, 10); err != nil || len(cps) != 0 {
		t.Errorf("Checkpoints(max, 10) = %q, %v; want none", cps, err)
	}
	got, err = st.HashTile(ctx, 3, 1<<40)
	wantBytes(t, "HashTile(3, 1<<40)", got, err, nil)
	keys := [][]byte{{}, {0}, {0xff}}
	if res, err := st.Dedup(ctx, keys); err != nil || len(res) != 3 || res[0].Found || res[1].Found || res[2].Found {
		t.Errorf("Dedup(%x) = %+v, %v; want 3 misses", keys, res, err)
	}
	if res, err := st.Dedup(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("Dedup(nil) = %+v, %v; want none", res, err)
	}
	if rows, err := st.Rows(ctx, "", nil, nil, 10); err != nil || len(rows) != 0 {
		t.Errorf(`Rows("", nil, nil, 10) = %d rows, %v; want none`, len(rows), err)
	}
}

// testCreate checks that the first Commit, and only it, has no Prev.
func testCreate(t *testing.T, st log.Storage) {
	s := new(Stream)
	u := s.Update(0)
	u.Prev = []byte("storagetest\n0\n0\n")
	wantConflict(t, "Commit(first, Prev not nil)", st.Commit(t.Context(), u))
	check(t, st, s, 0)
	commit(t, st, s.Update(0))
	check(t, st, s, 1)
	wantConflict(t, "Commit(first again)", st.Commit(t.Context(), s.Update(0)))
	check(t, st, s, 1)
}

func testChain(t *testing.T, st log.Storage) {
	s, n := new(Stream), 40
	if testing.Short() {
		n = 20
	}
	for i := range n {
		commit(t, st, s.Update(i))
		check(t, st, s, i+1)
	}
}

// testConflict checks that a Commit whose Prev is not the stored checkpoint
// changes nothing, with an Update that writes every kind of data: it widens
// tiles, replaces a bundle's chunks by the full bundle, starts the next
// bundle, and upserts and deletes rows.
func testConflict(t *testing.T, st log.Storage) {
	s := new(Stream)
	k := fullBundleBatch(s)
	commitStream(t, st, s, 0, k)
	cp := s.Checkpoint(k)
	prevs := []struct {
		name string
		prev []byte
	}{
		{"nil", nil},
		{"stale", s.Checkpoint(k - 1)},
		{"first", s.Checkpoint(1)},
		{"prefix", cp[:len(cp)-1]},
		{"extended", append(cp[:len(cp):len(cp)], '\n')},
		{"next", s.Checkpoint(k + 1)},
		{"other", []byte("another log's checkpoint")},
	}
	for _, p := range prevs {
		t.Run(p.name, func(t *testing.T) {
			u := s.Update(k)
			u.Prev = p.prev
			wantConflict(t, "Commit", st.Commit(t.Context(), u))
			check(t, st, s, k)
		})
	}
	commit(t, st, s.Update(k))
	check(t, st, s, k+1)
}

// fullBundleBatch returns the first batch, after a few, that fills an entry
// bundle which already had chunks and starts the next one.
func fullBundleBatch(s *Stream) int {
	for i := batchRows; ; i++ {
		from, to := s.Size(i), s.Size(i+1)
		if from%bundleSize != 0 && from/bundleSize < to/bundleSize && to%bundleSize != 0 {
			return i
		}
	}
}
