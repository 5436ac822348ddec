package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
	"github.com/pledgelog/pledgelog/verify"
)

// testLogger logs at Info into the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

const multiOrigin = "example.com/pledgelog-multi"

var multiKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))

// instance is one Log on a shared schema, as a serve process would run
// it: its own Storage (pool, lease, listener), its own Run.
type instance struct {
	name   string
	st     *countingStorage
	l      *log.Log
	cancel context.CancelFunc
	done   chan error
	// next is the index the caller's state (Admit and Follow) expects
	// next; out is set when a hook saw an index out of order.
	next atomic.Uint64
	out  atomic.Value
	// lie makes the instance's checkpoints carry an extension line its
	// entries do not build.
	lie atomic.Bool
}

// countingStorage records when each successful commit started.
type countingStorage struct {
	*postgres.Storage
	mu      sync.Mutex
	commits []time.Time // start of each commit that returned nil
}

func (s *countingStorage) Commit(ctx context.Context, u *log.Update) error {
	start := time.Now()
	err := s.Storage.Commit(ctx, u)
	if err == nil && !bytes.Equal(u.Prev, u.Checkpoint) {
		s.mu.Lock()
		s.commits = append(s.commits, start)
		s.mu.Unlock()
	}
	return err
}

// commitsSince counts the commits that started at or after t.
func (s *countingStorage) commitsSince(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.commits {
		if !c.Before(t) {
			n++
		}
	}
	return n
}

func multiConfig(st log.Storage, in *instance) log.Config {
	s, err := signature.LoadED25519Signer(multiKey)
	if err != nil {
		panic(err)
	}
	check := func(what string, index uint64) {
		if want := in.next.Load(); index != want {
			in.out.CompareAndSwap(nil, fmt.Sprintf("%s(%d), want index %d", what, index, want))
		}
		in.next.Store(index + 1)
	}
	return log.Config{
		Origin: multiOrigin, Signer: s, Storage: st, MaxBatchAge: time.Millisecond,
		PublishInterval: 50 * time.Millisecond,
		Admit: func(_ context.Context, index uint64, _ log.Entry) (func(), error) {
			check("Admit", index)
			return func() { in.next.Store(index) }, nil
		},
		Follow: func(_ context.Context, index uint64, _ log.Entry) error {
			check("Follow", index)
			return nil
		},
		// A line that is a function of the entries (here: of their
		// number), which followers recompute for every checkpoint.
		Extensions: func(_ context.Context, size uint64) ([]string, error) {
			if in.lie.Load() {
				size++
			}
			return []string{fmt.Sprintf("test/entries %d", size)}, nil
		},
	}
}

// startInstances creates a log in a new schema and runs n instances of it.
func startInstances(t *testing.T, n int) []*instance {
	schema := newSchema(t)
	{
		st := open(t, schema)
		in := &instance{}
		if _, err := log.Create(t.Context(), multiConfig(st, in)); err != nil {
			t.Fatal(err)
		}
	}
	var ins []*instance
	for i := range n {
		name := fmt.Sprintf("instance %d", i)
		st, err := postgres.Open(t.Context(), dsn(t), postgres.Options{Schema: schema, LeaseRetry: 250 * time.Millisecond, Logger: testLogger(t).With("instance", name)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		in := &instance{name: name, st: &countingStorage{Storage: st}, done: make(chan error, 1)}
		cfg := multiConfig(in.st, in)
		cfg.Logger = testLogger(t).With("instance", name)
		l, err := log.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		in.l = l
		ctx, cancel := context.WithCancel(context.Background())
		in.cancel = cancel
		go func() { in.done <- l.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-l.Done()
		})
		ins = append(ins, in)
	}
	return ins
}

// leader waits for one instance of ins to lead and returns it.
func leader(t *testing.T, ins []*instance, except *instance) *instance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, in := range ins {
			if in != except && in.l.Leading() {
				return in
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no instance leads after 10s")
	return nil
}

// load appends through random instances of ins until stop is closed, and
// records every acknowledged entry with its index.
type load struct {
	mu    sync.Mutex
	acked map[uint64][]byte // index → entry
	times []time.Time       // of every acknowledgement, in order
	fails atomic.Int64
}

func runLoad(ctx context.Context, ins func() []*instance, workers int) *load {
	ld := &load{acked: map[uint64][]byte{}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				live := ins()
				in := live[rand.IntN(len(live))]
				entries := make([][]byte, 1+rand.IntN(4))
				for k := range entries {
					entries[k] = fmt.Appendf(nil, "worker %d request %d entry %d %x", w, i, k, rand.Uint64())
				}
				actx, cancel := context.WithTimeout(ctx, 30*time.Second)
				res, err := in.l.AppendBatch(actx, entries)
				cancel()
				if err != nil {
					ld.fails.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				ld.mu.Lock()
				for k, r := range res {
					ld.acked[r.Index] = entries[k]
				}
				ld.times = append(ld.times, time.Now())
				ld.mu.Unlock()
			}
		})
	}
	go func() { wg.Wait() }()
	return ld
}

