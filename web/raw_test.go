package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
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

// TestRawRefused checks that the raw handler answers a refused append
// 503, as the API does: it was a 500 for a full disk or failed storage.
func TestRawRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   func(log.Storage) log.Storage
	}{
		{"disk full", func(inner log.Storage) log.Storage { return &freeSpace{Storage: inner} }}, // 0 bytes free
		{"storage down", func(inner log.Storage) log.Storage {
			st := faulty.New(inner)
			st.FailCommits(faulty.Before, 0, false)
			return st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
			if err != nil {
				t.Fatal(err)
			}
			inner := memory.New()
			if _, err := log.Create(context.Background(), log.Config{Origin: testOrigin, Signer: s, Storage: inner}); err != nil {
				t.Fatal(err)
			}
			l, err := log.Open(context.Background(), log.Config{Origin: testOrigin, Signer: s, Storage: tc.st(inner)})
			if err != nil {
				t.Fatal(err)
			}
			runLog(t, l)
			srv := httptest.NewServer(web.NewRaw(l))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/raw", "application/octet-stream", strings.NewReader("refused"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("POST /raw, %s = %d, want 503", tc.name, resp.StatusCode)
			}
		})
	}
}
