package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
