package pebble_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// TestPowerLoss commits a stream of Updates while taking snapshots of the
// file system as a power loss at that moment would leave it: what was synced
// and, at random, half of what was not. Each snapshot must open, hold every
// Update whose Commit had returned, and be consistent.
func TestPowerLoss(t *testing.T) {
	r := crashTest(t, 1, true, 40)
	if r.lost > 0 || r.failed > 0 {
		t.Errorf("%d of %d crashes lost acknowledged Updates, %d failed to recover", r.lost, r.crashes, r.failed)
	}
}

// TestPowerLossWithoutSync shows that TestPowerLoss can fail: with the WAL
// no longer synced, the same test finds acknowledged Updates lost.
func TestPowerLossWithoutSync(t *testing.T) {
	r := crashTest(t, 2, false, 10) // without sync, nearly every crash loses
	if r.lost+r.failed == 0 {
		t.Errorf("%d crashes without syncing lost nothing: the crash test cannot fail", r.crashes)
	}
}

type crashResult struct {
	crashes, lost, failed int
}

func crashTest(t *testing.T, seed uint64, sync bool, rounds int) crashResult {
	fs := vfs.NewCrashableMem()
	st, err := pebble.Create("db", pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !sync {
		pebble.DisableSync(st)
	}
	s := &storagetest.Stream{MaxBatch: 64}
	w := startWriter(t, st, s)
	defer w.stop()

	if testing.Short() {
		rounds = (rounds + 2) / 3
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	var r crashResult
	for r.crashes < rounds {
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		r.crash(t, fs, w, s, rng)
	}
	t.Logf("%d crashes during %d batches", r.crashes, w.acked.Load())
	return r
}

// crash takes a snapshot of fs as a power loss now would leave it, and
// recovers the store from it.
func (r *crashResult) crash(t *testing.T, fs *vfs.MemFS, w *writer, s *storagetest.Stream, rng *rand.Rand) {
	acked := int(w.acked.Load())
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng})
	w.mu.Lock() // pause the writer, lest the stream outgrow the checks
	got, err := recoverClone(t.Context(), clone, s)
	w.mu.Unlock()
	r.crashes++
	switch {
	case err != nil:
		r.failed++
		t.Logf("crash %d, after %d acknowledged batches: %v", r.crashes, acked, err)
	case got < acked:
		r.lost++
		t.Logf("crash %d, after %d acknowledged batches: recovered %d", r.crashes, acked, got)
	}
}

// recoverClone opens the store left on fs by a crash, and returns how many
// batches of s it holds, having checked that it holds exactly those and
// takes the next one.
func recoverClone(ctx context.Context, fs vfs.FS, s *storagetest.Stream) (int, error) {
	st, err := pebble.Open("db", pebble.Options{FS: fs})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	n, err := s.Batches(ctx, st)
	if err != nil {
		return 0, err
	}
	if err := s.Check(ctx, st, n); err != nil {
		return n, err
	}
	if err := st.Commit(ctx, s.Update(n)); err != nil {
		return n, fmt.Errorf("Commit(batch %d) after recovery: %w", n, err)
	}
	return n, s.Check(ctx, st, n+1)
}

// maxBatches bounds the stream a writer commits, and so the time each
// recovery takes to check it.
const maxBatches = 1000

// A writer commits batches of a stream until stopped.
type writer struct {
	mu    sync.Mutex   // held by each Commit
	acked atomic.Int64 // batches whose Commit returned
	done  chan struct{}
	wg    sync.WaitGroup
}

func startWriter(t *testing.T, st *pebble.Storage, s *storagetest.Stream) *writer {
	w := &writer{done: make(chan struct{})}
	w.wg.Go(func() {
		for i := 0; i < maxBatches; i++ {
			select {
			case <-w.done:
				return
			default:
			}
			w.mu.Lock()
			err := st.Commit(context.Background(), s.Update(i))
			w.mu.Unlock()
			if err != nil {
				t.Errorf("Commit(batch %d) = %v", i, err)
				return
			}
			w.acked.Store(int64(i + 1))
		}
	})
	return w
}

func (w *writer) stop() {
	close(w.done)
	w.wg.Wait()
}
