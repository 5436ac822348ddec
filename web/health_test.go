package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sigstore/sigstore/pkg/signature"
)

func TestHealthz(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := get(t, h.srv, path)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s = %d, Cache-Control %q: %s", path, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
}

// TestReadyzStale checks /readyz fails once committed entries have waited
// for publication longer than MaxStaleness, and recovers when they are
// published.
func TestReadyzStale(t *testing.T) {
	l := newLog(t, nil, time.Hour) // publishes at Create, then not for an hour
	srv := serve(t, web.Config{Log: l, MaxStaleness: 50 * time.Millisecond})
	if resp, body := get(t, srv, "/readyz"); resp.StatusCode != 200 {
		t.Fatalf("GET /readyz on an empty log = %d: %s", resp.StatusCode, body)
	}
	time.Sleep(100 * time.Millisecond)
	if resp, body := get(t, srv, "/readyz"); resp.StatusCode != 200 {
		t.Fatalf("GET /readyz with nothing to publish = %d: %s", resp.StatusCode, body)
	}
	appendTo(t, l, []uint64{3})
	if resp, body := get(t, srv, "/readyz"); resp.StatusCode != 200 {
		t.Fatalf("GET /readyz just after a commit = %d: %s", resp.StatusCode, body)
	}
	time.Sleep(100 * time.Millisecond)
	resp, body := get(t, srv, "/readyz")
	wantProblem(t, "GET /readyz, stale", resp, body, http.StatusServiceUnavailable, "not-ready")
	if !strings.Contains(string(body), "size 3 is committed") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /readyz, stale: %s, Retry-After %q", body, resp.Header.Get("Retry-After"))
	}
	if resp, _ := get(t, srv, "/healthz"); resp.StatusCode != 200 {
		t.Errorf("GET /healthz while not ready = %d", resp.StatusCode)
	}
}

func TestReadyzHook(t *testing.T) {
	l := newLog(t, nil, time.Millisecond)
	srv := serve(t, web.Config{Log: l, Ready: func(context.Context) error {
		return errors.New("free disk space below 1 GiB")
	}})
	resp, body := get(t, srv, "/readyz")
	wantProblem(t, "GET /readyz", resp, body, http.StatusServiceUnavailable, "not-ready")
	if !strings.Contains(string(body), "free disk space below 1 GiB") {
		t.Errorf("GET /readyz = %s, want the hook's reason", body)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	get(t, h.srv, "/checkpoint")
	get(t, h.srv, "/api/v1/entries/1")
	get(t, h.srv, "/api/v1/entries/x")
	get(t, h.srv, "/no/such/route")
	resp, body := get(t, h.srv, "/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`pledgelog_http_requests_total{code="200",method="GET",route="/checkpoint"} 1`,
		`pledgelog_http_requests_total{code="200",method="GET",route="/api/v1/entries/:index"} 1`,
		`pledgelog_http_requests_total{code="400",method="GET",route="/api/v1/entries/:index"} 1`,
		`pledgelog_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`pledgelog_http_request_duration_seconds_count{route="/checkpoint"} 1`,
		`pledgelog_tree_size 600`,
		`pledgelog_published_tree_size 600`,
		`pledgelog_sequencer_batch_entries_count 7`,
		`pledgelog_sequencer_integration_seconds_count 7`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := web.New(web.Config{}); err == nil {
		t.Error("New without a Log succeeded")
	}
	l := newLog(t, nil, time.Millisecond)
	if _, err := web.New(web.Config{Log: l, AdminToken: []byte("x")}); err == nil {
		t.Error("New with an AdminToken and no Backup succeeded")
	}
	reg := prometheus.NewRegistry()
	if _, err := web.New(web.Config{Log: l, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := web.New(web.Config{Log: l, Registerer: reg}); err == nil {
		t.Error("New registering its metrics twice succeeded")
	}
}

// TestReadyzStopped checks /readyz fails once the sequencer stopped, and
// while appends wait longer than MaxStaleness to be sequenced.
func TestReadyzStopped(t *testing.T) {
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := log.Create(context.Background(), log.Config{Origin: testOrigin, Signer: s, Storage: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, web.Config{Log: l, MaxStaleness: 20 * time.Millisecond})
	// Nothing runs the sequencer: an append waits.
	go l.Append(context.Background(), []byte("waiting"))
	time.Sleep(100 * time.Millisecond)
	resp, body := get(t, srv, "/readyz")
	wantProblem(t, "GET /readyz, append waiting", resp, body, http.StatusServiceUnavailable, "not-ready")
	if !strings.Contains(string(body), "waited") {
		t.Errorf("GET /readyz, append waiting: %s", body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, srv, "/readyz")
	wantProblem(t, "GET /readyz, stopped", resp, body, http.StatusServiceUnavailable, "not-ready")
	if !strings.Contains(string(body), "stopped") {
		t.Errorf("GET /readyz, stopped: %s", body)
	}
}
