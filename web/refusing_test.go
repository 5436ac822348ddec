package web_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
)

// freeSpace is a Storage that reports the free space the test sets, as a
// driver on a real disk does (the Pebble driver's FreeBytes); the
// full-disk test of the real server on a real small file system is
// cmd/pledgelog's TestDiskFull.
type freeSpace struct {
	log.Storage
	free atomic.Uint64
}

func (f *freeSpace) FreeBytes() (uint64, error) { return f.free.Load(), nil }

// TestReadyzRefusing checks that /readyz fails, saying why, while the
// sequencer refuses writes — the storage nearly full, or failed storage
// not answering — that writes are 503 with Retry-After and reads 200
// meanwhile, and that /readyz is ready again, with no restart, once
// writes are taken.
func TestReadyzRefusing(t *testing.T) {
	t.Run("disk full", func(t *testing.T) {
		var st *freeSpace
		h := newDemoHarness(t, nil, func(c *log.Config) {
			st = &freeSpace{Storage: c.Storage}
			st.free.Store(1 << 30)
			c.Storage, c.MinFreeBytes = st, 64<<20
		})
		gg := h.demo.Keys["github"]
		st.free.Store(63 << 20)
		resp, body := h.post("/api/v1/entries", h.token("github", gg, nil), h.pledge("github", "no-offense", "Written on a full disk.", gg))
		wantProblem(t, "write on a full disk", resp, body, http.StatusServiceUnavailable, "disk-full")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("503 disk-full without Retry-After")
		}
		wantNotReady(t, h, "storage is nearly full", "63 MiB free, 64 MiB required")
		for _, path := range []string{"/checkpoint", "/tile/entries/000.p/1", "/api/v1/entries/0", "/"} {
			if resp, body := get(t, h.srv, path); resp.StatusCode != 200 {
				t.Errorf("GET %s on a full disk = %d: %.200s", path, resp.StatusCode, body)
			}
		}
		st.free.Store(65 << 20)
		wantReady(t, h)
		resp, body = h.post("/api/v1/entries", h.token("github", gg, nil), h.pledge("github", "no-offense", "Written once space was freed.", gg))
		h.wantBundle("write once space was freed", resp, body, 201)
	})
	t.Run("storage down", func(t *testing.T) {
		var st *faulty.Storage
		h := newDemoHarness(t, nil, func(c *log.Config) { st = faulty.New(c.Storage); c.Storage = st })
		gg := h.demo.Keys["github"]
		st.FailCommits(faulty.Before, 0, true)
		resp, body := h.post("/api/v1/entries", h.token("github", gg, nil), h.pledge("github", "no-offense", "Written while storage is down.", gg))
		wantProblem(t, "write while storage is down", resp, body, http.StatusServiceUnavailable, "storage-unavailable")
		wantNotReady(t, h, "storage failed")
		st.Heal()
		wantReady(t, h)
		h.waitWritable(gg)
	})
}

// wantNotReady wants /readyz 503 not-ready with Retry-After, its detail
// holding each of want.
func wantNotReady(t *testing.T, h *demoHarness, want ...string) {
	t.Helper()
	resp, body := get(t, h.srv, "/readyz")
	wantProblem(t, "GET /readyz", resp, body, http.StatusServiceUnavailable, "not-ready")
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("GET /readyz = %s, want it to say %q", body, w)
		}
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("GET /readyz: 503 without Retry-After")
	}
}

// wantReady waits up to 5 s for /readyz to be 200.
func wantReady(t *testing.T, h *demoHarness) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, body := get(t, h.srv, "/readyz")
		if resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz 5 s after recovery = %d: %s", resp.StatusCode, body)
		}
	}
}
