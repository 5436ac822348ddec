package consistency_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
	"github.com/pledgelog/pledgelog/verify/consistency"
)

// checker runs Check against one saved checkpoint.
type checker struct {
	t    *testing.T
	key  verify.Verifier
	path string
}

func newChecker(t *testing.T, l *testLog) *checker {
	t.Helper()
	key, err := verify.NewVerifier(l.log.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	return &checker{t: t, key: key, path: filepath.Join(t.TempDir(), "log.checkpoint")}
}

func (c *checker) check(url string) (*consistency.Result, error) {
	c.t.Helper()
	cl, err := client.New(client.Config{URL: url, Retries: -1, Timeout: 5 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	return consistency.Check(c.t.Context(), consistency.Config{Client: cl, Path: c.path, Open: func(note []byte) (verify.Checkpoint, error) {
		cp, _, err := verify.OpenCheckpoint(note, origin, []verify.Verifier{c.key}, nil, 0)
		return cp, err
	}})
}

// saved returns the saved checkpoint, nil if there is none.
func (c *checker) saved() []byte {
	b, err := os.ReadFile(c.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		c.t.Fatal(err)
	}
	return b
}

func (c *checker) evidenceFiles() []string {
	files, err := filepath.Glob(c.path + ".evidence-*.json")
	if err != nil {
		c.t.Fatal(err)
	}
	return files
}

// want checks that url's checkpoint is proven, with status, from size
// previous to size, and that only a larger one is saved.
func (c *checker) want(url string, status consistency.Status, previous, size uint64) {
	c.t.Helper()
	before := c.saved()
	res, err := c.check(url)
	if err != nil || res.Status != status || res.Previous != previous || res.Size != size || res.URL != url+"/" {
		c.t.Fatalf("Check(%s) = %+v, %v; want %s from %d to %d", url, res, err, status, previous, size)
	}
	if got, saves := c.saved(), status == consistency.FirstUse || status == consistency.Grew; saves && !strings.Contains(string(got), "\n"+itoa(size)+"\n") ||
		!saves && !bytes.Equal(got, before) {
		c.t.Errorf("Check(%s), %s: saved %q", url, status, got)
	}
}

// alarm checks that url's checkpoint raises an alarm of kind, with its
// evidence saved and the saved checkpoint kept.
func (c *checker) alarm(url string, kind consistency.Kind, previous, size uint64) {
	c.t.Helper()
	before, files := c.saved(), len(c.evidenceFiles())
	_, err := c.check(url)
	var e *consistency.SplitViewError
	if !errors.As(err, &e) || !errors.Is(err, consistency.ErrSplitView) || errors.Is(err, client.ErrFetch) ||
		e.Evidence.Kind != kind || e.Previous != previous || e.Size != size {
		c.t.Fatalf("Check(%s) = %v; want a %s alarm from %d to %d", url, err, kind, previous, size)
	}
	if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), e.File) {
		c.t.Errorf("alarm %q does not name the URL %s and the evidence file", err, url)
	}
	if got := c.saved(); !bytes.Equal(got, before) {
		c.t.Errorf("an alarm replaced the saved checkpoint with %q", got)
	}
	if n := len(c.evidenceFiles()); n != files+1 {
		c.t.Errorf("%d evidence files after an alarm, want %d", n, files+1)
	}
	ev := readEvidence(c.t, e.File)
	if ev.URL != url+"/" || ev.Kind != kind || ev.Previous != string(before) || !strings.Contains(ev.Latest, "\n"+itoa(size)+"\n") ||
		ev.Error == "" || !ev.Time.Equal(e.Evidence.Time) || time.Since(ev.Time) > time.Minute {
		c.t.Errorf("evidence %s = %+v", e.File, ev)
	}
}

// fetchFails checks that url fails as the network does: no alarm, no
// evidence, the saved checkpoint kept.
func (c *checker) fetchFails(url string) {
	c.t.Helper()
	before, files := c.saved(), len(c.evidenceFiles())
	_, err := c.check(url)
	if !errors.Is(err, client.ErrFetch) || errors.Is(err, consistency.ErrSplitView) {
		c.t.Fatalf("Check(%s) = %v; want a fetch failure", url, err)
	}
	if got, n := c.saved(), len(c.evidenceFiles()); !bytes.Equal(got, before) || n != files {
		c.t.Errorf("a fetch failure saved %q and left %d evidence files, want %d", got, n, files)
	}
}

func readEvidence(t *testing.T, file string) consistency.Evidence {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ev consistency.Evidence
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("evidence %s: %v", file, err)
	}
	return ev
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestCheck walks the state machine of the package comment with real
// servers of one log: a log as it grows, a cache behind it, a copy of its
// history that lacks its last entries, forks of it smaller, as large and
// larger, and servers that withhold, tamper with or fail to serve its
// tiles.
func TestCheck(t *testing.T) {
	a := newLog(t, entries("a", 0, 10)...)
	copy10 := newLog(t, entries("a", 0, 10)...)
	fork := newLog(t, entries("a", 0, 10)...)
	c := newChecker(t, a)
	note10 := a.checkpoint()
	c.want(a.url, consistency.FirstUse, 0, 10)
	c.want(a.url, consistency.Unchanged, 10, 10)
	a.append(entries("a", 10, 10)...)
	c.want(a.url, consistency.Grew, 10, 20)
	c.want(stale(t, a.url, note10), consistency.Behind, 20, 10)

	c.alarm(copy10.url, consistency.KindMissingTiles, 20, 10) // a prefix, but the server cannot prove it
	fork.append(entries("b", 10, 5)...)
	c.alarm(fork.url, consistency.KindMissingTiles, 20, 15) // issue 12: the smaller fork
	fork.append(entries("b", 15, 5)...)
	c.alarm(fork.url, consistency.KindTwoRoots, 20, 20)
	fork.append(entries("b", 20, 5)...)
	c.alarm(fork.url, consistency.KindInconsistent, 20, 25)

	a.append(entries("a", 20, 5)...)
	c.alarm(status(t, a.url, 404), consistency.KindMissingTiles, 20, 25) // withheld
	c.alarm(tamper(t, a.url, func(b []byte) []byte { b[0] ^= 1; return b }), consistency.KindInconsistent, 20, 25)
	c.alarm(tamper(t, a.url, func(b []byte) []byte { return b[:len(b)-1] }), consistency.KindInconsistent, 20, 25)
	c.fetchFails(status(t, a.url, 503))
	c.fetchFails(status(t, a.url, 429))
	down := newLog(t)
	down.srv.Close()
	c.fetchFails(down.url)
	c.want(a.url, consistency.Grew, 20, 25)
}

// TestPrunedPartialTile proves a cache behind the log consistent with
// the tiles of a log that has deleted the partial tiles of the saved
// tree, which c2sp.org/tlog-tiles allows once the full tile is served:
// Check reads the full tile instead.
func TestPrunedPartialTile(t *testing.T) {
	a := newLog(t, entries("a", 0, 200)...)
	note200 := a.checkpoint()
	a.append(entries("a", 200, 100)...)
	c := newChecker(t, a)
	c.want(a.url, consistency.FirstUse, 0, 300)
	a.append(entries("a", 300, 300)...)
	var count atomic.Int32
	c.want(stale(t, pruned(t, a.url, &count), note200), consistency.Behind, 300, 200)
	if count.Load() == 0 {
		t.Errorf("no partial tile was pruned: the test proves nothing")
	}
}

// TestState checks a saved checkpoint that cannot be used: nothing is
// fetched or saved, and no alarm raised.
func TestState(t *testing.T) {
	a := newLog(t, entries("a", 0, 10)...)
	c := newChecker(t, a)
	for _, tc := range []struct {
		name  string
		saved []byte
	}{
		{"garbage", []byte("not a checkpoint\n")},
		{"another key", []byte("log.example.org/consistency-test\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— log.example.org/consistency-test AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")},
		{"too large", bytes.Repeat([]byte{'a'}, 1<<17)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(c.path, tc.saved, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := c.check(a.url)
			if !errors.Is(err, consistency.ErrState) || errors.Is(err, consistency.ErrSplitView) {
				t.Errorf("Check with a saved %s = %v, want %v", tc.name, err, consistency.ErrState)
			}
			if got := c.saved(); !bytes.Equal(got, tc.saved) {
				t.Errorf("Check replaced the unusable saved checkpoint")
			}
		})
	}
}

// TestUnverified checks that a checkpoint the pinned key did not sign is
// neither saved nor an alarm.
func TestUnverified(t *testing.T) {
	a := newLog(t, entries("a", 0, 10)...)
	c := newChecker(t, a)
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	other, err := verify.NewVerifier(verify.Ed25519VerifierKey(origin, pub))
	if err != nil {
		t.Fatal(err)
	}
	c.key = other
	if _, err := c.check(a.url); err == nil || errors.Is(err, consistency.ErrSplitView) || !strings.Contains(err.Error(), a.url) {
		t.Errorf("Check of a checkpoint signed by another key = %v, want an error naming %s", err, a.url)
	}
	if c.saved() != nil || len(c.evidenceFiles()) != 0 {
		t.Errorf("Check saved a checkpoint it could not verify")
	}
}
