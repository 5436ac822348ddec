package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogFormatJSON: serve --log-format json writes one JSON object per
// line to stderr, the access log's among them.
func TestLogFormatJSON(t *testing.T) {
	d, _ := mustInit(t)
	s := startServe(t, d, "--log-format", "json", "--log-level", "info")
	resp, err := http.Get(s.url + "/api/v1/entries/0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.stderr.String(), `"route":"/api/v1/entries/:index"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no access log line for GET /api/v1/entries/0 in:\n%s", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.stop(t)
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
		} else if v["level"] == nil || v["msg"] == nil || v["time"] == nil {
			t.Errorf("log line %q lacks time, level or msg", line)
		}
	}
}

// TestLogFormatBad: an unknown format is a usage error naming the flag.
func TestLogFormatBad(t *testing.T) {
	for _, cmd := range []string{"serve", "init", "reindex", "backup", "demo"} {
		code, _, stderr := pledgelog(t, nil, cmd, "--log-format", "xml")
		if code != 2 || !strings.Contains(stderr, "-log-format") || !strings.Contains(stderr, `"xml" is not text or json`) {
			t.Errorf("%s --log-format xml: exit %d, stderr %q; want 2 naming the flag and the value", cmd, code, stderr)
		}
	}
}

// TestVersion: pledgelog and pledge-verify, built as users build them,
// name themselves and their version on stdout and exit 0.
func TestVersion(t *testing.T) {
	for _, bin := range []string{binary, verifyBinary} {
		for _, arg := range []string{"version", "--version"} {
			out, err := exec.Command(bin, arg).Output()
			name := filepath.Base(bin)
			if err != nil || !strings.HasPrefix(string(out), name+" (devel) ") || !strings.Contains(string(out), " go1.") {
				t.Errorf("%s %s = %q, %v; want %q, the Go version, exit 0", name, arg, out, err, name+" (devel) …")
			}
		}
	}
}
