package web_test

import (
	"crypto"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
)

// TestStorageFaults fails the storage's commits under the real server, in
// each way storage can fail a write, and checks over HTTP that the write
// is answered 503 storage-unavailable with Retry-After while reads are
// served, that the registry shows exactly what was committed (a key added
// by a write that failed signs nothing; one whose write had landed signs),
// and that the log takes writes again by itself once storage heals.
func TestStorageFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  faulty.CommitFault
		down   bool // reads fail too, until healed
		status int  // the faulted write's answer
		stored bool // whether its entry is stored
	}{
		{"refused", faulty.Before, false, 503, false},
		{"landed", faulty.After, false, 201, true},
		{"refused, then down", faulty.Before, true, 503, false},
		{"landed, then down", faulty.After, true, 503, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st *faulty.Storage
			h := newDemoHarness(t, nil, func(c *log.Config) { st = faulty.New(c.Storage); c.Storage = st })
			h.waitPublished(h.log.Latest().Size)
			gg := h.demo.Keys["github"]
			k := newKey(t)
			addKey := h.event(&attest.SignatoryEvent{Action: attest.ActionAddKey, Signatory: "github", Key: publicKey(t, k)}, gg, k)
			signedByK := h.pledge("github", "no-offense", "Signed by the key added under a storage fault.", k)

			st.FailCommits(tc.fault, 0, tc.down)
			resp, body := h.post("/api/v1/entries", h.token("github", gg, nil), addKey)
			if tc.status == 503 {
				wantProblem(t, "write under a storage fault", resp, body, 503, "storage-unavailable")
				if resp.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			} else {
				h.wantBundle("write that landed", resp, body, tc.status)
			}
			if !tc.down {
				for _, path := range []string{"/checkpoint", "/api/v1/log", "/tile/0/000.p/1", "/tile/entries/000.p/1", "/api/v1/entries/0", "/api/v1/signatories/github", "/"} {
					if resp, body := get(t, h.srv, path); resp.StatusCode != 200 {
						t.Errorf("GET %s while commits fail = %d: %.200s", path, resp.StatusCode, body)
					}
				}
				// A second write fails (or lands) the same way: nothing is stuck.
				resp, body := h.post("/api/v1/entries", h.token("github", gg, nil), h.pledge("github", "no-offense", "Second write.", gg))
				if resp.StatusCode != tc.status {
					t.Errorf("second write under the fault = %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
			} else {
				resp, body := h.post("/api/v1/entries", h.token("github", gg, nil), h.pledge("github", "no-offense", "While down.", gg))
				wantProblem(t, "write while storage is down", resp, body, 503, "storage-unavailable")
			}
			st.Heal()

			// No restart, no repair: the log takes writes again by itself,
			// and the key's fate is the stored entry's.
			h.waitWritable(gg)
			resp, body = h.post("/api/v1/entries", h.token("github", gg, nil), signedByK)
			if tc.stored {
				h.wantBundle("pledge signed by the key that landed", resp, body, 201)
			} else {
				wantProblem(t, "pledge signed by the key whose write failed", resp, body, 403, "unknown-key")
			}
			resp, body = h.post("/api/v1/entries", h.token("github", gg, nil), addKey)
			want := 201
			if tc.stored {
				want = 200 // a duplicate, at its index
			}
			h.wantBundle("resubmitted add-key", resp, body, want)
			resp, body = h.post("/api/v1/entries", h.token("github", gg, nil), signedByK)
			h.wantBundle("pledge signed by the added key", resp, body, map[bool]int{true: 200, false: 201}[tc.stored])
			if s := st.Stats(); s.Injected == 0 {
				t.Errorf("no fault injected: %+v", s)
			}
		})
	}
}

// waitWritable posts new pledges of github, signed with key, until one is
// not answered 503 storage-unavailable (for up to 5 s), and wants it logged.
func (h *demoHarness) waitWritable(key crypto.Signer) {
	h.t.Helper()
	for i, deadline := 0, time.Now().Add(5*time.Second); ; i++ {
		body := h.pledge("github", "no-offense", fmt.Sprintf("Probe %d.", i), key)
		resp, rb := h.post("/api/v1/entries", h.token("github", key, nil), body)
		if resp.StatusCode != 503 || !strings.Contains(string(rb), "storage-unavailable") || time.Now().After(deadline) {
			h.wantBundle("a write after healing", resp, rb, 201)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitPublished waits until the log publishes size.
func (h *demoHarness) waitPublished(size uint64) { waitPublished(h.t, h.log, size) }
