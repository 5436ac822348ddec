package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/web"
)

func TestAdminBackup(t *testing.T) {
	l := newLog(t, nil, time.Millisecond)
	appendTo(t, l, []uint64{5})
	var mu sync.Mutex
	var dests []string
	srv := serve(t, web.Config{Log: l, AdminToken: []byte("s3cret"), MaxBodyBytes: 64 << 10,
		Backup: func(_ context.Context, dest string) error {
			mu.Lock()
			defer mu.Unlock()
			for _, d := range dests {
				if d == dest {
					return fmt.Errorf("checkpoint: %w", fs.ErrExist)
				}
			}
			dests = append(dests, dest)
			return nil
		}})
	auth := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	good := []byte(`{"dest": "/backups/one"}`)

	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		status int
		slug   string
	}{
		{"no token", nil, string(good), 401, "unauthorized"},
		{"wrong token", auth("s3cre"), string(good), 401, "unauthorized"},
		{"basic auth", http.Header{"Authorization": {"Basic czNjcmV0"}}, string(good), 401, "unauthorized"},
		{"empty body", auth("s3cret"), "", 400, "bad-request"},
		{"not JSON", auth("s3cret"), "/backups/one", 400, "bad-request"},
		{"unknown field", auth("s3cret"), `{"dest": "/b", "force": true}`, 400, "bad-request"},
		{"two objects", auth("s3cret"), `{"dest": "/b"} {}`, 400, "bad-request"},
		{"relative dest", auth("s3cret"), `{"dest": "backups/one"}`, 400, "bad-request"},
		{"unclean dest", auth("s3cret"), `{"dest": "/backups/../etc"}`, 400, "bad-request"},
		{"large body", auth("s3cret"), `{"dest": "/` + strings.Repeat("a", 5000) + `"}`, 413, "body-too-large"},
		{"huge body", auth("s3cret"), strings.Repeat(" ", 100<<10), 413, "body-too-large"},
	} {
		resp, body := do(t, srv, "POST", "/admin/backup", tc.header, []byte(tc.body))
		wantProblem(t, tc.name, resp, body, tc.status, tc.slug)
	}
	if len(dests) != 0 {
		t.Fatalf("backups taken for bad requests: %q", dests)
	}

	resp, body := do(t, srv, "POST", "/admin/backup", auth("s3cret"), good)
	var got api.BackupResponse
	if err := json.Unmarshal(body, &got); resp.StatusCode != 200 || err != nil || got.Dest != "/backups/one" || got.Size != 5 {
		t.Fatalf("POST /admin/backup = %d %s (%v)", resp.StatusCode, body, err)
	}
	resp, body = do(t, srv, "POST", "/admin/backup", auth("s3cret"), good)
	wantProblem(t, "same dest again", resp, body, 409, "conflict")
}
