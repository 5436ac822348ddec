package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
)

// TestPageCache checks that the pages rendered once per state of the log
// are served from their bytes while the state stays (one rendering for
// many requests), gzipped for the clients that accept it and identity for
// the others, and that they change when the published checkpoint does.
func TestPageCache(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	s, err := web.New(web.Config{Attest: h.alog, ReadLimit: web.Limit{Rate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	h.waitPublished(h.log.Latest().Size)
	size := h.log.Published().Size

	pages := []string{"/", "/checkpoints", "/verify", "/signatories", "/accords/" + accordID}
	first := map[string][]byte{}
	for _, p := range pages {
		first[p] = fetchPage(t, srv, p, false)
	}
	if n := web.PageRenders(s); n != len(pages) {
		t.Fatalf("%d pages rendered, want %d", n, len(pages))
	}
	for range 3 {
		for _, p := range pages {
			if got := fetchPage(t, srv, p, false); !bytes.Equal(got, first[p]) {
				t.Errorf("GET %s changed while the log did not", p)
			}
			if got := fetchPage(t, srv, p, true); !bytes.Equal(got, first[p]) {
				t.Errorf("GET %s gzipped: does not decompress to the page", p)
			}
		}
	}
	if n := web.PageRenders(s); n != len(pages) {
		t.Errorf("%d pages rendered after the same pages again, want %d: not served from the cache", n, len(pages))
	}
	wantSize := `id="log-size">` + itoa(size) + `<`
	if !strings.Contains(string(first["/"]), wantSize) {
		t.Fatalf("the home page does not show %s", wantSize)
	}

	gg := h.demo.Keys["github"]
	h.mustPost(h.token("github", gg, nil), h.pledge("github", "no-offense", "A new pledge.", gg))
	h.waitPublished(size + 1)
	for _, p := range pages {
		// The list of signatories shows nothing a pledge changes.
		if got := fetchPage(t, srv, p, false); bytes.Equal(got, first[p]) != (p == "/signatories") {
			t.Errorf("GET %s changed %v when the checkpoint did", p, !bytes.Equal(got, first[p]))
		}
	}
	home := string(fetchPage(t, srv, "/", true))
	if want := `id="log-size">` + itoa(size+1) + `<`; !strings.Contains(home, want) {
		t.Errorf("the home page after the new checkpoint does not show %s", want)
	}
	if n := web.PageRenders(s); n != 2*len(pages) {
		t.Errorf("%d pages rendered, want %d", n, 2*len(pages))
	}
	// Pages of other requests are rendered per request, as before.
	if resp, body := get(t, srv, "/checkpoints?before=10"); resp.StatusCode != 200 || !strings.Contains(string(body), "Checkpoints") {
		t.Errorf("GET /checkpoints?before=10 = %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/accords/no-such-accord"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /accords/no-such-accord = %d, want 404", resp.StatusCode)
	}
}

// fetchPage gets path as HTML, with Accept-Encoding: gzip or without any,
// checks the encoding and headers of the answer and returns the page.
func fetchPage(t *testing.T, srv *httptest.Server, path string, gz bool) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=UTF-8" {
		t.Fatalf("GET %s = %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("GET %s: Vary %q", path, resp.Header.Get("Vary"))
	}
	if resp.Header.Get("Content-Security-Policy") != wantCSP {
		t.Errorf("GET %s: no CSP", path)
	}
	switch ce := resp.Header.Get("Content-Encoding"); {
	case gz && ce == "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	case ce != "":
		t.Fatalf("GET %s (gzip accepted: %v): Content-Encoding %q", path, gz, ce)
	case gz:
		t.Errorf("GET %s: not gzipped although the client accepts it", path)
	}
	return body
}

// TestEntryAnswers checks that the answers of GET /api/v1/entries/N,
// encoded once and kept with their bundle, are those encoded afresh from
// the stored entry, on the first request and the later ones, and that
// ?pretty still indents.
func TestEntryAnswers(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	size := h.log.Latest().Size
	for round := range 2 {
		for i := range size {
			leaf, err := h.log.Entry(context.Background(), i)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(api.Entry{Index: i, Entry: leaf, LeafHash: verify.LeafHash(leaf)})
			resp, body := get(t, h.srv, "/api/v1/entries/"+itoa(i))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != string(want)+"\n" {
				t.Fatalf("round %d: GET /api/v1/entries/%d = %d %q %.80q, want %.80q", round, i, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
			}
		}
	}
	_, body := get(t, h.srv, "/api/v1/entries/3?pretty")
	var e api.Entry
	if err := json.Unmarshal(body, &e); err != nil || e.Index != 3 || !strings.Contains(string(body), "\n  \"index\": 3") {
		t.Errorf("GET /api/v1/entries/3?pretty = %.80q (%v)", body, err)
	}
	if resp, _ := get(t, h.srv, "/api/v1/entries/"+itoa(size)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v1/entries/%d = %d, want 404", size, resp.StatusCode)
	}
}
