package web_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/web"
)

// TestJTIStore checks that a used jti stays used across a reopen until it
// expires.
func TestJTIStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jti")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := web.OpenJTIStore(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	use := func(s *web.JTIStore, jti string, want bool) {
		t.Helper()
		if got, err := s.Use(jti, now.Add(time.Minute)); err != nil || got != want {
			t.Errorf("Use(%q) at %v = %v, %v; want %v", jti, now, got, err, want)
		}
	}
	use(s, "a", true)
	use(s, "a", false)
	use(s, "has space", false)
	s.Close()
	s, err = web.OpenJTIStore(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	use(s, "a", false)
	use(s, "b", true)
	s.Close()
	now = now.Add(10 * time.Minute)
	s, err = web.OpenJTIStore(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	use(s, "a", true)
}