// gap returns the longest time without an acknowledgement since t.
func (ld *load) gap(t time.Time) time.Duration {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	var gap time.Duration
	prev := t
	for _, at := range ld.times {
		if at.After(prev) {
			gap = max(gap, at.Sub(prev))
			prev = at
		}
	}
	return max(gap, time.Since(prev))
}

// ackedCount returns the entries acknowledged so far.
func (ld *load) ackedCount() int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return len(ld.acked)
}

// waitAcks waits until n more entries than now are acknowledged.
func (ld *load) waitAcks(t *testing.T, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	want := ld.ackedCount() + n
	for ld.ackedCount() < want {
		if time.Since(start) > within {
			t.Fatalf("fewer than %d entries acknowledged within %v (%d failed appends)", n, within, ld.fails.Load())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// checkLog checks, through l, that every acknowledged entry is at its
// index, and that every checkpoint the log ever committed is consistent
// with the latest.
func checkLog(t *testing.T, l *log.Log, ld *load) {
	t.Helper()
	ctx := t.Context()
	ld.mu.Lock()
	acked := make(map[uint64][]byte, len(ld.acked))
	for k, v := range ld.acked {
		acked[k] = v
	}
	ld.mu.Unlock()
	latest := l.Latest()
	for idx, want := range acked {
		got, err := l.Entry(ctx, idx)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("acknowledged entry %d: Entry() = %q, %v; want %q", idx, got, err, want)
		}
	}
	cps, err := l.Checkpoints(ctx, math.MaxUint64, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, signed := range cps {
		c, _, err := verify.OpenCheckpoint(signed, multiOrigin, []verify.Verifier{v}, nil, 0)
		if err != nil {
			t.Fatalf("stored checkpoint does not verify: %v", err)
		}
		if c.Size == 0 || c.Size > latest.Size {
			continue
		}
		p, err := l.ConsistencyProof(ctx, c.Size, latest.Size)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d) = %v", c.Size, latest.Size, err)
		}
		if err := verify.Consistency(c.Size, latest.Size, p.Hashes, c.Root, latest.Root); err != nil {
			t.Fatalf("checkpoint %d is not consistent with %d: %v", c.Size, latest.Size, err)
		}
		checked++
	}
	t.Logf("%d acknowledged entries at their indexes; %d checkpoints consistent with the latest (size %d)", len(acked), checked, latest.Size)
}

// TestSequencersRace runs two Logs on one schema that both sequence, as
// two instances would without the lease (the storage hidden behind an
// interface without the Shared methods): both append at once, and the
// compare-and-swap of Commit must refuse every batch of the one that
// loses, whose Run then stops with ErrConflict, and the log must not fork.
func TestSequencersRace(t *testing.T) {
	schema := newSchema(t)
	if _, err := log.Create(t.Context(), multiConfig(open(t, schema), &instance{})); err != nil {
		t.Fatal(err)
	}
	rounds := 20
	if testing.Short() {
		rounds = 8
	}
	for round := range rounds {
		ctx, cancel := context.WithCancel(t.Context())
		var ls [2]*log.Log
		var sts [2]*postgres.Storage
		var errs [2]chan error
		for k := range 2 {
			st := open(t, schema)
			l, err := log.Open(t.Context(), multiConfig(plain{st}, &instance{}))
			if err != nil {
				t.Fatal(err)
			}
			ls[k], errs[k] = l, make(chan error, 1)
			go func() { errs[k] <- l.Run(ctx) }()
			sts[k] = st
		}
		var wg sync.WaitGroup
		var acked [2]atomic.Int64
		for k := range 2 {
			for w := range 4 {
				wg.Go(func() {
					_, err := ls[k].Append(t.Context(), fmt.Appendf(nil, "round %d log %d writer %d", round, k, w))
					if err == nil {
						acked[k].Add(1)
					}
				})
			}
		}
		wg.Wait()
		// One of the two lost a race (its Run stopped with ErrConflict),
		// or both won in turn: never both at one size.
		stopped := 0
		for k := range 2 {
			select {
			case err := <-errs[k]:
				if !errors.Is(err, log.ErrConflict) {
					t.Fatalf("round %d: log %d stopped with %v, want ErrConflict", round, k, err)
				}
				stopped++
			case <-time.After(100 * time.Millisecond):
			}
		}
		cancel()
		for k := range 2 {
			<-ls[k].Done()
			sts[k].Close()
		}
		if stopped != 1 {
			t.Fatalf("round %d: %d sequencers stopped with ErrConflict, want 1 (the loser)", round, stopped)
		}
		if acked[0].Load()+acked[1].Load() == 0 {
			t.Fatalf("round %d: nothing acknowledged", round)
		}
	}
	l, err := log.Open(t.Context(), multiConfig(plain{open(t, schema)}, &instance{}))
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, l, &load{acked: map[uint64][]byte{}})
}

