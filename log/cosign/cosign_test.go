package cosign_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/cosign"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/policy"
	"github.com/pledgelog/pledgelog/verify/witness"
	"github.com/sigstore/sigstore/pkg/signature"
)

const origin = "example.com/cosign-test"

var logKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))

// testWitness is a real witness (verify/witness) on a fixed loopback
// address, which can be stopped and started again on its state.
type testWitness struct {
	t     *testing.T
	key   *witness.Key
	pol   *policy.Policy
	dir   string
	addr  string
	srv   *http.Server
	vkey  string
	index int
}

func newWitness(t *testing.T, i int, typ byte, pol *policy.Policy) *testWitness {
	k, err := witness.GenerateKey(fmt.Sprintf("witness.example/w%d", i), typ)
	if err != nil {
		t.Fatal(err)
	}
	w := &testWitness{t: t, key: k, pol: pol, dir: t.TempDir(), vkey: k.VerifierKey(), index: i}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = ln.Addr().String()
	w.serve(ln)
	t.Cleanup(w.stop)
	return w
}

func (w *testWitness) start() {
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	w.serve(ln)
}

func (w *testWitness) serve(ln net.Listener) {
	h, err := witness.New(witness.Config{Key: w.key, Policy: w.pol, StateDir: w.dir, Rate: 1000, Burst: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	w.srv = &http.Server{Handler: h}
	go w.srv.Serve(ln)
}

// stop stops the witness and waits for its requests in flight, which may
// be writing its state: Close alone returns before they end, and the test's
// cleanup then raced them to remove the state directory.
func (w *testWitness) stop() {
	if w.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if w.srv.Shutdown(ctx) != nil {
			w.srv.Close()
		}
		w.srv = nil
	}
}

// setup makes three witnesses (two Ed25519, one ML-DSA-44) of a policy
// with quorum two, and returns them and the policy with their URLs.
func setup(t *testing.T) ([]*testWitness, *policy.Policy) {
	logOnly, err := policy.Parse([]byte("log " + verify.Ed25519VerifierKey(origin, logKey.Public().(ed25519.PublicKey)) + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	var ws []*testWitness
	text := "log " + verify.Ed25519VerifierKey(origin, logKey.Public().(ed25519.PublicKey)) + "\n"
	for i, typ := range []byte{verify.TypeCosignature, verify.TypeCosignature, verify.TypeMLDSACosignature} {
		w := newWitness(t, i+1, typ, logOnly)
		ws = append(ws, w)
		text += fmt.Sprintf("witness w%d %s http://%s\n", i+1, w.vkey, w.addr)
	}
	p, err := policy.Parse([]byte(text + "group two 2 w1 w2 w3\nquorum two\n"))
	if err != nil {
		t.Fatal(err)
	}
	return ws, p
}

// testLog is a witnessed log on memory storage, with its collector.
type testLog struct {
	t   *testing.T
	log *log.Log
	col *cosign.Collector
	pol *policy.Policy
}

func newTestLog(t *testing.T, pol *policy.Policy, entries ...string) *testLog {
	s, err := signature.LoadED25519Signer(logKey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := log.Create(context.Background(), log.Config{Origin: origin, Signer: s, Storage: memory.New(), Witnessed: true})
	if err != nil {
		t.Fatal(err)
	}
	tl := &testLog{t: t, log: l, pol: pol}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	tl.add(entries...)
	return tl
}

func (tl *testLog) add(entries ...string) {
	for _, e := range entries {
		if _, err := tl.log.Append(context.Background(), []byte(e)); err != nil {
			tl.t.Fatal(err)
		}
	}
}

// collect starts the collector; Start's error is returned.
func (tl *testLog) collect(staleness time.Duration) error {
	var ws []cosign.Witness
	for _, w := range tl.pol.Witnesses() {
		ws = append(ws, cosign.Witness{Name: w.Name, Key: w.Key, URL: w.URL})
	}
	c, err := cosign.New(cosign.Config{Log: tl.log, Witnesses: ws, Met: tl.pol.Met, Interval: 10 * time.Millisecond,
		MaxStaleness: staleness, MaxBackoff: 50 * time.Millisecond, StateFile: tl.t.TempDir() + "/cosigned"})
	if err != nil {
		tl.t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		return err
	}
	tl.col = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	tl.t.Cleanup(func() { cancel(); <-done })
	return nil
}

// waitPublished waits up to 10s for the published checkpoint to reach the
// latest size, and checks it meets the policy with verify.OpenCosigned.
func (tl *testLog) waitPublished() *verify.Note {
	tl.t.Helper()
	want := tl.log.Latest().Size
	for deadline := time.Now().Add(10 * time.Second); tl.log.Published().Size < want; {
		if time.Now().After(deadline) {
			tl.t.Fatalf("published size %d, want %d after 10s (ready: %v)", tl.log.Published().Size, want, tl.col.Ready(context.Background()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, n, err := verify.OpenCosigned(tl.log.Published().Checkpoint, origin, tl.pol.LogKeys(origin), tl.pol)
	if err != nil {
		tl.t.Fatalf("published checkpoint under the policy: %v", err)
	}
	return n
}

// TestCollect runs the sequence with three real witnesses and a
// quorum of two: publication waits for the quorum, goes on with one
// witness down, stops with two down while appends go on (and Ready says
// why), and resumes when they come back.
func TestCollect(t *testing.T) {
	ws, pol := setup(t)
	tl := newTestLog(t, pol, "a", "b")
	if err := tl.collect(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tl.waitPublished()

	ws[0].stop()
	tl.add("c", "d")
	tl.waitPublished()

	ws[1].stop()
	tl.add("e")
	time.Sleep(600 * time.Millisecond) // twice MaxStaleness
	if p, l := tl.log.Published().Size, tl.log.Latest().Size; p >= l {
		t.Fatalf("published %d of %d entries with one witness of three up", p, l)
	}
	err := tl.col.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no witness quorum") || !strings.Contains(err.Error(), "w1") {
		t.Errorf("Ready with two witnesses down = %v, want a no-quorum error naming w1", err)
	}
	tl.add("f") // appends never wait for witnesses

	ws[0].start()
	ws[1].start()
	tl.waitPublished()
	if err := tl.col.Ready(context.Background()); err != nil {
		t.Errorf("Ready after the witnesses came back: %v", err)
	}
}

// TestFork starts two logs from the same prefix, as two servers started
// from copies of one data directory, and gives them different entries: no
// witness ever cosigns both branches.
func TestFork(t *testing.T) {
	ws, pol := setup(t)
	a := newTestLog(t, pol, "p1", "p2")
	b := newTestLog(t, pol, "p1", "p2")
	if err := a.collect(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.collect(time.Minute); err != nil {
		t.Fatal(err)
	}
	a.waitPublished()
	a.add("only in a")
	a.waitPublished()
	b.add("only in b", "and more in b")
	time.Sleep(500 * time.Millisecond)
	if p := b.log.Published(); p.Size > 2 {
		t.Fatalf("branch b published size %d, cosigned: %s", p.Size, p.Checkpoint)
	}
	sum := sha256.Sum256([]byte(origin))
	want, err := verify.ParseNote(a.log.Latest().Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		resp, err := http.Get("http://" + w.addr + "/" + hex.EncodeToString(sum[:]) + "/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n, err := verify.ParseNote(body); err != nil || !bytes.Equal(n.Text, want.Text) {
			t.Errorf("witness %d holds %q (%v), want branch a's checkpoint %q", w.index, body, err, want.Text)
		}
	}
	// A restart of b is refused: the witnesses hold a's tree.
	b2 := newTestLog(t, pol, "p1", "p2", "only in b", "and more in b")
	if err := b2.collect(time.Minute); !errors.Is(err, cosign.ErrRollback) {
		t.Errorf("Start of the forked branch = %v, want ErrRollback", err)
	}
}

// TestRollback restores a log from an "old backup", a log holding a prefix
// of what the witnesses cosigned: Start refuses it, saying what happened.
func TestRollback(t *testing.T) {
	_, pol := setup(t)
	live := newTestLog(t, pol, "1", "2", "3")
	if err := live.collect(time.Minute); err != nil {
		t.Fatal(err)
	}
	live.add("4", "5")
	live.waitPublished()
	old := newTestLog(t, pol, "1", "2", "3")
	err := old.collect(time.Minute)
	if !errors.Is(err, cosign.ErrRollback) || !strings.Contains(err.Error(), "backup") || !strings.Contains(err.Error(), "size 5") {
		t.Errorf("Start on an old backup = %v, want ErrRollback naming the backup and size 5", err)
	}
}
