package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/web"
)

// uiLog returns the web handler of a demo log in memory: the first n
// entries of the demo of demoSeed, in batches of 40, signed by the log key
// derived from keySeed, all published.
func uiLog(t *testing.T, keySeed byte, demoSeed string, n int) http.Handler {
	t.Helper()
	al := runAttestLog(t, keySeed)
	l := al.Log()
	demo, err := attest.NewDemo(testOrigin, []byte(demoSeed))
	if err != nil {
		t.Fatal(err)
	}
	entries := demo.Entries[:n]
	for i := 0; i < len(entries); i += 40 {
		if _, err := l.AppendBatch(context.Background(), entries[i:min(i+40, len(entries))]); err != nil {
			t.Fatal(err)
		}
	}
	waitPublished(t, l, uint64(n))
	srv, err := web.New(web.Config{Attest: al, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1},
		ReadLimit: web.Limit{Rate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

// uiServer serves a handler that a test can swap, on one loopback
// origin (so the browser keeps its localStorage across the swap), and the
// JavaScript test page of testdata/ui.
type uiServer struct {
	*httptest.Server
	h       atomic.Pointer[http.Handler]
	vectors []byte // /jstest-vectors.json
}

func newUIServer(t *testing.T, h http.Handler) *uiServer {
	u := &uiServer{}
	u.set(h)
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *uiServer) set(h http.Handler) { u.h.Store(&h) }

func (u *uiServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/jstest.html", "/jstest.js":
		http.ServeFile(w, r, "testdata/ui"+r.URL.Path)
		return
	case "/jstest-vectors.json":
		w.Header().Set("Content-Type", "application/json")
		w.Write(u.vectors)
		return
	}
	(*u.h.Load()).ServeHTTP(w, r)
}

// tamper changes the bodies that h answers for the paths match accepts.
func tamper(h http.Handler, match func(path string) bool, change func([]byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		r.Header.Del("Accept-Encoding")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			change(body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// TestUIJavaScript runs the browser tests of tlog.js and note.js
// (testdata/ui/jstest.js) against known vectors.
func TestUIJavaScript(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 1)) // for /static/
	srv.vectors = dsseVectors(t)
	err := chromedp.Do(tb.ctx, chromedp.Navigate(srv.URL+"/jstest.html"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.done`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("running jstest.html: %v; console: %q", err, tb.errors())
	}
	got := tb.text("#results")
	if !strings.HasPrefix(got, "PASS") {
		t.Errorf("jstest.html:\n%s", got)
	}
	t.Log(got)
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestUIPages loads every page of the demo log: each shows the demo data
// and a verified checkpoint, without console errors.
func TestUIPages(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	for _, p := range []struct {
		name, path string
		want       []string
	}{
		{"home", "/", []string{"Demo data.", "Cybersecurity Tech Accord", "Latest published checkpoint", "Growth"}},
		{"signatories", "/signatories", []string{"The signatories registered", "Microsoft", "VMware"}},
		{"signatory", "/signatories/microsoft", []string{"Microsoft", "Demo data: not made or signed by Microsoft", "Timeline", "committed", "valid",
			"Proven in your browser: the registry map that the signed checkpoint of size 172 commits to holds this signatory"}},
		{"accord", "/accords/" + accordID, []string{"Principles", "Latest pledge of each signatory", "Microsoft",
			"Proven in your browser: the registry map that the signed checkpoint of size 172 commits to holds this accord"}},
		{"entry", "/entries/100", []string{"Entry #100", "Proven: entry #100", "Demo data, not made or signed by"}},
		{"checkpoints", "/checkpoints", []string{"Recent history", "Check consistency"}},
		{"search", "/search?signatory=microsoft&status=committed", []string{"Results", "Entry #", "microsoft committed"}},
		{"verify", "/verify", []string{"pledge-verify inclusion --url https://" + testOrigin, "--log-key " + testOrigin, "--registrar-key "}},
		{"notfound", "/entries/9999", []string{"Not in the tree yet"}},
	} {
		t.Run(p.name, func(t *testing.T) {
			tb.t = t
			tb.open(srv.URL + p.path)
			body := tb.text("body")
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s does not show %q", p.path, w)
				}
			}
			if got := tb.text("#trust-status"); !strings.HasPrefix(got, "Verified: the log's checkpoint of size 172") {
				t.Errorf("%s: trust status %q", p.path, got)
			}
			if errs := tb.errors(); len(errs) > 0 && p.name != "notfound" {
				t.Errorf("%s: console errors: %q", p.path, errs)
			}
			if wide := tb.phoneOverflow(); len(wide) > 0 {
				t.Errorf("%s: wider than a phone: %q", p.path, wide)
			}
			tb.shoot(p.name)
		})
	}
}

// TestUIEntryVerifies checks that a good entry is proven in the page, and
// that the statement shown is the proven payload.
func TestUIEntryVerifies(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	for _, index := range []string{"0", "1", "2", "100", "171"} {
		tb.open(srv.URL + "/entries/" + index)
		if got := tb.text("#proof-result"); !strings.HasPrefix(got, "Proven: entry #"+index+" ") {
			t.Errorf("entry %s: proof result %q", index, got)
		}
		if got := tb.text("#statement-check"); !strings.Contains(got, "is the payload of the proven entry") {
			t.Errorf("entry %s: statement check %q", index, got)
		}
		if got := tb.text("#sig-check"); !strings.HasPrefix(got, "Signatures verified in your browser") {
			t.Errorf("entry %s: signature check %q", index, got)
		}
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

func isHashTile(p string) bool {
	return strings.HasPrefix(p, "/tile/") && !strings.HasPrefix(p, "/tile/entries/")
}

// TestUIAlarms checks that the page flags a server that lies: about a
// tile, the checkpoint, the log key or the tree. first is served on the
// first visit, which pins the key and the checkpoint; then second.
func TestUIAlarms(t *testing.T) {
	good := uiLog(t, 9, "ui", 172)
	for _, c := range []struct {
		name          string
		first, second http.Handler
		path, sel     string
		want          []string
	}{
		{"tampered tile", good, tamper(good, isHashTile, func(b []byte) { b[0] ^= 1 }), "/entries/100", "#proof-result",
			[]string{"FAILED: entry #100 is not proven", "is not the signed root"}},
		{"tampered checkpoint", good, tamper(good, func(p string) bool { return p == "/checkpoint" }, func(b []byte) { b[len(testOrigin)+1] ^= 1 }),
			"/", "#trust-status", []string{"ALARM: the log's checkpoint does not verify with the pinned key"}},
		{"swapped key", good, uiLog(t, 10, "ui", 172), "/", "#trust-status",
			[]string{"ALARM: the server now presents another log key", "does not verify with the pinned key"}},
		{"fork at the same size", good, uiLog(t, 9, "other", 172), "/", "#trust-status",
			[]string{"ALARM: split view", "two different trees of size 172"}},
		{"fork that grew", uiLog(t, 9, "ui", 80), uiLog(t, 9, "other", 172), "/", "#trust-status",
			[]string{"ALARM: the log's tree of size 172 is not consistent with the tree of size 80"}},
		{"rolled back", good, uiLog(t, 9, "ui", 80), "/", "#trust-status",
			[]string{"ALARM: the log's tree of size 80 could not be proven consistent with the tree of size 172", "HTTP 404"}},
		{"lying map value", good, tamper(good, func(p string) bool { return p == "/api/v1/map" }, changeMapValue),
			"/signatories/microsoft", "#map-proof", []string{"ALARM: the registry map does not prove this signatory's record", "map root the checkpoint commits to"}},
		{"lying map value, accord", good, tamper(good, func(p string) bool { return p == "/api/v1/map" }, changeMapValue),
			"/accords/" + accordID, "#map-proof", []string{"ALARM: the registry map does not prove this accord", "map root the checkpoint commits to"}},
		{"honest growth", uiLog(t, 9, "ui", 80), good, "/", "#trust-status",
			[]string{"Verified: the log's checkpoint of size 172", "Consistent with the tree of size 80"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t)
			srv := newUIServer(t, c.first)
			tb.open(srv.URL + "/")
			if got := tb.text("#trust-status"); !strings.HasPrefix(got, "Verified:") {
				t.Fatalf("first visit: trust status %q", got)
			}
			srv.set(c.second)
			tb.open(srv.URL + c.path)
			got := tb.text(c.sel)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s = %q, want %q in it", c.sel, got, w)
				}
			}
			if strings.HasPrefix(c.name, "fork") && !strings.Contains(tb.text("#evidence"), "Verified before") {
				t.Errorf("no evidence of the fork shown")
			}
			if wide := tb.phoneOverflow(); len(wide) > 0 {
				t.Errorf("%s: wider than a phone: %q", c.path, wide)
			}
			tb.shoot("alarm-" + strings.ReplaceAll(c.name, " ", "-"))
		})
	}
}

// changeMapValue changes one base64 character of a /api/v1/map answer's
// value, keeping the JSON well-formed: a server lying about a leaf.
func changeMapValue(b []byte) {
	i := bytes.Index(b, []byte(`"value":"`))
	if i < 0 {
		return
	}
	i += len(`"value":"`) + 4
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
}

// dsseVectors signs a DSSE payload with Go's crypto, for jstest.js to
// verify with WebCrypto: one Ed25519 and one ECDSA P-256 (DER) signature.
func dsseVectors(t *testing.T) []byte {
	t.Helper()
	const typ, payload = "application/vnd.in-toto+json", `{"hello":"world"}`
	pae := []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(typ), typ, len(payload), payload))
	var out []map[string]string
	for _, kt := range []attest.KeyType{attest.Ed25519, attest.ECDSAP256} {
		priv, err := attest.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		s, err := attest.NewSigner(priv)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := s.SignMessage(bytes.NewReader(pae))
		if err != nil {
			t.Fatal(err)
		}
		pk, err := attest.NewPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, map[string]string{"type": string(kt), "keyid": pk.ID(), "spki": base64.StdEncoding.EncodeToString(pk.SPKI),
			"payloadType": typ, "payload": base64.StdEncoding.EncodeToString([]byte(payload)), "sig": base64.StdEncoding.EncodeToString(sig)})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUICheckpointsConsistency checks the consistency between two sizes
// in the browser, from the checkpoints page.
func TestUICheckpointsConsistency(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	tb.open(srv.URL + "/checkpoints")
	for _, c := range []struct{ from, to, want string }{
		{"40", "172", "Proven: the tree of size 40 is a prefix of the tree of size 172"},
		{"160", "80", "Proven: the tree of size 80 is a prefix of the tree of size 160"},
		{"0", "120", "Proven: the tree of size 0 is a prefix of the tree of size 120"},
	} {
		err := chromedp.Do(tb.ctx,
			chromedp.SetValue(chromedp.CSS("#c-from"), c.from), chromedp.SetValue(chromedp.CSS("#c-to"), c.to),
			chromedp.Click(chromedp.CSS(`#consistency-form button`)),
			chromedp.Poll[chromedp.Void](`!document.getElementById('consistency-result').textContent.startsWith('Checking')`))
		if err != nil {
			t.Fatal(err)
		}
		if got := tb.text("#consistency-result"); !strings.HasPrefix(got, c.want) {
			t.Errorf("consistency %s → %s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
	tb.shoot("checkpoints-consistency")
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestUIKeyboard checks that the keyboard reaches the skip link first,
// then the links of the header, and that focus is visible.
func TestUIKeyboard(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 3))
	tb.open(srv.URL + "/search")
	const focused = `(() => { const e = document.activeElement;
	  return e.tagName + ' ' + (e.getAttribute('href') || e.id) + ' ' + getComputedStyle(e).outlineStyle; })()`
	for i, want := range []string{"A #main solid", "A / solid", "A / solid", "A /signatories solid"} {
		if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](focused))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("after %d tabs, focus on %q, want %q", i+1, got, want)
		}
	}
	// Every form control has a label.
	unlabelled, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input, select')]
	  .filter((e) => !document.querySelector('label[for="' + e.id + '"]')).map((e) => e.name)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls without a label: %q, %v", unlabelled, err)
	}
}

// TestUISignatoriesProven opens every signatory's page of the demo log
// and wants each record proven from the registry map in the browser. (The
// demo revokes no key: revoked and void states are compared by the same
// code, and the Go lookup tests prove them.)
func TestUISignatoriesProven(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	var page struct {
		Signatories []struct {
			ID string `json:"id"`
		} `json:"signatories"`
	}
	resp, err := http.Get(srv.URL + "/api/v1/signatories?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Signatories) < 30 {
		t.Fatalf("signatories: %d, %v", len(page.Signatories), err)
	}
	for _, s := range page.Signatories {
		tb.open(srv.URL + "/signatories/" + s.ID)
		if got := tb.text("#map-proof"); !strings.HasPrefix(got, "Proven in your browser") {
			t.Errorf("%s: %q", s.ID, got)
		}
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}
