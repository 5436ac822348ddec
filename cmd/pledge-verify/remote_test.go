package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInclusion(t *testing.T) {
	s := newServer(t, "inclusion test")
	leaf := writeFile(t, "entry.json", s.demo.Entries[40])
	trust := s.trust()
	for _, tc := range []struct {
		name string
		url  string
		args []string
		code int
		want []string
	}{
		{"index", s.url, []string{"--index", "40"}, 0, []string{"entry 40 included", "proven from the tiles"}},
		{"last", s.url, []string{"--index", "171"}, 0, []string{"entry 171 included"}},
		{"entry", s.url, []string{"--entry", leaf}, 0, []string{"entry 40 included", "a hint checked against the tiles"}},
		{"entry without API", proxy(t, s, "/api/", func([]byte) []byte { return []byte("{}") }), []string{"--entry", leaf}, 0,
			[]string{"entry 40 included", "scanning the entry bundles"}},
		{"beyond", s.url, []string{"--index", "172"}, 1, []string{"beyond the checkpoint's size"}},
		{"flipped hash tile", proxy(t, s, "/tile/0/", flipAt(100)), []string{"--index", "40"}, 1, []string{"entry 40: proof leads to root"}},
		{"flipped entry", proxy(t, s, "/tile/entries/", flipAt(200)), []string{"--index", "0"}, 1, []string{"entry 0"}},
		{"flipped checkpoint", proxy(t, s, "/checkpoint", flipAt(40)), []string{"--index", "0"}, 1, []string{"checkpoint"}},
		{"lying API", proxy(t, s, "/api/", func([]byte) []byte { return []byte(`{"index":41}`) }), []string{"--entry", leaf}, 1,
			[]string{"entry 41 in the tiles is not the entry given"}},
		{"no server", "http://127.0.0.1:1", []string{"--index", "0"}, 2, []string{"fetch failed"}},
		{"no selector", s.url, nil, 2, []string{"--index"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, tc.code, tc.want, append(append([]string{"inclusion", "--url", tc.url}, tc.args...), trust...)...)
		})
	}
}

// TestConsistency follows a log as it grows, sees a stale copy of it, and
// then a fork: two servers from one log's history and key, each then given
// different entries.
func TestConsistency(t *testing.T) {
	s := newServer(t, "consistency test")
	behind := newServer(t, "consistency test")
	fork := newServer(t, "consistency test")
	dir := t.TempDir()
	run := func(url string, code int, want_ ...string) {
		t.Helper()
		want(t, code, want_, append([]string{"consistency", "--url", url, "--state", dir}, s.trust()...)...)
	}
	run(s.url, 0, "first use: trusting", "size 172")
	run(s.url, 0, "still at size 172")
	s.append(s.pledge("microsoft", 0))
	run(proxyStatus(t, s, "/tile/", http.StatusNotFound), 2, "not proven, the tiles could not be fetched")
	run(s.url, 0, "grew from 172 to 173")
	run(behind.url, 0, "warning", "behind the 173 verified before")
	fork.append(fork.pledge("cisco", 0))
	run(fork.url, 1, "split view", "two roots for size 173", "evidence in")
	s.append(s.pledge("microsoft", 1))
	fork.append(fork.pledge("cisco", 1), fork.pledge("cisco", 2))
	run(fork.url, 1, "split view", "evidence in")
	run(s.url, 0, "grew from 173 to 174")
	files, _ := filepath.Glob(filepath.Join(dir, "*.evidence-*.json"))
	if len(files) != 2 {
		t.Fatalf("%d evidence files, want 2", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var ev evidence
	if err := json.Unmarshal(b, &ev); err != nil || !strings.Contains(ev.Previous, "\n173\n") || !strings.Contains(ev.Latest, "\n173\n") || ev.Previous == ev.Latest {
		t.Errorf("evidence %s: %v", b, err)
	}
}

// TestRefreshTampered refreshes a bundle through a server whose tiles or
// checkpoint are tampered with: the refresh fails and leaves the file.
func TestRefreshTampered(t *testing.T) {
	s := newServer(t, "refresh test")
	b := s.submit("microsoft", s.pledge("microsoft", 1))
	s.append(s.pledge("cisco", 0), s.pledge("cisco", 1))
	for _, tc := range []struct{ name, prefix, want string }{
		{"hash tile", "/tile/0/", "consistency"},
		{"checkpoint", "/checkpoint", "checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, "b.json", b)
			want(t, 1, []string{tc.want}, append([]string{"bundle", file, "--refresh", proxy(t, s, tc.prefix, flipAt(40))}, s.trust()...)...)
			if got, _ := os.ReadFile(file); string(got) != string(b) {
				t.Errorf("a failed refresh changed the bundle")
			}
		})
	}
}
