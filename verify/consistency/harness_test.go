package consistency_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
)

const origin = "log.example.org/consistency-test"

// logSeed makes the key of every test log: two logs are two servers of
// one log, which fork as soon as they are given different entries.
var logSeed = bytes.Repeat([]byte{9}, 32)

// testLog is a log, without attestation hooks, served by the real server
// code on loopback.
type testLog struct {
	t   *testing.T
	log *log.Log
	srv *httptest.Server
	url string
}

// newLog serves a log of entries.
func newLog(t *testing.T, entries ...[]byte) *testLog {
	t.Helper()
	signer, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(logSeed))
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{t: t}
	l.log, err = log.Create(context.Background(), log.Config{Origin: origin, Signer: signer, Storage: memory.New(), PublishInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.log.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	w, err := web.New(web.Config{Log: l.log})
	if err != nil {
		t.Fatal(err)
	}
	l.srv = httptest.NewServer(w.Handler())
	t.Cleanup(l.srv.Close)
	l.url = l.srv.URL
	l.append(entries...)
	return l
}

// append logs entries and waits until they are published.
func (l *testLog) append(entries ...[]byte) {
	l.t.Helper()
	if len(entries) == 0 {
		return
	}
	if _, err := l.log.AppendBatch(context.Background(), entries); err != nil {
		l.t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); l.log.Published().Size != l.log.Latest().Size; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			l.t.Fatal("checkpoint not published")
		}
	}
}

// checkpoint returns the checkpoint the log serves.
func (l *testLog) checkpoint() []byte {
	l.t.Helper()
	resp, err := http.Get(l.url + "/checkpoint")
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// entries returns n distinct entries, named by prefix, from index from.
func entries(prefix string, from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%s entry %d", prefix, from+i)
	}
	return out
}

// proxy serves upstream's answers through handle, which answers itself
// and returns true for the requests it takes over.
func proxy(t *testing.T, upstream string, handle func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !handle(w, r) {
			http.Redirect(w, r, upstream+r.URL.RequestURI(), http.StatusFound)
		}
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// stale serves note as the checkpoint and the rest from upstream: a cache
// behind the log.
func stale(t *testing.T, upstream string, note []byte) string {
	return proxy(t, upstream, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/checkpoint" {
			return false
		}
		w.Write(note)
		return true
	})
}

// status answers code for the hash tiles.
func status(t *testing.T, upstream string, code int) string {
	return proxy(t, upstream, func(w http.ResponseWriter, r *http.Request) bool {
		if !isHashTile(r.URL.Path) {
			return false
		}
		http.Error(w, http.StatusText(code), code)
		return true
	})
}

// tamper serves the hash tiles with f applied.
func tamper(t *testing.T, upstream string, f func([]byte) []byte) string {
	return proxy(t, upstream, func(w http.ResponseWriter, r *http.Request) bool {
		if !isHashTile(r.URL.Path) {
			return false
		}
		resp, err := http.Get(upstream + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return true
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.WriteHeader(resp.StatusCode)
		w.Write(f(b))
		return true
	})
}

// pruned answers 404 for a partial hash tile whose full tile the upstream
// serves, as c2sp.org/tlog-tiles lets a log do, and counts them.
func pruned(t *testing.T, upstream string, count *atomic.Int32) string {
	return proxy(t, upstream, func(w http.ResponseWriter, r *http.Request) bool {
		tile, err := verify.ParseTilePath(r.URL.Path[1:])
		if err != nil || tile.Level < 0 || tile.Width == verify.TileWidth {
			return false
		}
		tile.Width = verify.TileWidth
		resp, err := http.Get(upstream + "/" + tile.Path())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return true
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		count.Add(1)
		http.NotFound(w, r)
		return true
	})
}

func isHashTile(path string) bool {
	t, err := verify.ParseTilePath(path[min(1, len(path)):])
	return err == nil && t.Level >= 0
}
