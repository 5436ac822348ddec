package log_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
	"github.com/pledgelog/pledgelog/log/storage/memory"
)

// admitted is the caller's state of an Admit hook: the entries admitted and
// not undone, by index. After any storage failure it must hold exactly the
// committed entries.
type admitted struct {
	mu      sync.Mutex
	entries map[uint64]string
}

func (a *admitted) admit(_ context.Context, index uint64, e log.Entry) (func(), error) {
	entry := e.Data
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.entries[index]; ok {
		return nil, fmt.Errorf("index %d admitted twice (%q, then %q)", index, old, entry)
	}
	a.entries[index] = string(entry)
	return func() { a.mu.Lock(); delete(a.entries, index); a.mu.Unlock() }, nil
}

// check fails unless the admitted entries are exactly l's committed ones.
func (a *admitted) check(t *testing.T, l *log.Log) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	size := l.Latest().Size
	if uint64(len(a.entries)) != size {
		t.Fatalf("%d entries admitted, %d committed", len(a.entries), size)
	}
	for i := range size {
		e, err := l.Entry(context.Background(), i)
		if err != nil || string(e) != a.entries[i] {
			t.Fatalf("entry %d = %q, %v; admitted %q", i, e, err, a.entries[i])
		}
	}
}

func faultyLog(t *testing.T) (*log.Log, *faulty.Storage, *memory.Storage, *admitted) {
	t.Helper()
	inner := memory.New()
	st := faulty.New(inner)
	a := &admitted{entries: map[uint64]string{}}
	cfg := testConfig(st)
	cfg.Admit = a.admit
	l, err := log.Create(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	return l, st, inner, a
}

// appendUntil appends e until it succeeds or 5 s passed.
func appendUntil(t *testing.T, l *log.Log, e []byte) log.Result {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		res, err := l.Append(context.Background(), e)
		if err == nil {
			return res
		}
		if !errors.Is(err, log.ErrStorage) || time.Now().After(deadline) {
			t.Fatalf("Append(%q) after healing = %v", e, err)
		}
	}
}

// TestCommitFaults fails commits in each way a storage can, with reads
// working and failing, and checks that the appender learns ErrStorage or
// success as what was stored says, that the caller's admitted state is
// exactly the committed entries, and that the log resumes by itself once
// storage heals.
func TestCommitFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		fault   faulty.CommitFault
		down    bool // reads fail too, from the failed commit on
		wantErr bool // the failed append's answer
		stored  bool // whether its entry is stored
	}{
		{"refused", faulty.Before, false, true, false},
		{"landed", faulty.After, false, false, true},
		{"refused, reads failing", faulty.Before, true, true, false},
		{"landed, reads failing", faulty.After, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, st, _, a := faultyLog(t)
			if _, err := l.Append(ctx, []byte("before")); err != nil {
				t.Fatal(err)
			}
			st.FailCommits(tc.fault, 0, tc.down)
			res, err := l.Append(ctx, []byte("faulted"))
			if gotErr := err != nil; gotErr != tc.wantErr || (gotErr && !errors.Is(err, log.ErrStorage)) {
				t.Fatalf("Append during the fault = %+v, %v; want an error: %v (ErrStorage)", res, err, tc.wantErr)
			}
			if tc.down {
				// The sequencer waits for storage: appends fail fast.
				start := time.Now()
				if _, err := l.Append(ctx, []byte("refused")); !errors.Is(err, log.ErrStorage) {
					t.Fatalf("Append while storage is down = %v, want ErrStorage", err)
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("refused append took %v", d)
				}
			}
			st.Heal()
			res = appendUntil(t, l, []byte("faulted"))
			if res.Duplicate != tc.stored || res.Index != 1 {
				t.Errorf("resubmitted: index %d, duplicate %v; want 1, %v", res.Index, res.Duplicate, tc.stored)
			}
			res = appendUntil(t, l, []byte("after"))
			if res.Index != 2 {
				t.Errorf("next entry at %d, want 2", res.Index)
			}
			a.check(t, l)
			if s := st.Stats(); s.Injected == 0 {
				t.Errorf("no fault injected: %+v", s)
			}
		})
	}
}

