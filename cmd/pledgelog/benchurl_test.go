package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchURL drives a running serve with bench --url, twice over the
// same log (the second run registers signatories of its own), the
// requests spread over the URL given twice; and refuses --url without a
// registrar key.
func TestBenchURL(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	if code, _, stderr := pledgelog(t, nil, "init", "--demo", "--data", string(d), "--origin", "example.com/bench-url"); code != 0 {
		t.Fatalf("init --demo: %s", stderr)
	}
	s := startServe(t, d, "--ip-rate", "-1", "--signatory-rate", "-1")
	for range 2 {
		code, stdout, stderr := pledgelog(t, nil, "bench", "--json", "--url", s.url+","+s.url+"/", "--registrar-key", d.demoKeyFile(),
			"--entries", "200", "--signatories", "2", "--batch", "8", "--concurrency", "4")
		var rep struct {
			Accepted int            `json:"accepted_entries"`
			Requests int            `json:"requests"`
			Errors   map[string]int `json:"errors_by_status"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
			t.Fatalf("bench --url = %d (%v): %s%s", code, err, stdout, stderr)
		}
		if rep.Accepted != 200 || rep.Requests < 25 || len(rep.Errors) != 0 {
			t.Errorf("bench --url reported %+v, want 200 entries accepted in 25 or more requests", rep)
		}
	}
	for _, args := range [][]string{
		{"bench", "--url", s.url},
		{"bench", "--url", "ftp://x", "--registrar-key", d.demoKeyFile()},
		{"bench", "--url", s.url, "--registrar-key", d.demoKeyFile(), "--raw"},
	} {
		if code, _, stderr := pledgelog(t, nil, args...); code != 2 || !strings.Contains(stderr, "--url") {
			t.Errorf("pledgelog %q = %d, %q; want 2 and a message naming --url", args, code, stderr)
		}
	}
}
