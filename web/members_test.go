package web_test

import (
	"context"
	"net/http"
	"strings"
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

// TestUIMalformedID: the UI answers a malformed id as the API does, 400,
// and an unknown well-formed one 404 (it answered 404 to both before).
func TestUIMalformedID(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/signatories/Bad%20Id", 400}, {"/accords/%3Cscript%3E", 400}, {"/signatories/" + strings.Repeat("a", 65), 400},
		{"/signatories/nobody", 404}, {"/accords/nope", 404},
	} {
		resp, body := get(t, h.srv, tc.path)
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %q, want %d and a page", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
		}
		if strings.Contains(string(body), "<script>") {
			t.Errorf("GET %s reflects the id unescaped", tc.path)
		}
	}
}