// TestStorageFaultsUnderLoad appends from eight goroutines while commits
// and reads fail at random, in bursts, and checks that every acknowledged
// entry is at its index, that the admitted state is the committed one, and
// that the storage underneath opens as a valid log.
func TestStorageFaultsUnderLoad(t *testing.T) {
	ctx := context.Background()
	l, st, inner, a := faultyLog(t)
	rounds := 40
	if testing.Short() {
		rounds = 15
	}
	var mu sync.Mutex
	acked := map[uint64][]byte{}
	refused := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := fmt.Appendf(nil, "g%d-%d", g, i)
				res, err := l.Append(ctx, e)
				mu.Lock()
				switch {
				case err == nil && !res.Duplicate:
					acked[res.Index] = e
				case errors.Is(err, log.ErrStorage):
					refused++
				case err != nil:
					t.Errorf("Append = %v, want nil or ErrStorage", err)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range rounds {
		time.Sleep(10 * time.Millisecond)
		injected := st.Stats().Injected
		st.FailCommits(faulty.CommitFault(1+rng.IntN(2)), 1+rng.IntN(3), rng.IntN(2) == 0)
		for deadline := time.Now().Add(5 * time.Second); st.Stats().Injected == injected; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no commit for 5 s after %d faults", injected)
			}
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		st.Heal()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	res := appendUntil(t, l, []byte("last"))
	s := st.Stats()
	if s.Injected < int64(rounds) || len(acked) == 0 {
		t.Fatalf("%d commit faults, %d acknowledged: the test tested little", s.Injected, len(acked))
	}
	for idx, e := range acked {
		if got, err := l.Entry(ctx, idx); err != nil || !bytes.Equal(got, e) {
			t.Fatalf("acknowledged entry %d = %q, %v; want %q", idx, got, err, e)
		}
	}
	a.check(t, l)
	reopened, err := log.Open(ctx, testConfig(inner)) // verifies the checkpoint, rebuilds the root
	if err != nil {
		t.Fatal(err)
	}
	if reopened.Latest().Size != res.Index+1 {
		t.Fatalf("stored size %d, want %d", reopened.Latest().Size, res.Index+1)
	}
	t.Logf("%d commits, %d commit faults (%d landed), %d read faults; %d acknowledged, %d refused with ErrStorage, 0 lost",
		s.Commits, s.Injected, s.Landed, s.Reads, len(acked), refused)
}

// TestRefusingWhileStorageDown checks that Refusing reports ErrStorage
// while the sequencer waits for failed storage to answer, and nil once it
// took appends again by itself.
func TestRefusingWhileStorageDown(t *testing.T) {
	l, st, _, _ := faultyLog(t)
	if err := l.Refusing(); err != nil {
		t.Fatalf("Refusing() on a healthy log = %v", err)
	}
	st.FailCommits(faulty.Before, 0, true)
	if _, err := l.Append(context.Background(), []byte("refused")); !errors.Is(err, log.ErrStorage) {
		t.Fatalf("Append while storage fails = %v, want ErrStorage", err)
	}
	if err := l.Refusing(); !errors.Is(err, log.ErrStorage) {
		t.Errorf("Refusing() while storage is down = %v, want ErrStorage", err)
	}
	st.Heal()
	for deadline := time.Now().Add(5 * time.Second); l.Refusing() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Refusing() 5 s after healing = %v", l.Refusing())
		}
	}
	appendUntil(t, l, []byte("after healing"))
}

// TestStopWhileStorageDown checks that Run returns when its context is
// cancelled while it waits for failed storage to answer: a server must be
// able to shut down on a dead disk.
func TestStopWhileStorageDown(t *testing.T) {
	st := faulty.New(memory.New())
	l, err := log.Create(context.Background(), testConfig(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	st.FailCommits(faulty.Before, 0, true)
	if _, err := l.Append(context.Background(), []byte("refused")); !errors.Is(err, log.ErrStorage) {
		t.Fatalf("Append while storage fails = %v, want ErrStorage", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		st.Heal() // let Run go, or the test binary hangs
		t.Fatal("Run did not return 5 s after its context was cancelled, storage down")
	}
	st.Heal()
	if _, err := l.Append(context.Background(), []byte("after stop")); !errors.Is(err, log.ErrStopped) {
		t.Errorf("Append after Run returned = %v, want ErrStopped", err)
	}
}
