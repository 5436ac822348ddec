package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// evidenceFile is an evidence file as docs/auditing.md specifies it.
type evidenceFile struct {
	Time     time.Time `json:"time"`
	URL      string    `json:"url"`
	Previous string    `json:"previous"`
	Latest   string    `json:"latest"`
	Kind     string    `json:"kind"`
	Proof    []string  `json:"proof"`
	Error    string    `json:"error"`
}

// readEvidence returns the evidence files in dir, oldest first.
func readEvidence(t *testing.T, dir string) []evidenceFile {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.evidence-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []evidenceFile
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev evidenceFile
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("evidence %s: %v", f, err)
		}
		out = append(out, ev)
	}
	return out
}

// readCheckpoint returns the one saved checkpoint in dir.
func readCheckpoint(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.checkpoint"))
	if len(files) != 1 {
		t.Fatalf("%d saved checkpoints, want 1", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkEvidence checks that ev holds the two checkpoints, of the sizes
// given, the URL that served the latest, and what failed.
func checkEvidence(t *testing.T, ev evidenceFile, url, kind string, previous, latest string) {
	t.Helper()
	if strings.TrimSuffix(ev.URL, "/") != url || ev.Kind != kind || !strings.Contains(ev.Previous, "\n"+previous+"\n") ||
		!strings.Contains(ev.Latest, "\n"+latest+"\n") || ev.Error == "" || time.Since(ev.Time) > time.Hour {
		t.Errorf("evidence = %+v; want %s from %s, sizes %s then %s", ev, kind, url, previous, latest)
	}
}

// TestConsistency follows a log as it grows, sees it through a cache
// behind it, then through servers that cannot prove their trees
// consistent with it: a copy of its history that lacks its last entry, a
// proxy that withholds its tiles, and forks (two servers from one log's
// history and key, each then given different entries).
func TestConsistency(t *testing.T) {
	s := newServer(t, "consistency test")
	copy172 := newServer(t, "consistency test")
	fork := newServer(t, "consistency test")
	dir := t.TempDir()
	run := func(url string, code int, want_ ...string) {
		t.Helper()
		want(t, code, want_, append([]string{"consistency", "--url", url, "--state", dir}, s.trust()...)...)
	}
	run(s.url, 0, "first use: trusting", "size 172")
	run(s.url, 0, "still at size 172")
	stale := staleProxy(t, s) // serves the checkpoint of size 172 from now on
	s.append(s.pledge("microsoft", 0))
	unavailable := proxyStatus(t, s, "/tile/", http.StatusServiceUnavailable)
	run(unavailable, 2, "not proven, the tiles could not be fetched", "503")
	withheld := proxyStatus(t, s, "/tile/", http.StatusNotFound)
	run(withheld, 1, "split view", withheld, "size 173", "tile", "evidence in")
	if got := readCheckpoint(t, dir); !strings.Contains(got, "\n172\n") {
		t.Errorf("after an alarm the saved checkpoint is %q, want the one of size 172", got)
	}
	run(s.url, 0, "grew from 172 to 173")
	run(stale, 0, "warning", "behind the 173 verified before", "consistent")
	run(copy172.url, 1, "split view", copy172.url, "size 172", "173", "evidence in")
	fork.append(fork.pledge("cisco", 0))
	run(fork.url, 1, "split view", "two roots for size 173", "evidence in")
	s.append(s.pledge("microsoft", 1))
	fork.append(fork.pledge("cisco", 1), fork.pledge("cisco", 2))
	run(fork.url, 1, "split view", "evidence in")
	run(s.url, 0, "grew from 173 to 174")
	evs := readEvidence(t, dir)
	if len(evs) != 4 {
		t.Fatalf("%d evidence files, want 4", len(evs))
	}
	checkEvidence(t, evs[0], withheld, "missing-tiles", "172", "173")
	checkEvidence(t, evs[1], copy172.url, "missing-tiles", "173", "172")
	checkEvidence(t, evs[2], fork.url, "two-roots", "173", "173")
	checkEvidence(t, evs[3], fork.url, "inconsistent", "173", "175")
}

// staleProxy serves the checkpoint s serves now, forever, and the rest
// from s: a cache behind the log.
func staleProxy(t *testing.T, s *testServer) string {
	t.Helper()
	resp, err := http.Get(s.url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	note, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/checkpoint" {
			w.Write(note)
			return
		}
		http.Redirect(w, r, s.url+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// TestRealSplitView is the case of issue 12 with the real binaries: two
// servers from copies of one data directory, each then given other
// entries, the second ending two entries short of the first (235 and
// 237). A verifier that saw 237 must raise an alarm when the second serves
// 235: that server cannot prove its tree a prefix of 237, and it is not
// one. A larger tree whose tiles a proxy withholds is an alarm too; a
// stopped server is a network error that changes nothing.
func TestRealSplitView(t *testing.T) {
	const seed = "real split view test"
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(pledgelog, "init", "--demo", "--demo-seed", seed, "--data", data, "--origin", origin).CombinedOutput()
	if err != nil {
		t.Fatalf("pledgelog init: %v: %s", err, out)
	}
	copyDir(t, data, data+"-copy")
	a, b := startPledgelog(t, data, seed), startPledgelog(t, data+"-copy", seed)
	a.submitBatch("microsoft", a.pledges("microsoft", 65)...)
	b.submitBatch("cisco", b.pledges("cisco", 63)...)
	dir := t.TempDir()
	cons := func(url string, code int, want_ ...string) {
		t.Helper()
		want(t, code, want_, append([]string{"consistency", "--url", url, "--state", dir}, a.trust()...)...)
	}
	cons(a.url, 0, "first use", "size 237")
	saved := readCheckpoint(t, dir)
	cons(b.url, 1, "split view", b.url, "size 235", "237", "evidence in")
	cons(b.url, 1, "split view", b.url) // on every run
	if got := readCheckpoint(t, dir); got != saved {
		t.Errorf("the alarm replaced the saved checkpoint with %q", got)
	}

	a.submit("microsoft", a.pledge("microsoft", 0))
	withheld := proxyStatus(t, a, "/tile/", http.StatusNotFound)
	cons(withheld, 1, "split view", withheld, "size 238", "evidence in")
	evs := readEvidence(t, dir)
	if len(evs) != 3 {
		t.Fatalf("%d evidence files, want 3", len(evs))
	}
	checkEvidence(t, evs[0], b.url, "missing-tiles", "237", "235")
	checkEvidence(t, evs[2], withheld, "missing-tiles", "237", "238")

	a.stop()
	cons(a.url, 2, "fetch failed")
	if got := readCheckpoint(t, dir); got != saved {
		t.Errorf("a network error replaced the saved checkpoint with %q", got)
	}
	if evs := readEvidence(t, dir); len(evs) != 3 {
		t.Errorf("a network error saved evidence: %d files, want 3", len(evs))
	}
}
