package web_test

import (
	"encoding/base64"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
)

// TestDeepNestingSubmit is issue 12's first finding through the API: a
// 130 KB body of nested arrays, posted with a signatory's valid token,
// took the strict parser to 460 MB at depth 20,000 and killed the process
// at 130,000. Now it is a 400 naming the cause, the request allocates a
// small multiple of its size, and the log is unchanged.
func TestDeepNestingSubmit(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	tok := h.token("microsoft", h.demo.Keys["microsoft"], nil)
	size := h.log.Latest().Size
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	payload := base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":` + deep(47000) + `}`))
	for _, tc := range []struct {
		name, path, body, pointer string
	}{
		{"envelope", "/api/v1/entries", `{"payload":` + deep(65000) + `}`, ""},
		{"payload", "/api/v1/entries", `{"payload":"` + payload + `","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"` +
			strings.Repeat("ab", 32) + `","sig":"` + strings.Repeat("A", 88) + `"}]}`, "/payload"},
		{"batch", "/api/v1/entries/batch", `{"entries":[{"payload":` + deep(5000) + `}]}`, "/entries/0"}, // encoding/json stops at 10,000
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.body) > attest.MaxSubmissionSize {
				t.Fatalf("body of %d bytes is over the submission limit", len(tc.body))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, body := h.post(tc.path, tok, []byte(tc.body))
			runtime.ReadMemStats(&after)
			if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(64<<20); alloc > limit {
				t.Errorf("the request of %d bytes allocated %d bytes in the server's process, want at most %d", len(tc.body), alloc, limit)
			}
			wantProblem(t, tc.name, resp, body, 400, "malformed-entry")
			var p api.Problem
			if err := json.Unmarshal(body, &p); err != nil || p.Code != "too-deep" || !strings.HasPrefix(p.Pointer, tc.pointer) {
				t.Errorf("problem %s, want code too-deep at %q", body, tc.pointer)
			}
		})
	}
	if got := h.log.Latest().Size; got != size {
		t.Errorf("tree size %d after the deep requests, want %d", got, size)
	}
}
