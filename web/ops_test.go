package web_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/web"
)

// TestAnyOrigin: the public read path, errors included, lets scripts of
// every origin read it; the writes, the metrics and the UI's pages do not.
func TestAnyOrigin(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, tc := range []struct {
		method, path string
		want         string
	}{
		{"GET", "/checkpoint", "*"},
		{"HEAD", "/checkpoint", "*"},
		{"GET", "/tile/0/000.p/1", "*"},
		{"GET", "/tile/entries/000.p/1", "*"},
		{"GET", "/api/v1/log", "*"},
		{"GET", "/api/v1/entries/1", "*"},
		{"GET", "/api/v1/entries/999999", "*"}, // a 404 is readable too
		{"GET", "/api/v1/entries/1/bundle", "*"},
		{"GET", "/api/v1/signatories", "*"},
		{"GET", "/api/v1/search?signatory=none", "*"},
		{"POST", "/api/v1/entries", ""},
		{"GET", "/", ""},
		{"GET", "/signatories", ""},
	} {
		resp, _ := do(t, h.srv, tc.method, tc.path, nil, nil)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s %s (%d): Access-Control-Allow-Origin = %q, want %q", tc.method, tc.path, resp.StatusCode, got, tc.want)
		}
	}
}

// TestAccessLog: at info level every request, API or page, found or not,
// leaves one line with its method, route, path, status, size, duration
// and client; at warn level none.
func TestAccessLog(t *testing.T) {
	var out syncBuffer
	h := newDemoHarness(t, func(c *web.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}, nil)
	get(t, h.srv, "/checkpoint")
	get(t, h.srv, "/api/v1/entries/x")
	get(t, h.srv, "/signatories")
	get(t, h.srv, "/no/such%2Fpage")

	type line struct {
		Msg, Method, Route, Path, Client string
		Status                           int
		Bytes                            int64
		Duration                         int64
	}
	var got []line
	for _, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		if l.Msg == "request" {
			got = append(got, l)
		}
	}
	want := []struct {
		route, path string
		status      int
	}{
		{"/checkpoint", "/checkpoint", 200},
		{"/api/v1/entries/:index", "/api/v1/entries/x", 400},
		{"/signatories", "/signatories", 200},
		{"unmatched", "/no/such%2Fpage", 404},
	}
	if len(got) != len(want) {
		t.Fatalf("access log has %d request lines, want %d:\n%s", len(got), len(want), out.String())
	}
	for i, w := range want {
		g := got[i]
		if g.Method != "GET" || g.Route != w.route || g.Path != w.path || g.Status != w.status ||
			g.Bytes <= 0 || g.Duration <= 0 || g.Client != "127.0.0.1" {
			t.Errorf("access log line %d = %+v, want GET %s %s %d with bytes, duration and client", i, g, w.route, w.path, w.status)
		}
	}

	var quiet syncBuffer
	q := newDemoHarness(t, func(c *web.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}, nil)
	get(t, q.srv, "/checkpoint")
	if strings.Contains(quiet.String(), `"msg":"request"`) {
		t.Errorf("access log at warn level: %s", quiet.String())
	}
}

// TestBuildInfo: the metrics name the build.
func TestBuildInfo(t *testing.T) {
	h := newHarness(t)
	resp, body := get(t, h.srv, "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	if !bytes.Contains(body, []byte(`pledgelog_build_info{goversion="go1.`)) || !bytes.Contains(body, []byte(`version="(devel)"} 1`)) {
		t.Errorf("/metrics lacks pledgelog_build_info with the Go and module version:\n%s", body)
	}
}
