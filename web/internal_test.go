package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crypto/ed25519"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
)

// failingStorage loses its entry bundles and hash tiles on demand.
type failingStorage struct {
	*memory.Storage
	fail atomic.Pointer[error]
}

func (s *failingStorage) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	if err := s.fail.Load(); err != nil {
		return nil, *err
	}
	return s.Storage.EntryBundle(ctx, n)
}

func (s *failingStorage) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	if err := s.fail.Load(); err != nil {
		return nil, *err
	}
	return s.Storage.HashTile(ctx, level, n)
}

// TestInternalErrors checks that storage failures log the error and show
// none of it: a failed read is a 503 storage-unavailable (it may succeed
// when retried), and a missing tile or bundle of the committed tree a 500,
// even though it wraps a sentinel that would otherwise be a 404.
func TestInternalErrors(t *testing.T) {
	st := &failingStorage{Storage: memory.New()}
	signer, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := log.Create(context.Background(), log.Config{Origin: testOrigin, Signer: signer, Storage: st, PublishInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	appendTo(t, l, []uint64{10})
	waitPublished(t, l, 10)
	var logs syncBuffer
	srv := serve(t, web.Config{Log: l, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	for _, tc := range []struct {
		fail   error
		status int
		slug   string
	}{
		{errors.New("disk on fire at /secret/path"), http.StatusServiceUnavailable, "storage-unavailable"},
		{fmt.Errorf("gone at /secret/path: %w", log.ErrNotFound), http.StatusInternalServerError, "internal"},
	} {
		st.fail.Store(&tc.fail)
		for _, path := range []string{"/tile/entries/000.p/10", "/api/v1/entries/3"} {
			resp, body := get(t, srv, path)
			wantProblem(t, path, resp, body, tc.status, tc.slug)
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "gone") {
				t.Errorf("GET %s with failing storage leaks: %s", path, body)
			}
		}
		if !strings.Contains(logs.String(), "/secret/path") {
			t.Errorf("the failure was not logged: %s", logs.String())
		}
		// The newest hash tiles are kept in memory by the log, so they,
		// and the proofs made of them, are served while storage fails.
		resp, body := get(t, srv, "/tile/0/000.p/10")
		if resp.StatusCode != http.StatusOK || len(body) != 10*32 {
			t.Errorf("GET /tile/0/000.p/10 with failing storage = %d, %d bytes; want 200 and the 320 bytes kept in memory", resp.StatusCode, len(body))
		}
		resp, body = get(t, srv, "/api/v1/proof/inclusion?index=3")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hashes"`) {
			t.Errorf("GET /api/v1/proof/inclusion?index=3 with failing storage = %d %s; want a proof from the tiles in memory", resp.StatusCode, body)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
