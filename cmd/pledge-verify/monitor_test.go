package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify/monitor"
)

func events(t *testing.T, out string) []monitor.Event {
	t.Helper()
	var evs []monitor.Event
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var e monitor.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("monitor line %q: %v", l, err)
		}
		evs = append(evs, e)
	}
	return evs
}

func summary(evs []monitor.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type+":"+e.Signatory+":"+e.Principle)
	}
	return strings.Join(s, " ")
}

func TestMonitor(t *testing.T) {
	s := newServer(t, "monitor test")
	fork := newServer(t, "monitor test")
	dir := t.TempDir()
	execOut := filepath.Join(t.TempDir(), "events")
	mon := func(url string, code int) []monitor.Event {
		t.Helper()
		args := append([]string{"monitor", "--url", url, "--state", dir, "--signatory", "microsoft", "--once", "--exec", "cat >> " + execOut}, s.trust()...)
		return events(t, want(t, code, nil, args...))
	}
	first := summary(mon(s.url, 0))
	if want := "register:microsoft: pledge:microsoft:stronger-defense pledge:microsoft:no-offense pledge:microsoft:capacity-building pledge:microsoft:collective-action"; first != want {
		t.Errorf("first poll: %s\nwant %s", first, want)
	}
	if evs := mon(s.url, 0); len(evs) != 0 {
		t.Errorf("second poll without news: %v", evs)
	}
	s.append(s.pledge("cisco", 0), s.pledge("microsoft", 2), s.revoke("cisco", 172))
	news := mon(s.url, 0)
	if got := summary(news); got != "pledge:microsoft:capacity-building" || news[0].Index != 173 || news[0].Status != "progress" {
		t.Errorf("third poll: %+v", news)
	}
	s.recoverAndRotate("cisco")
	if got := summary(mon(s.url, 0)); got != "recover:cisco: registrar-rotate::" {
		t.Errorf("poll after a recover of another signatory and a rotation: %s", got)
	}
	for i := range 8 {
		fork.append(fork.pledge("microsoft", i%4))
	}
	if got := summary(mon(fork.url, 1)); got != "inconsistency::" {
		t.Errorf("poll of a fork: %s", got)
	}
	b, err := os.ReadFile(execOut)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(events(t, string(b))); got != first+" pledge:microsoft:capacity-building recover:cisco: registrar-rotate:: inconsistency::" {
		t.Errorf("--exec saw %s", got)
	}
}

// TestMonitorSmaller: a checkpoint smaller than the one followed so far
// must be proven a prefix of it from the serving log's tiles. A cache
// that is behind passes; a smaller fork, which the monitor used to skip
// without a word, is an inconsistency.
func TestMonitorSmaller(t *testing.T) {
	s := newServer(t, "monitor test")
	old := bytes.Clone(s.log.Published().Checkpoint)
	s.append(s.pledge("microsoft", 1), s.pledge("microsoft", 2))
	dir := t.TempDir()
	mon := func(url string, code int) []monitor.Event {
		t.Helper()
		args := append([]string{"monitor", "--url", url, "--state", dir, "--signatory", "microsoft", "--once"}, s.trust()...)
		return events(t, want(t, code, nil, args...))
	}
	mon(s.url, 0)
	behind := proxy(t, s, "/checkpoint", func([]byte) []byte { return old })
	if evs := mon(behind, 0); len(evs) != 0 {
		t.Errorf("poll of a cache that is behind: %v, want no events", evs)
	}
	fork := newServer(t, "monitor test")
	fork.append(fork.pledge("cisco", 3))
	if got := summary(mon(fork.url, 1)); got != "inconsistency::" {
		t.Errorf("poll of a smaller fork: %s, want an inconsistency", got)
	}
	if evs := mon(s.url, 0); len(evs) != 0 {
		t.Errorf("poll of the real log after the fork: %v, want no events and the state kept", evs)
	}
}

func TestMonitorAll(t *testing.T) {
	s := newServer(t, "monitor test")
	s.append(s.revoke("cisco", 100))
	evs := events(t, want(t, 0, nil, append([]string{"monitor", "--url", s.url, "--state", t.TempDir(), "--once", "--json"}, s.trust()...)...))
	last := evs[len(evs)-1]
	if len(evs) != 34+136+1 || last.Type != "revoke-key" || last.Signatory != "cisco" || last.Reason != "compromised" {
		t.Errorf("%d events, last %+v", len(evs), last)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"bundle"}, "want 1 argument"},
		{[]string{"bundle", "/nonexistent", "--log-key", "x"}, "malformed verifier key"},
		{[]string{"consistency", "--log-key", "x"}, "--url is required"},
		{[]string{"audit", "--url", "ftp://x", "--log-key", "example.com+00000000+AaxMR"}, "malformed verifier key"},
		{[]string{"inclusion", "--url", "http://127.0.0.1:1", "--index", "0", "--policy", "/nonexistent"}, "no such file"},
	} {
		want(t, 2, []string{tc.want}, tc.args...)
	}
}

