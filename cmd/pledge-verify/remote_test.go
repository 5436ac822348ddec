package main

import (
	"os"
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
