package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sigstore/sigstore/pkg/signature"
)

const testOrigin = "example.com/pledgelog-web-test"

// batchEnds are the tree sizes the test log commits a checkpoint for: each
// is one AppendBatch. They cross a full tile (256) and reach level 1.
var batchEnds = []uint64{1, 10, 100, 256, 257, 300, 600}

// testEntry is the entry at index i of the test log.
func testEntry(i uint64) []byte { return fmt.Appendf(nil, "entry %d", i) }

// harness is a running log behind a real HTTP server on loopback.
type harness struct {
	log *log.Log
	reg *prometheus.Registry
	srv *httptest.Server
}

// newLog creates a log in memory and runs its sequencer until the test
// ends.
func newLog(t *testing.T, reg prometheus.Registerer, publish time.Duration) *log.Log {
	t.Helper()
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := log.Config{Origin: testOrigin, Signer: s, Storage: memory.New(),
		PublishInterval: publish, Registerer: reg}
	l, err := log.Create(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l
}

// appendTo appends test entries in batches ending at each of ends.
func appendTo(t *testing.T, l *log.Log, ends []uint64) {
	t.Helper()
	size := l.Latest().Size
	for _, end := range ends {
		var batch [][]byte
		for i := size; i < end; i++ {
			batch = append(batch, testEntry(i))
		}
		if _, err := l.AppendBatch(context.Background(), batch); err != nil {
			t.Fatalf("AppendBatch(%d..%d): %v", size, end, err)
		}
		size = end
	}
}

// waitPublished waits until l publishes a checkpoint of size.
func waitPublished(t *testing.T, l *log.Log, size uint64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); l.Published().Size != size; {
		if time.Now().After(deadline) {
			t.Fatalf("published size = %d, want %d", l.Published().Size, size)
		}
		time.Sleep(time.Millisecond)
	}
}

// newHarness serves a log of 600 entries, all published.
func newHarness(t *testing.T) *harness {
	reg := prometheus.NewRegistry()
	l := newLog(t, reg, 5*time.Millisecond)
	appendTo(t, l, batchEnds)
	waitPublished(t, l, batchEnds[len(batchEnds)-1])
	return &harness{log: l, reg: reg, srv: serve(t, web.Config{Log: l, Registerer: reg, Gatherer: reg, ReadLimit: web.Limit{Rate: -1}})}
}

func serve(t *testing.T, cfg web.Config) *httptest.Server {
	t.Helper()
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and returns the response with its body read.
func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	return do(t, srv, http.MethodGet, path, nil, nil)
}

func do(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// getJSON fetches path, wants 200 application/json and decodes into v.
func getJSON(t *testing.T, srv *httptest.Server, path string, v any) *http.Response {
	t.Helper()
	resp, body := get(t, srv, path)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: decoding %s: %v", path, body, err)
	}
	return resp
}

// wantProblem checks that resp is a problem+json of the given status and
// type slug, never cached.
func wantProblem(t *testing.T, what string, resp *http.Response, body []byte, status int, slug string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (%s)", what, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	var p api.Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: decoding problem %s: %v", what, body, err)
	}
	if want := api.ProblemBase + slug; p.Type != want || p.Status != status || p.Title == "" {
		t.Errorf("%s: problem %+v, want type %s, status %d and a title", what, p, want, status)
	}
}