// plain hides the Shared methods of a Storage: a Log over it sequences
// alone, without the lease.
type plain struct{ log.Storage }

// TestInstanceFailover runs three instances of a log on one schema under
// load, and takes the leader away twice: once by cutting its lease
// connection on the server (pg_terminate_backend), which must stop it
// from committing anything more while another instance takes over, and
// once by stopping it, with its connections closed. Appends resume each
// time (the gap is printed), every acknowledged entry is in the log, and
// every checkpoint is consistent with the last.
func TestInstanceFailover(t *testing.T) {
	ins := startInstances(t, 3)
	var liveMu sync.Mutex
	live := append([]*instance(nil), ins...)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	ld := runLoad(ctx, func() []*instance {
		liveMu.Lock()
		defer liveMu.Unlock()
		return live
	}, 8)
	ld.waitAcks(t, 200, 30*time.Second)

	// Cut the leader's lease connection.
	cut := leader(t, ins, nil)
	pid := postgres.LeasePID(cut.st.Storage)
	terminate(t, pid)
	cutAt := time.Now()
	next := leader(t, ins, cut)
	ld.waitAcks(t, 200, 30*time.Second)
	t.Logf("lease of %s cut: %s leads; write gap %v (longest time without an acknowledgement since the cut)", cut.name, next.name, ld.gap(cutAt))
	if n := cut.st.commitsSince(cutAt); n != 0 {
		t.Errorf("%s committed %d batches after its lease connection was cut", cut.name, n)
	}
	if cut.l.Leading() {
		t.Errorf("%s still leads after its lease connection was cut", cut.name)
	}

	// Stop the new leader, as a process that exits: its appends fail,
	// its connections close, and the lease moves to another.
	liveMu.Lock()
	for i, in := range live {
		if in == next {
			live = append(live[:i:i], live[i+1:]...)
		}
	}
	liveMu.Unlock()
	stoppedAt := time.Now()
	t.Logf("stopping %s", next.name)
	next.cancel()
	<-next.l.Done()
	t.Logf("stopped %s", next.name)
	next.st.Close()
	third := leader(t, ins, next)
	ld.waitAcks(t, 200, 30*time.Second)
	t.Logf("%s stopped: %s leads; write gap %v", next.name, third.name, ld.gap(stoppedAt))
	stop()
	time.Sleep(100 * time.Millisecond)
	for _, in := range ins {
		if o := in.out.Load(); o != nil {
			t.Errorf("%s: hooks called out of order: %s", in.name, o)
		}
	}
	checkLog(t, third.l, ld)
}

// TestFollowerChecksExtensions: an instance following the log recomputes
// the extension lines of every checkpoint another instance signed, and
// stops (ErrCorrupt) when the leader signs lines its entries do not
// build, rather than serve or sign on from that state.
func TestFollowerChecksExtensions(t *testing.T) {
	ins := startInstances(t, 2)
	lead := leader(t, ins, nil)
	follower := ins[0]
	if follower == lead {
		follower = ins[1]
	}
	if _, err := lead.l.AppendBatch(t.Context(), [][]byte{[]byte("honest")}); err != nil {
		t.Fatal(err)
	}
	lead.lie.Store(true)
	if _, err := lead.l.AppendBatch(t.Context(), [][]byte{[]byte("lying")}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-follower.done:
		if !errors.Is(err, log.ErrCorrupt) || !strings.Contains(err.Error(), "extension lines") {
			t.Fatalf("the follower's Run = %v, want ErrCorrupt about extension lines", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not stop within 10s of a checkpoint with a wrong extension line")
	}
}
