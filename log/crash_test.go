package log_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/verify"
	"golang.org/x/mod/sumdb/tlog"
)

// childEnv names the data directory of a crash-test child: a copy of this
// test binary that appends to the log there until it is killed.
const childEnv = "PLEDGELOG_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild opens (or creates) the log in dir and appends to it from
// eight goroutines until killed, printing "try" before each append and
// "ack <index> <size> <root> <hex entry>" after each acknowledgement.
func crashChild(dir string) error {
	ctx := context.Background()
	st, err := pebble.Create(dir, pebble.Options{})
	if err != nil {
		return err
	}
	cfg := testConfig(st)
	l, err := log.Open(ctx, cfg)
	if errors.Is(err, log.ErrNoLog) {
		l, err = log.Create(ctx, cfg)
	}
	if err != nil {
		return err
	}
	go func() { fmt.Fprintln(os.Stderr, "Run:", l.Run(ctx)); os.Exit(3) }()
	var mu sync.Mutex
	say := func(s string) { mu.Lock(); os.Stdout.WriteString(s); mu.Unlock() }
	nonce := rand.Uint64()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				entry := fmt.Appendf(nil, "%x-%d-%d-%s", nonce, g, i, strings.Repeat("x", rand.IntN(300)))
				say("try\n")
				res, err := l.Append(ctx, entry)
				if err != nil {
					say(fmt.Sprintf("error %v\n", err))
					return
				}
				say(fmt.Sprintf("ack %d %d %s %x\n", res.Index, res.State.Size, res.State.Root, entry))
			}
		})
	}
	wg.Wait()
	return nil
}

// ack is an acknowledged append seen by the parent.
type ack struct {
	index uint64
	entry []byte
}

// TestCrash kills a child appending under concurrent load with SIGKILL,
// again and again, each time with acknowledged and unacknowledged appends
// in flight, and checks after each restart that every acknowledged entry is
// at its index with its exact bytes, that resubmitting it returns that
// index, that the checkpoint verifies and its root is rebuilt from the
// tiles, and that the log is consistent with every checkpoint seen before.
// make test kills 50 times, make chaos (PLEDGELOG_CHAOS=1) 500.
func TestCrash(t *testing.T) {
	kills := 50
	if os.Getenv("PLEDGELOG_CHAOS") != "" {
		kills = 500
	}
	dir := t.TempDir()
	roots := map[uint64]verify.Hash{} // every checkpoint seen
	var acked []ack
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	inFlight := 0
	for round := range kills {
		acks, pending := runChild(t, dir, 1+rng.IntN(150), roots)
		inFlight += pending
		acked = append(acked, acks...)
		checkAfterCrash(t, dir, acked, acks, roots, rng)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
	t.Logf("%d kills; %d appends acknowledged, %d in flight at the kills", kills, len(acked), inFlight)
}

// runChild starts a child on dir, kills it once it has acknowledged want
// appends while others are in flight, and returns the acknowledgements and
// the number of appends in flight at the kill.
func runChild(t *testing.T, dir string, want int, roots map[uint64]verify.Hash) ([]ack, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks []ack
	tries := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch f[0] {
		case "try":
			tries++
		case "ack":
			acks = append(acks, parseAck(t, f, roots))
		default:
			t.Fatalf("child: %s", sc.Text())
		}
		if len(acks) >= want && tries > len(acks) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(acks) < want {
		t.Fatalf("child stopped after %d acknowledgements", len(acks))
	}
	return acks, tries - len(acks)
}

func parseAck(t *testing.T, f []string, roots map[uint64]verify.Hash) ack {
	index, err1 := strconv.ParseUint(f[1], 10, 64)
	size, err2 := strconv.ParseUint(f[2], 10, 64)
	root, err3 := tlog.ParseHash(f[3])
	entry, err4 := hex.DecodeString(f[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatalf("child said %q: %v", f, err)
	}
	if old, ok := roots[size]; ok && old != verify.Hash(root) {
		t.Fatalf("two roots at size %d: %v and %v", size, old, root)
	}
	roots[size] = verify.Hash(root)
	return ack{index, entry}
}

// checkAfterCrash reopens the log in dir and checks it against what the
// children acknowledged: all of this round, a sample of earlier rounds.
func checkAfterCrash(t *testing.T, dir string, acked, round []ack, roots map[uint64]verify.Hash, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := log.Open(ctx, testConfig(st)) // verifies the checkpoint, rebuilds the root
	if err != nil {
		t.Fatalf("reopening after SIGKILL: %v", err)
	}
	size := l.Latest().Size
	hr := tlog.TileHashReader(tlog.Tree{N: int64(size), Hash: tlog.Hash(l.Latest().Root)}, tileReader{l})
	if root, err := tlog.TreeHash(int64(size), hr); err != nil || verify.Hash(root) != l.Latest().Root {
		t.Fatalf("x/mod rebuilds root %v, %v from tiles; checkpoint says %v", root, err, l.Latest().Root)
	}
	for range 50 {
		round = append(round, acked[rng.IntN(len(acked))])
	}
	for _, a := range round {
		if e, err := l.Entry(ctx, a.index); err != nil || !bytes.Equal(e, a.entry) {
			t.Fatalf("acknowledged entry %d = %q, %v; want %q", a.index, e, err, a.entry)
		}
	}
	for s, root := range roots {
		if s > size {
			t.Fatalf("a checkpoint of size %d was acknowledged; the log has %d", s, size)
		}
		p, err := tlog.ProveTree(int64(size), int64(s), hr)
		if err == nil {
			err = tlog.CheckTree(p, int64(size), tlog.Hash(l.Latest().Root), int64(s), tlog.Hash(root))
		}
		if err != nil {
			t.Fatalf("log of size %d is not consistent with the checkpoint seen at %d: %v", size, s, err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	for _, a := range round[:min(len(round), 20)] {
		if res, err := l.Append(ctx, a.entry); err != nil || res.Index != a.index || !res.Duplicate {
			t.Fatalf("resubmitting entry %d = %+v, %v; want its index", a.index, res, err)
		}
	}
}

// tileReader serves x/mod's TileHashReader from the log's tiles.
type tileReader struct{ l *log.Log }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.l.ReadTile(context.Background(), verify.Tile{Level: t.L, N: uint64(t.N), Width: t.W})
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}
