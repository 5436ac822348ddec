package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/web"
)

// TestRaw appends through the raw handler and reads the entry back.
func TestRaw(t *testing.T) {
	l := newLog(t, nil, time.Millisecond)
	srv := httptest.NewServer(web.NewRaw(l))
	defer srv.Close()
	for i, tc := range []struct {
		body   []byte
		status int
	}{
		{[]byte("not an attestation"), http.StatusOK},
		{make([]byte, 65536), http.StatusRequestEntityTooLarge},
	} {
		resp, err := http.Post(srv.URL+"/raw", "application/octet-stream", bytes.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Index uint64 }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("POST /raw %d = %d, want %d", i, resp.StatusCode, tc.status)
		}
		if tc.status == http.StatusOK {
			if e, err := l.Entry(context.Background(), out.Index); err != nil || !bytes.Equal(e, tc.body) {
				t.Errorf("entry %d = %q, %v; want %q", out.Index, e, err, tc.body)
			}
		}
	}
	if resp, _ := http.Get(srv.URL + "/api/v1/log"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the raw handler serves more than /raw: %d", resp.StatusCode)
	}
}
