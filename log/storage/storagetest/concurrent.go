package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// testConcurrentReads commits a stream while readers check that whatever
// they read belongs to whole batches, and that nothing of a batch is missing
// once its checkpoint has been read.
func testConcurrentReads(t *testing.T, st log.Storage) {
	s, n := new(Stream), 150
	if testing.Short() {
		n = 60
	}
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for !done.Load() {
				if err := s.checkLive(t.Context(), st); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}
	for i := range n {
		if err := st.Commit(t.Context(), s.Update(i)); err != nil {
			t.Errorf("Commit(batch %d) = %v", i, err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	t.Logf("%d batches, %d reads", n, reads.Load())
}

// checkLive reads st while batches are being committed.
func (s *Stream) checkLive(ctx context.Context, st log.Storage) error {
	n, err := s.Batches(ctx, st)
	if err != nil || n == 0 {
		return err
	}
	checks := []func(context.Context, log.Storage, int) error{
		s.liveCheckpoint, s.liveTile, s.liveBundle, s.liveDedup, s.liveRows,
	}
	for _, check := range checks {
		if err := check(ctx, st, n); err != nil {
			return fmt.Errorf("having read checkpoint %d: %w", n, err)
		}
	}
	return nil
}

func (s *Stream) liveCheckpoint(ctx context.Context, st log.Storage, n int) error {
	got, err := st.CheckpointAt(ctx, s.Size(n))
	return match(fmt.Sprintf("CheckpointAt(%d)", s.Size(n)), got, err, s.Checkpoint(n))
}

// liveTile checks the last level-0 tile of batch n-1: it may have grown
// since, but by whole hashes.
func (s *Stream) liveTile(ctx context.Context, st log.Storage, n int) error {
	size := s.Size(n)
	tile := (size - 1) / tileWidth
	got, err := st.HashTile(ctx, 0, tile)
	least := tileLen(0, tile, size) * hashSize
	return growing(fmt.Sprintf("HashTile(0, %d)", tile), got, err, tileData(0, tile, tileWidth), int(least))
}

// liveBundle checks the last entry bundle of batch n-1, which may be made
// of chunks, or have just become full.
func (s *Stream) liveBundle(ctx context.Context, st log.Storage, n int) error {
	size := s.Size(n)
	b := (size - 1) / bundleSize
	got, err := st.EntryBundle(ctx, b)
	return growing(fmt.Sprintf("EntryBundle(%d)", b), got, err, s.bundle(b, (b+1)*bundleSize), len(s.bundle(b, size)))
}

// growing checks that got is a prefix of full at least least bytes long.
func growing(call string, got []byte, err error, full []byte, least int) error {
	if err != nil {
		return fmt.Errorf("%s: %w", call, err)
	}
	if len(got) < least || !bytes.HasPrefix(full, got) {
		return fmt.Errorf("%s = %s, want a prefix of %s at least %d bytes long", call, short(got), short(full), least)
	}
	return nil
}

// liveDedup checks the keys of batch n-1, which must all be there, and those
// of batch n, which is being committed: all or none of them.
func (s *Stream) liveDedup(ctx context.Context, st log.Storage, n int) error {
	from, mid, to := s.Size(n-1), s.Size(n), s.Size(n+1)
	var keys [][]byte
	for j := from; j < to; j++ {
		keys = append(keys, dedupKey(j))
	}
	got, err := st.Dedup(ctx, keys)
	if err != nil || len(got) != len(keys) {
		return fmt.Errorf("Dedup(%d keys) = %d results, %v", len(keys), len(got), err)
	}
	next := got[mid-from:]
	for i, r := range got {
		j := from + uint64(i)
		want := log.DedupResult{Index: j, Found: j < mid || next[0].Found}
		if r != want && (r.Found || want.Found) {
			return fmt.Errorf("Dedup(%x) = %+v, want %+v (entry %d of batches %d and %d)", keys[i], r, want, j, n-1, n)
		}
	}
	return nil
}

// liveRows checks that a scan returns rows of a single batch, not older
// than n-1.
func (s *Stream) liveRows(ctx context.Context, st log.Storage, n int) error {
	gens, err := st.Rows(ctx, genTable, nil, nil, 10)
	if err != nil || len(gens) != len(genKeys) {
		return fmt.Errorf("Rows(%q) = %d rows, %v; want %d", genTable, len(gens), err, len(genKeys))
	}
	var g uint64
	if len(gens[0].Value) == 8 {
		g = be64Value(gens[0].Value)
	}
	if g < uint64(n-1) {
		return fmt.Errorf("Rows(%q)[0] = %s, from batch %d, before batch %d", genTable, fmtRow(gens[0]), g, n-1)
	}
	var want []log.Row
	for _, k := range genKeys {
		want = append(want, genRow(k, int(g)))
	}
	return matchRows(fmt.Sprintf("Rows(%q)", genTable), gens, nil, want)
}
