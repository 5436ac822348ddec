package log_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func testConfig(st log.Storage) log.Config {
	s, err := signature.LoadED25519Signer(testKey)
	if err != nil {
		panic(err)
	}
	return log.Config{Origin: "example.com/pledgelog-test", Signer: s, Storage: st}
}

// newLog creates a log on st and returns it with its verifier key.
func newLog(t testing.TB, st log.Storage) (*log.Log, string) {
	t.Helper()
	l, err := log.Create(context.Background(), testConfig(st))
	if err != nil {
		t.Fatal(err)
	}
	return l, l.VerifierKey()
}

// run runs l's sequencer until the test ends.
func run(t testing.TB, l *log.Log) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestCreateOpen(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	if _, err := log.Open(ctx, testConfig(st)); !errors.Is(err, log.ErrNoLog) {
		t.Fatalf("Open(empty) = %v, want ErrNoLog", err)
	}
	l, _ := newLog(t, st)
	if _, err := log.Create(ctx, testConfig(st)); !errors.Is(err, log.ErrExists) {
		t.Fatalf("Create twice = %v, want ErrExists", err)
	}
	run(t, l)
	for i := range 300 {
		if _, err := l.Append(ctx, fmt.Appendf(nil, "e%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	l2, err := log.Open(ctx, testConfig(st))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l2.Latest().Checkpoint, l.Latest().Checkpoint; !bytes.Equal(got, want) {
		t.Fatalf("reopened checkpoint = %s, want %s", got, want)
	}

	other := testConfig(st)
	other.Signer = ed25519Signer(t, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)))
	if _, err := log.Open(ctx, other); !errors.Is(err, log.ErrWrongKey) {
		t.Fatalf("Open(other key) = %v, want ErrWrongKey", err)
	}
	other = testConfig(st)
	other.Origin = "example.com/another"
	if _, err := log.Open(ctx, other); !errors.Is(err, log.ErrWrongKey) {
		t.Fatalf("Open(other origin) = %v, want ErrWrongKey", err)
	}
}

// TestReopenContinues appends across reopenings at sizes inside and at the
// edge of tiles, and checks the log grows as one tree.
func TestReopenContinues(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	l, vkey := newLog(t, st)
	ref := &refTree{}
	v := mustVerifier(t, vkey)
	for _, n := range []int{3, 253, 1, 255, 256, 1, 600} {
		l, err := log.Open(ctx, testConfig(st))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Run(runCtx) }()
		batch := make([][]byte, n)
		for i := range batch {
			batch[i] = fmt.Appendf(nil, "entry %d", len(ref.entries))
			ref.add(batch[i])
		}
		if _, err := l.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		size := int64(len(ref.entries))
		checkCheckpoint(t, l, v, size, ref.root(t, size))
		checkTiles(t, l, ref, size-int64(n), size)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	_ = l
}

