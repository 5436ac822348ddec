package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
)

// flaky is a loopback HTTP server that answers each request with the
// next of its steps ("503", "503 retry-after", "reset", "429", "400",
// "ok") and records the requests' Authorization headers.
type flaky struct {
	mu     sync.Mutex
	steps  []string
	tokens []string
	srv    *httptest.Server
}

func newFlaky(t *testing.T, steps ...string) (*flaky, *Client) {
	f := &flaky{steps: steps}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		i := len(f.tokens)
		f.tokens = append(f.tokens, r.Header.Get("Authorization"))
		step := "ok"
		if i < len(f.steps) {
			step = f.steps[i]
		}
		f.mu.Unlock()
		switch step {
		case "reset":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "503 retry-after":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "429":
			w.WriteHeader(http.StatusTooManyRequests)
		case "400":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"type":"` + api.ProblemBase + `malformed-entry","status":400}`))
		default:
			w.Write([]byte(`{"origin":"example.com/retry","vkey":"k"}`))
		}
	}))
	t.Cleanup(f.srv.Close)
	return f, New(f.srv.URL)
}

func (f *flaky) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

// TestRetryGet checks that a GET is retried after 503s and a reset
// connection, honouring Retry-After, and succeeds.
func TestRetryGet(t *testing.T) {
	f, c := newFlaky(t, "503 retry-after", "reset", "503")
	start := time.Now()
	info, err := c.Log(context.Background())
	if err != nil || info.Origin != "example.com/retry" {
		t.Fatalf("Log = %+v, %v", info, err)
	}
	if n := f.attempts(); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("done in %v: the Retry-After of 1 s was not honoured", d)
	}
}

// TestRetryLimits checks that a 4xx is not retried, that the retries
// end, and that a cancelled context stops the waiting.
func TestRetryLimits(t *testing.T) {
	f, c := newFlaky(t, "400")
	var p *Problem
	if _, err := c.Log(context.Background()); !errors.As(err, &p) || p.Status != 400 {
		t.Errorf("Log after a 400 = %v, want the problem", err)
	}
	if n := f.attempts(); n != 1 {
		t.Errorf("a 400 was tried %d times, want once", n)
	}

	start := time.Now()
	if _, err := New("ftp://" + strings.TrimPrefix(f.srv.URL, "http://")).Log(context.Background()); err == nil || time.Since(start) > 200*time.Millisecond {
		t.Errorf("an unsupported scheme: %v after %v, want an error at once, not retried", err, time.Since(start))
	}

	f, c = newFlaky(t, "503", "429", "503", "503", "503")
	c.Retries = 2
	if _, err := c.Log(context.Background()); !errors.As(err, &p) || p.Status != 503 {
		t.Errorf("Log after 503s = %v, want the last problem", err)
	}
	if n := f.attempts(); n != 3 {
		t.Errorf("%d attempts with 2 retries, want 3", n)
	}

	f, c = newFlaky(t, "503 retry-after", "503 retry-after", "503 retry-after", "503 retry-after")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Log(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Log under a 200 ms context = %v, want its deadline", err)
	}
	if d, n := time.Since(start), f.attempts(); d > 900*time.Millisecond || n != 1 {
		t.Errorf("the context's end stopped the retries after %v and %d attempts, want at once and 1", d, n)
	}
}

// TestRetrySubmit checks that a registrar submission is retried with a
// fresh single-use token each attempt, and stops at a 4xx.
func TestRetrySubmit(t *testing.T) {
	f, c := newFlaky(t, "503", "reset", "400", "ok")
	key, err := NewKeyFrom(ed25519.NewKeyFromSeed(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	info := &LogInfo{Origin: "example.com/retry"}
	var p *Problem
	_, _, _, err = c.Submit(context.Background(), key, attest.RegistrarID, []byte(`{"payload":"x"}`), info, "k")
	if !errors.As(err, &p) || p.Status != 400 {
		t.Fatalf("Submit = %v, want the 400", err)
	}
	if len(f.tokens) != 3 {
		t.Fatalf("%d attempts, want 3 (503, reset, then 400 not retried)", len(f.tokens))
	}
	jtis := map[string]bool{}
	for _, h := range f.tokens {
		tok, _, err := jwt.NewParser().ParseUnverified(strings.TrimPrefix(h, "Bearer "), &claims{})
		if err != nil {
			t.Fatalf("token %q: %v", h, err)
		}
		jtis[tok.Claims.(*claims).ID] = true
	}
	if len(jtis) != 3 {
		t.Errorf("3 attempts carried %d distinct jti, want a fresh token each", len(jtis))
	}
}
