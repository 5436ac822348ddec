package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/web"
)

// TestAmbiguousBodies: a JSON body with a duplicate or case-variant
// member could mean two things (encoding/json takes the last duplicate and
// matches names in any case), so it is a 400, never an answer for one of
// its readings. (Before checkMembers the batch was logged as the second
// reading, and the backup went to the last dest.)
func TestAmbiguousBodies(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	dup := string(h.demo.Entries[40])
	for _, tc := range []struct{ name, body string }{
		{"duplicate entries", `{"entries":[` + dup + `],"entries":[` + dup + `]}`},
		{"case-variant entries", `{"Entries":[` + dup + `]}`},
		{"escaped duplicate", `{"entries":[` + dup + `],"entri\u0065s":[` + dup + `]}`},
	} {
		resp, body := h.post("/api/v1/entries/batch", h.token("arm", h.demo.Keys["arm"], nil), []byte(tc.body))
		wantProblem(t, tc.name, resp, body, 400, "bad-request")
	}

	var dests []string
	l := newLog(t, nil, time.Millisecond)
	srv := serve(t, web.Config{Log: l, AdminToken: []byte("s3cret"),
		Backup: func(_ context.Context, dest string) error { dests = append(dests, dest); return nil }})
	auth := http.Header{"Authorization": {"Bearer s3cret"}}
	for _, tc := range []struct{ name, body string }{
		{"duplicate dest", `{"dest":"/backups/a","dest":"/backups/b"}`},
		{"case-variant dest", `{"DEST":"/backups/a"}`},
		{"NUL in dest", `{"dest":"/backups/a\u0000b"}`},
		{"newline in dest", `{"dest":"/backups/a\nb"}`},
	} {
		resp, body := do(t, srv, "POST", "/admin/backup", auth, []byte(tc.body))
		wantProblem(t, tc.name, resp, body, 400, "bad-request")
	}
	if len(dests) != 0 {
		t.Errorf("backups taken for ambiguous or bad bodies: %q", dests)
	}
}
