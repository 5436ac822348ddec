package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
)

func TestClient(t *testing.T) {
	var fails atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/log/checkpoint":
			if fails.Add(1) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("checkpoint"))
		case "/log/tile/0/000.p/2":
			w.Write(make([]byte, 32)) // one hash short
		case "/log/tile/entries/000.p/2":
			w.Write([]byte{0, 1, 'a', 0, 1, 'b', 0, 1, 'c'}) // a wider bundle
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL + "/log"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if b, err := c.Checkpoint(ctx); err != nil || string(b) != "checkpoint" || fails.Load() != 3 {
		t.Errorf("Checkpoint = %q, %v after %d tries; want it after 3", b, err, fails.Load())
	}
	if _, err := c.ReadTile(ctx, verify.Tile{Level: 0, N: 0, Width: 2}); !errors.Is(err, verify.ErrShortTile) {
		t.Errorf("ReadTile of a short tile = %v, want %v", err, verify.ErrShortTile)
	}
	if e, err := c.Entries(ctx, 0, 2); err != nil || len(e) != 2 || string(e[1]) != "b" {
		t.Errorf("Entries = %q, %v; want the first two", e, err)
	}
	if _, err := c.ReadTile(ctx, verify.Tile{Level: 1, N: 0, Width: 1}); !errors.Is(err, client.ErrNotFound) || !errors.Is(err, client.ErrFetch) {
		t.Errorf("ReadTile of a missing tile = %v, want %v and %v", err, client.ErrNotFound, client.ErrFetch)
	}
	if _, err := c.IndexHint(ctx, verify.Hash{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("IndexHint = %v, want %v", err, client.ErrNotFound)
	}
	if _, err := client.New(client.Config{URL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "http") {
		t.Errorf("New(ftp://x) = %v", err)
	}
}