func TestOpenCorrupt(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	l, _ := newLog(t, st)
	run(t, l)
	for i := range 40 {
		if _, err := l.Append(ctx, fmt.Appendf(nil, "e%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	cp := l.Latest().Checkpoint
	bad := bytes.Repeat([]byte{0xee}, 40*32)
	if err := st.Commit(ctx, &log.Update{Prev: cp, Checkpoint: cp, Size: 40,
		Tiles: []log.TileWrite{{Level: 0, N: 0, Hashes: bad}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Open(ctx, testConfig(st)); !errors.Is(err, log.ErrCorrupt) {
		t.Fatalf("Open(corrupt tile) = %v, want ErrCorrupt", err)
	}
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	l, _ := newLog(t, st)
	run(t, l)
	a, err := l.Append(ctx, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.AppendBatch(ctx, [][]byte{[]byte("b"), []byte("a"), []byte("b"), []byte("c")})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		index uint64
		dup   bool
	}{{1, false}, {0, true}, {1, true}, {2, false}}
	for i, w := range want {
		if res[i].Index != w.index || res[i].Duplicate != w.dup {
			t.Errorf("result %d = %d/%v, want %d/%v", i, res[i].Index, res[i].Duplicate, w.index, w.dup)
		}
	}
	if a.Index != 0 || a.Duplicate || l.Latest().Size != 3 {
		t.Fatalf("first append = %+v, size %d; want index 0, size 3", a, l.Latest().Size)
	}
	// A batch of only duplicates commits nothing.
	cp := l.Latest().Checkpoint
	r, err := l.Append(ctx, []byte("c"))
	if err != nil || r.Index != 2 || !r.Duplicate || !bytes.Equal(r.State.Checkpoint, cp) {
		t.Fatalf("Append(dup) = %+v, %v; want index 2, unchanged checkpoint", r, err)
	}
	// Concurrent appends of one entry get one index.
	var wg sync.WaitGroup
	idx := make([]uint64, 16)
	for i := range idx {
		wg.Go(func() {
			r, err := l.Append(ctx, []byte("same"))
			if err != nil {
				t.Error(err)
			}
			idx[i] = r.Index
		})
	}
	wg.Wait()
	for i := range idx {
		if idx[i] != 3 {
			t.Fatalf("concurrent duplicate %d got index %d, want 3", i, idx[i])
		}
	}
}

// TestAdmit checks that Admit sees contiguous indexes in order, that a
// rejected AppendBatch is undone all or none, and that Index rows land.
func TestAdmit(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var admitted []uint64 // the hook's state: admitted indexes
	cfg := testConfig(memory.New())
	cfg.Admit = func(_ context.Context, index uint64, e log.Entry) (func(), error) {
		entry := e.Data
		mu.Lock()
		defer mu.Unlock()
		if bytes.HasPrefix(entry, []byte("bad")) {
			return nil, fmt.Errorf("rejected %q", entry)
		}
		if n := len(admitted); n > 0 && index != admitted[n-1]+1 {
			return nil, fmt.Errorf("index %d after %d", index, admitted[n-1])
		}
		admitted = append(admitted, index)
		return func() { admitted = admitted[:len(admitted)-1] }, nil
	}
	cfg.Index = func(index uint64, e log.Entry) []log.Row {
		return []log.Row{{Table: "t", Key: e.Data, Value: fmt.Append(nil, index)}}
	}
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				batch := [][]byte{fmt.Appendf(nil, "ok %d %d a", g, i), fmt.Appendf(nil, "ok %d %d b", g, i)}
				if i%5 == 0 {
					batch = append(batch, fmt.Appendf(nil, "bad %d %d", g, i))
				}
				_, err := l.AppendBatch(ctx, batch)
				if (err != nil) != (i%5 == 0) {
					t.Errorf("AppendBatch(%q) = %v", batch, err)
				}
			}
		})
	}
	wg.Wait()
	if got, want := l.Latest().Size, uint64(8*16*2); got != want || uint64(len(admitted)) != want {
		t.Fatalf("size %d, %d admitted; want %d", got, len(admitted), want)
	}
	rows, err := l.Rows(ctx, "t", nil, nil, 1000)
	if err != nil || len(rows) != int(l.Latest().Size) {
		t.Fatalf("Rows = %d rows, %v; want %d", len(rows), err, l.Latest().Size)
	}
	for _, r := range rows {
		var index uint64
		fmt.Sscan(string(r.Value), &index)
		if e, err := l.Entry(ctx, index); err != nil || !bytes.Equal(e, r.Key) {
			t.Fatalf("row says %q at %d; Entry(%d) = %q, %v", r.Key, index, index, e, err)
		}
	}
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(memory.New())
	cfg.MaxPending = 4
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, make([]byte, verify.MaxEntrySize+1)); !errors.Is(err, log.ErrEntryTooLarge) {
		t.Fatalf("Append(65536 bytes) = %v, want ErrEntryTooLarge", err)
	}
	// Without a running sequencer, appends queue until MaxPending.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.AppendBatch(short, make([][]byte, 4)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued AppendBatch = %v, want DeadlineExceeded", err)
	}
	if _, err := l.Append(ctx, []byte("x")); !errors.Is(err, log.ErrPushback) {
		t.Fatalf("Append beyond MaxPending = %v, want ErrPushback", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- l.Run(runCtx) }()
	for l.Latest().Size == 0 { // the queued batch: four equal entries
		time.Sleep(time.Millisecond)
	}
	if _, err := l.Append(ctx, make([]byte, verify.MaxEntrySize)); err != nil {
		t.Fatalf("Append(65535 bytes) = %v", err)
	}
	stop()
	<-done
	if _, err := l.Append(ctx, []byte("late")); !errors.Is(err, log.ErrStopped) {
		t.Fatalf("Append after Run returned = %v, want ErrStopped", err)
	}
}

func TestReadBeyondSize(t *testing.T) {
	ctx := context.Background()
	l, _ := newLog(t, memory.New())
	run(t, l)
	for i := range 3 {
		if _, err := l.AppendBatch(ctx, [][]byte{fmt.Append(nil, i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tile := range []verify.Tile{
		{Level: 0, N: 0, Width: 4}, {Level: 0, N: 1, Width: 1}, {Level: 1, N: 0, Width: 1},
		{Level: verify.EntriesLevel, N: 0, Width: 256},
	} {
		if _, err := l.ReadTile(ctx, tile); !errors.Is(err, log.ErrBeyondSize) {
			t.Errorf("ReadTile(%s) = %v, want ErrBeyondSize", tile.Path(), err)
		}
	}
	if _, err := l.Entry(ctx, 3); !errors.Is(err, log.ErrBeyondSize) {
		t.Errorf("Entry(3) = %v, want ErrBeyondSize", err)
	}
	if _, err := l.InclusionProof(ctx, 0, 4); !errors.Is(err, log.ErrBeyondSize) {
		t.Errorf("InclusionProof(0, 4) = %v, want ErrBeyondSize", err)
	}
	if p, err := l.InclusionProof(ctx, 1, 2); err != nil || len(p.Hashes) != 1 {
		t.Errorf("InclusionProof(1, 2) = %v, %v; want one hash", p, err)
	}
	if _, err := l.ConsistencyProof(ctx, 1, 2); err != nil {
		t.Errorf("ConsistencyProof(1, 2) = %v", err)
	}
}

func TestPublishInterval(t *testing.T) {
	ctx := context.Background()
	for _, interval := range []time.Duration{time.Hour, 5 * time.Millisecond} {
		cfg := testConfig(memory.New())
		cfg.PublishInterval = interval
		l, err := log.Create(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
		if _, err := l.Append(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for l.Published().Size == 0 && interval < time.Second && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got, want := l.Published().Size, uint64(map[bool]int{true: 0, false: 1}[interval == time.Hour]); got != want {
			t.Errorf("interval %v: published size %d, want %d", interval, got, want)
		}
	}
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// full is a Storage that reports how much free space it has.
type full struct {
	log.Storage
	free atomic.Uint64
}

func (f *full) FreeBytes() (uint64, error) { return f.free.Load(), nil }

// TestDiskFull checks that appends are refused below MinFreeBytes, that
// Refusing says so meanwhile, and that appends resume, without a restart,
// once there is space again.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	st := &full{Storage: memory.New()}
	st.free.Store(100 << 20)
	l, _ := newLog(t, st)
	run(t, l)
	if _, err := l.Append(ctx, []byte("x")); !errors.Is(err, log.ErrDiskFull) {
		t.Fatalf("Append with 100 MiB free = %v, want ErrDiskFull", err)
	}
	if l.Latest().Size != 0 {
		t.Fatalf("size %d after a refused append, want 0", l.Latest().Size)
	}
	if err := l.Refusing(); !errors.Is(err, log.ErrDiskFull) || !strings.Contains(err.Error(), "100 MiB free, 256 MiB required") {
		t.Errorf("Refusing() with 100 MiB free = %v, want ErrDiskFull saying how much", err)
	}
	st.free.Store(300 << 20)
	if err := l.Refusing(); err != nil {
		t.Errorf("Refusing() with 300 MiB free = %v", err)
	}
	if r, err := l.Append(ctx, []byte("x")); err != nil || r.Index != 0 {
		t.Fatalf("Append with 300 MiB free = %+v, %v", r, err)
	}
	st.free.Store(100 << 20)
	cfg := testConfig(st)
	cfg.MinFreeBytes = 10 << 20
	l2, err := log.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l2)
	if r, err := l2.Append(ctx, []byte("y")); err != nil || r.Index != 1 {
		t.Fatalf("Append with 100 MiB free of 10 required = %+v, %v", r, err)
	}
}

// unknownFree is a Storage that cannot tell its free space.
type unknownFree struct{ log.Storage }

func (unknownFree) FreeBytes() (uint64, error) { return 0, errors.New("not supported") }

func TestFreeSpaceUnknown(t *testing.T) {
	l, _ := newLog(t, unknownFree{memory.New()})
	run(t, l)
	if _, err := l.Append(context.Background(), []byte("x")); err != nil {
		t.Fatalf("Append with unknown free space = %v, want it accepted", err)
	}
}

// TestPublishUnderLoad checks that the checkpoint is published, and Run
// stops, while batches are always ready to be sequenced.
func TestPublishUnderLoad(t *testing.T) {
	ctx := context.Background()
	// Slow commits of small batches: the queue never empties.
	cfg := testConfig(slow{memory.New()})
	cfg.PublishInterval, cfg.MaxBatchAge, cfg.MaxBatchSize = 5*time.Millisecond, time.Nanosecond, 4
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	var wg sync.WaitGroup
	quit := make(chan struct{})
	for g := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				l.Append(ctx, fmt.Appendf(nil, "%d-%d", g, i))
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.Published().Size < 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	published := l.Published().Size
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return under load 10 s after its context was cancelled")
	}
	close(quit)
	wg.Wait()
	if published < 100 {
		t.Fatalf("published size %d under load (committed %d), want ≥ 100", published, l.Latest().Size)
	}
}

// slow is a Storage whose commits take a millisecond.
type slow struct{ log.Storage }

func (s slow) Commit(ctx context.Context, u *log.Update) error {
	time.Sleep(time.Millisecond)
	return s.Storage.Commit(ctx, u)
}
