package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/log"
)

// Check returns an error unless st holds exactly the state after the first
// n batches of the stream: all of batch n-1 and nothing of batch n.
func (s *Stream) Check(ctx context.Context, st log.Storage, n int) error {
	checks := []func(context.Context, log.Storage, int) error{
		s.checkCheckpoints, s.checkTiles, s.checkBundles, s.checkDedup, s.checkRows,
	}
	for _, check := range checks {
		if err := check(ctx, st, n); err != nil {
			return fmt.Errorf("after %d batches: %w", n, err)
		}
	}
	return nil
}

func (s *Stream) checkCheckpoints(ctx context.Context, st log.Storage, n int) error {
	got, err := st.Checkpoint(ctx)
	if err := match("Checkpoint()", got, err, s.Checkpoint(n)); err != nil {
		return err
	}
	for k := 1; k <= n; k++ {
		if k > 4 && k < n-16 {
			continue // a sample is enough
		}
		got, err := st.CheckpointAt(ctx, s.Size(k))
		if err := match(fmt.Sprintf("CheckpointAt(%d)", s.Size(k)), got, err, s.Checkpoint(k)); err != nil {
			return err
		}
	}
	got, err = st.CheckpointAt(ctx, s.Size(n+1))
	if err := match(fmt.Sprintf("CheckpointAt(%d)", s.Size(n+1)), got, err, nil); err != nil {
		return err
	}
	cps, err := st.Checkpoints(ctx, s.Size(n)+1, 3)
	var want [][]byte
	for k := n; k > 0 && k > n-3; k-- {
		want = append(want, s.Checkpoint(k))
	}
	return matchList(fmt.Sprintf("Checkpoints(%d, 3)", s.Size(n)+1), cps, err, want)
}

func (s *Stream) checkTiles(ctx context.Context, st log.Storage, n int) error {
	size := s.Size(n)
	for level := 0; ; level++ {
		tiles := (tileHashes(level, size) + tileWidth - 1) / tileWidth
		for t := range tiles + 1 { // and one past the last
			got, err := st.HashTile(ctx, level, t)
			want := tileData(level, t, tileLen(level, t, size))
			if len(want) == 0 {
				want = nil
			}
			if err := match(fmt.Sprintf("HashTile(%d, %d)", level, t), got, err, want); err != nil {
				return err
			}
		}
		if tiles == 0 {
			return nil
		}
	}
}

func (s *Stream) checkBundles(ctx context.Context, st log.Storage, n int) error {
	size := s.Size(n)
	for b := uint64(0); ; b++ {
		got, err := st.EntryBundle(ctx, b)
		want := s.bundle(b, size)
		if err := match(fmt.Sprintf("EntryBundle(%d)", b), got, err, want); err != nil {
			return err
		}
		if want == nil {
			return nil
		}
	}
}

func (s *Stream) checkDedup(ctx context.Context, st log.Storage, n int) error {
	size, next := s.Size(n), s.Size(n+1)
	keys := make([][]byte, next)
	for j := range next {
		keys[j] = dedupKey(j)
	}
	got, err := st.Dedup(ctx, keys)
	if err != nil {
		return fmt.Errorf("Dedup(%d keys): %w", len(keys), err)
	}
	if len(got) != len(keys) {
		return fmt.Errorf("Dedup(%d keys) returned %d results", len(keys), len(got))
	}
	for j, r := range got {
		want := log.DedupResult{Index: uint64(j), Found: uint64(j) < size}
		if r.Found != want.Found || r.Found && r.Index != want.Index {
			return fmt.Errorf("Dedup(%x) = %+v, want %+v", keys[j], r, want)
		}
	}
	return nil
}

func (s *Stream) checkRows(ctx context.Context, st log.Storage, n int) error {
	size := s.Size(n)
	var entries, batches, gens []log.Row
	for j := range size {
		entries = append(entries, entryRow(j))
	}
	for i := max(0, n-batchRows); i < n; i++ {
		batches = append(batches, batchRow(i))
	}
	for _, k := range genKeys {
		if n > 0 {
			gens = append(gens, genRow(k, n-1))
		}
	}
	for _, c := range []struct {
		table string
		want  []log.Row
	}{{entryTable, entries}, {batchTable, batches}, {genTable, gens}} {
		got, err := st.Rows(ctx, c.table, nil, nil, len(c.want)+1)
		if err := matchRows(fmt.Sprintf("Rows(%q, nil, nil, %d)", c.table, len(c.want)+1), got, err, c.want); err != nil {
			return err
		}
	}
	return nil
}

// match checks the result of a read returning one byte slice: want, or
// ErrNotFound if want is nil.
func match(call string, got []byte, err error, want []byte) error {
	switch {
	case want == nil && !errors.Is(err, log.ErrNotFound):
		return fmt.Errorf("%s = %s, %v; want ErrNotFound", call, short(got), err)
	case want != nil && err != nil:
		return fmt.Errorf("%s: %w", call, err)
	case want != nil && !bytes.Equal(got, want):
		return fmt.Errorf("%s = %s, want %s", call, short(got), short(want))
	}
	return nil
}

func matchList(call string, got [][]byte, err error, want [][]byte) error {
	if err != nil {
		return fmt.Errorf("%s: %w", call, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s = %q, want %q", call, got, want)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return fmt.Errorf("%s = %q, want %q", call, got, want)
		}
	}
	return nil
}

func matchRows(call string, got []log.Row, err error, want []log.Row) error {
	if err != nil {
		return fmt.Errorf("%s: %w", call, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s returned %d rows, want %d", call, len(got), len(want))
	}
	for i, r := range got {
		w := want[i]
		if r.Table != w.Table || !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) || r.Delete {
			return fmt.Errorf("%s[%d] = %s, want %s", call, i, fmtRow(r), fmtRow(w))
		}
	}
	return nil
}

func fmtRow(r log.Row) string {
	return fmt.Sprintf("{%q %x %s delete=%v}", r.Table, r.Key, short(r.Value), r.Delete)
}

// short formats b in hex, eliding the middle of long values.
func short(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) == 0 {
		return "[]"
	}
	if len(b) <= 24 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x…%x (%d bytes)", b[:12], b[len(b)-4:], len(b))
}