// TestMonitorPerSignatory: each signatory has its own state, so that
// watching another one with the same state directory reports its whole
// history (it used to start where the first one had got to, silently
// skipping it), and watching both reports each one's news once.
func TestMonitorPerSignatory(t *testing.T) {
	s := newServer(t, "monitor test")
	dir := t.TempDir()
	mon := func(signatories ...string) string {
		t.Helper()
		args := append([]string{"monitor", "--url", s.url, "--state", dir, "--once"}, s.trust()...)
		for _, id := range signatories {
			args = append(args, "--signatory", id)
		}
		return summary(events(t, want(t, 0, nil, args...)))
	}
	history := func(id string) string {
		return "register:" + id + ": pledge:" + id + ":stronger-defense pledge:" + id + ":no-offense pledge:" + id + ":capacity-building pledge:" + id + ":collective-action"
	}
	if got := mon("microsoft"); got != history("microsoft") {
		t.Errorf("microsoft's first poll: %s", got)
	}
	if got := mon("cisco"); got != history("cisco") {
		t.Errorf("cisco's first poll, after microsoft's: %s\nwant %s", got, history("cisco"))
	}
	s.append(s.pledge("cisco", 1), s.pledge("microsoft", 2))
	if got := mon("microsoft", "cisco"); got != "pledge:cisco:no-offense pledge:microsoft:capacity-building" {
		t.Errorf("poll of both: %s", got)
	}
	s.append(s.pledge("nokia", 3))
	if got := mon("cisco", "nokia", "microsoft"); got != history("nokia")+" pledge:nokia:collective-action" {
		t.Errorf("poll of three, nokia new: %s", got)
	}
	if got := mon("cisco", "nokia", "microsoft"); got != "" {
		t.Errorf("poll of three without news: %s", got)
	}
}

// TestMonitorUnknownSignatory: a --signatory the log has not registered
// is a usage error (exit status 2) that names it, and saves nothing.
func TestMonitorUnknownSignatory(t *testing.T) {
	s := newServer(t, "monitor test")
	dir := t.TempDir()
	args := append([]string{"monitor", "--url", s.url, "--state", dir, "--once", "--signatory", "microsoft", "--signatory", "nosuch"}, s.trust()...)
	if out := want(t, 2, []string{"--signatory nosuch", "no such signatory"}, args...); out != "" {
		t.Errorf("events printed before the error: %s", out)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("state saved: %v", files)
	}
	// In follow mode too: an unknown signatory is not retried.
	args = append([]string{"monitor", "--url", s.url, "--state", dir, "--interval", "1ms", "--signatory", "nosuch"}, s.trust()...)
	want(t, 2, []string{"no such signatory"}, args...)
}

// TestMonitorRetries: in follow mode a poll that fails (here the log's
// checkpoint answers 503 for the first three polls, four requests each
// with the client's own retries) is retried with a backoff that
// stderr tells of, instead of ending the monitor.
func TestMonitorRetries(t *testing.T) {
	s := newServer(t, "monitor test")
	var failures atomic.Int32
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/checkpoint" && failures.Add(1) <= 3*4 {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, s.url+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(p.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang guard, not a pass condition
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"monitor", "--url", p.URL, "--state", t.TempDir(),
		"--interval", "20ms", "--signatory", "microsoft"}, s.trust()...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var evs []monitor.Event
	sc := bufio.NewScanner(stdout)
	for len(evs) < 5 && sc.Scan() {
		evs = append(evs, events(t, sc.Text())...)
	}
	cmd.Process.Signal(os.Interrupt)
	werr := cmd.Wait()
	if got := summary(evs); got != "register:microsoft: pledge:microsoft:stronger-defense pledge:microsoft:no-offense pledge:microsoft:capacity-building pledge:microsoft:collective-action" {
		t.Errorf("events after three failed polls: %s (monitor ended: %v)\nstderr: %s", got, werr, stderr.String())
	}
	for _, w := range []string{"poll failed (1 in a row)", "503", "retrying in 20ms", "retrying in 40ms", "retrying in 80ms", "poll succeeded after 3 failed"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	if werr != nil {
		t.Errorf("monitor stopped by SIGINT: %v, want exit status 0", werr)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		n        int
		want     time.Duration
	}{
		{10 * time.Second, 1, 10 * time.Second},
		{10 * time.Second, 2, 20 * time.Second},
		{10 * time.Second, 5, 160 * time.Second},
		{10 * time.Second, 6, 5 * time.Minute},
		{10 * time.Second, 1000, 5 * time.Minute},
		{time.Hour, 3, time.Hour},
	} {
		if got := backoff(tc.interval, tc.n); got != tc.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", tc.interval, tc.n, got, tc.want)
		}
	}
}
