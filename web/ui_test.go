package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
)

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

var (
	scriptTag = regexp.MustCompile(`<script[^>]*>`)
	inline    = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
	ownScript = regexp.MustCompile(`^<script type="module" src="/static/[a-z]+\.js"></script>$`)
	external  = regexp.MustCompile(`(?i)<(link|script|img)[^>]+(src|href)="(https?:)?//`)
)

// TestUIPagesStatic checks every page without a browser: HTML with the
// strict CSP, no inline script or style, nothing loaded from elsewhere,
// and the demo banner.
func TestUIPagesStatic(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, path := range []string{"/", "/signatories", "/signatories/microsoft", "/accords/" + accordID,
		"/entries/0", "/entries/171", "/checkpoints", "/search", "/search?accord=" + accordID + "&principle=no-offense", "/verify"} {
		resp, body := get(t, h.srv, path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=UTF-8" {
			t.Errorf("GET %s = %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		checkPage(t, path, resp, string(body))
		if !strings.Contains(string(body), "<strong>Demo data.</strong>") {
			t.Errorf("GET %s: no demo banner", path)
		}
	}
	_, body := get(t, h.srv, "/verify")
	if want := "pledge-verify bundle --log-key " + h.log.VerifierKey() + " --registrar-key " + keyID(t, h.demo.Registrar) + " FILE"; !strings.Contains(html.UnescapeString(string(body)), want) {
		t.Errorf("/verify does not say %q", want)
	}
}

func checkPage(t *testing.T, path string, resp *http.Response, body string) {
	t.Helper()
	if got := resp.Header.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("GET %s: Content-Security-Policy %q, want %q", path, got, wantCSP)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
	}
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if i := strings.Index(body, tag); !ownScript.MatchString(body[i : i+len(tag)+len("</script>")]) {
			t.Errorf("GET %s: script %q is not one of ours", path, tag)
		}
	}
	if m := inline.FindString(body); m != "" {
		t.Errorf("GET %s: inline style or script %q", path, m)
	}
	if m := external.FindString(body); m != "" {
		t.Errorf("GET %s: loads from elsewhere: %q", path, m)
	}
}

func TestUIStatic(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, c := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/static/page.js", 200, "text/javascript; charset=utf-8"},
		{"/static/tlog.js", 200, "text/javascript; charset=utf-8"},
		{"/static/note.js", 200, "text/javascript; charset=utf-8"},
		{"/static/dsse.js", 200, "text/javascript; charset=utf-8"},
		{"/static/style.css", 200, "text/css; charset=utf-8"},
		{"/static/", 404, ""},
		{"/static/nope.js", 404, ""},
	} {
		resp, _ := get(t, h.srv, c.path)
		if resp.StatusCode != c.status || (c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype) {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.status, c.ctype)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != wantCSP {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, got)
		}
	}
}

// TestUISearchForm checks the search form's answers, without JavaScript.
func TestUISearchForm(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	entry, err := h.log.Entry(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	leaf := sha256.Sum256(append([]byte{0}, entry...))
	for _, c := range []struct {
		query    string
		status   int
		location string
		want     []string
	}{
		{"", 200, "", []string{`<form method="get" action="/search"`}},
		{"index=42", 303, "/entries/42", nil},
		{"index=-1", 400, "", []string{"index must be a decimal integer"}},
		{"index=172", 404, "", []string{"the log has no entry 172 yet"}},
		{"hash=" + hex.EncodeToString(leaf[:]), 303, "/entries/7", nil},
		{"hash=" + base64.StdEncoding.EncodeToString(leaf[:]), 303, "/entries/7", nil},
		{"hash=" + strings.Repeat("0", 64), 404, "", []string{"no entry has this leaf hash"}},
		{"hash=xyz", 400, "", []string{"an entry hash is 64 hex digits"}},
		{"signatory=microsoft&accord=&status=", 200, "", []string{"Entry #24", "Entry #124", "Entry #127", "registry entry"}},
		{"signatory=microsoft&status=committed&limit=2", 200, "", []string{"Entry #124", "Entry #125", "More results"}},
		{"principle=no-offense", 400, "", []string{"principle needs accord"}},
		{"status=maybe", 400, "", []string{"status must be committed"}},
		{"subject=ABC", 400, "", []string{"subject must be a lowercase hex SHA-256 digest"}},
		{"accord=tech-accord", 422, "", []string{"the log holds no accord &#34;tech-accord&#34;"}},
		{"accord=" + accordID + "&principle=no-defense", 422, "", []string{"has no principle &#34;no-defense&#34;"}},
		{"signatory=Microsoft&status=committed&limit=2", 200, "", []string{"Entry #124", "Entry #125"}},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/search?"+c.query, nil)
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || resp.Header.Get("Location") != c.location {
			t.Errorf("search?%s = %d %q, want %d %q", c.query, resp.StatusCode, resp.Header.Get("Location"), c.status, c.location)
		}
		for _, w := range c.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("search?%s does not show %q", c.query, w)
			}
		}
	}
}

// TestUIErrors checks that the UI's errors are HTML pages, and that the
// API's paths and methods keep the API's problems.
func TestUIErrors(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, c := range []struct {
		method, path string
		status       int
		ctype, want  string
	}{
		{"GET", "/entries/x", 400, "text/html; charset=UTF-8", "index must be a decimal integer"},
		{"GET", "/entries/172", 404, "text/html; charset=UTF-8", "beyond the log"},
		{"GET", "/signatories/nobody", 404, "text/html; charset=UTF-8", "no signatory with this id"},
		{"GET", "/signatories/registrar", 404, "text/html; charset=UTF-8", "no signatory with this id"},
		{"GET", "/accords/nope", 404, "text/html; charset=UTF-8", "no accord with this id"},
		{"GET", "/checkpoints?before=x", 400, "text/html; charset=UTF-8", "before must be a tree size"},
		{"GET", "/signatories?cursor=!", 400, "text/html; charset=UTF-8", "cursor must be the next value of a previous page"},
		{"GET", "/static/x/../../ui.go", 404, "", ""},
		{"POST", "/", 405, "application/problem+json", "method-not-allowed"}, // a page takes GET and HEAD (RFC 9110)
		{"POST", "/search", 405, "application/problem+json", "method-not-allowed"},
		{"GET", "/api/v1/log", 200, "application/json", testOrigin},
		{"HEAD", "/", 200, "text/html; charset=UTF-8", ""},
		{"HEAD", "/static/page.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/nope", 404, "application/problem+json", "not-found"},
	} {
		resp, body := do(t, h.srv, c.method, c.path, nil, nil)
		if resp.StatusCode != c.status || (c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype) || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s = %d %q, want %d %q with %q: %.300s", c.method, c.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), c.status, c.ctype, c.want, body)
		}
	}
}

// TestUINoDemo checks that a log without demo data has no banner, and a
// plain log (no registry) no UI.
func TestUINoDemo(t *testing.T) {
	al := runAttestLog(t, 0)
	l := al.Log()
	if _, err := l.Append(context.Background(), genesis(t)); err != nil {
		t.Fatal(err)
	}
	waitPublished(t, l, 1)
	srv := serve(t, web.Config{Attest: al})
	resp, body := get(t, srv, "/")
	if resp.StatusCode != 200 || strings.Contains(string(body), "Demo data") {
		t.Errorf("GET / of a log without demo data = %d, banner %t", resp.StatusCode, strings.Contains(string(body), "Demo data"))
	}
	plain := serve(t, web.Config{Log: l})
	resp, body = get(t, plain, "/")
	wantProblem(t, "GET / of a plain log", resp, body, 404, "not-found")
}

func genesis(t *testing.T) []byte {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pk, err := attest.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement(&attest.Registrar{Action: "genesis", Origin: testOrigin, Key: pk})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := attest.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := attest.Sign(st, signer)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestUIMetrics checks that UI requests are counted by route.
func TestUIMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newDemoHarness(t, func(c *web.Config) { c.Registerer, c.Gatherer = reg, reg }, nil)
	get(t, h.srv, "/entries/3")
	get(t, h.srv, "/entries/999")
	_, body := get(t, h.srv, "/metrics")
	for _, want := range []string{
		`pledgelog_http_requests_total{code="200",method="GET",route="/entries/:index"} 1`,
		`pledgelog_http_requests_total{code="404",method="GET",route="/entries/:index"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}
