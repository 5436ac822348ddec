package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
)

// The tests of what the page pins and when it raises its alarm: pins
// kept per page address, not per the log origin the server names; log
// key rotation; links that name other keys.

// addrServer serves on one loopback address across restarts, as a log
// server restarted on its listening address does, so that the browser
// keeps its localStorage (which is per scheme, host and port).
type addrServer struct {
	t    *testing.T
	addr string
	URL  string
	srv  *http.Server
	done chan error
}

func newAddrServer(t *testing.T, h http.Handler) *addrServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &addrServer{t: t, addr: ln.Addr().String(), URL: "http://" + ln.Addr().String()}
	a.serve(ln, h)
	t.Cleanup(a.stop)
	return a
}

func (a *addrServer) serve(ln net.Listener, h http.Handler) {
	a.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	a.done = make(chan error, 1)
	go func(s *http.Server) { a.done <- s.Serve(ln) }(a.srv)
}

func (a *addrServer) stop() {
	if a.srv == nil {
		return
	}
	a.srv.Close()
	if err := <-a.done; !errors.Is(err, http.ErrServerClosed) {
		a.t.Errorf("serving %s: %v", a.addr, err)
	}
	a.srv = nil
}

// restart stops the server and serves h on the same address.
func (a *addrServer) restart(h http.Handler) {
	a.t.Helper()
	a.stop()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", a.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		a.t.Fatalf("listening again on %s: %v", a.addr, err)
	}
	a.serve(ln, h)
}

// pinLog is a demo log in memory that a test reopens on the same storage
// with other keys, as pledgelog key add and key finish do.
type pinLog struct {
	t       *testing.T
	origin  string
	storage log.Storage
	entries [][]byte
	n       int // entries appended
	log     *log.Log
	stopLog func()
	created bool
	// witnessed leaves publication to a cosign.Collector (log.Config.Witnessed).
	witnessed bool
}

func newPinLog(t *testing.T, origin, demoSeed string) *pinLog {
	t.Helper()
	demo, err := attest.NewDemo(origin, []byte(demoSeed))
	if err != nil {
		t.Fatal(err)
	}
	p := &pinLog{t: t, origin: origin, storage: memory.New(), entries: demo.Entries}
	t.Cleanup(p.close)
	return p
}

func seedSigner(t *testing.T, seed byte) signature.Signer {
	t.Helper()
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seedVKey is the log verifier key of the key of seed for origin.
func seedVKey(origin string, seed byte) string {
	return verify.Ed25519VerifierKey(origin, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey))
}

func (p *pinLog) close() {
	if p.stopLog != nil {
		p.stopLog()
		p.stopLog = nil
	}
}

// open (re)opens the log signing with the keys of seeds (the first is
// Config.Signer, the others ExtraSigners), rebuilds its registry, runs it
// and returns its web handler. wcfg, if not nil, completes the server's
// configuration.
func (p *pinLog) open(wcfg func(*web.Config), seeds ...byte) http.Handler {
	p.t.Helper()
	p.close()
	ctx := context.Background()
	lc := log.Config{Origin: p.origin, Signer: seedSigner(p.t, seeds[0]), Storage: p.storage, PublishInterval: time.Millisecond, Witnessed: p.witnessed}
	for _, s := range seeds[1:] {
		lc.ExtraSigners = append(lc.ExtraSigners, seedSigner(p.t, s))
	}
	var al *attestlog.Log
	var err error
	if p.created {
		al, err = attestlog.Open(ctx, lc)
	} else {
		al, err = attestlog.Create(ctx, lc)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.created = true
	p.log = al.Log()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func(l *log.Log) { done <- l.Run(runCtx) }(p.log)
	p.stopLog = func() {
		cancel()
		if err := <-done; err != nil {
			p.t.Errorf("Run: %v", err)
		}
	}
	cfg := web.Config{Attest: al, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1}, ReadLimit: web.Limit{Rate: -1}}
	if wcfg != nil {
		wcfg(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	return srv.Handler()
}

// grow appends the demo's entries up to n, in batches of 40, and waits
// until they are published.
func (p *pinLog) grow(n int) {
	p.t.Helper()
	for p.n < n {
		end := min(p.n+40, n)
		if _, err := p.log.AppendBatch(context.Background(), p.entries[p.n:end]); err != nil {
			p.t.Fatal(err)
		}
		p.n = end
	}
	waitPublished(p.t, p.log, uint64(n))
}

// newReader opens a tab in a browser context of its own: another reader,
// with a localStorage of its own, at the same addresses.
func newReader(t *testing.T) *tab {
	t.Helper()
	return newTabWith(t, chromedp.WithNewBrowserContext())
}

// stored returns the page's localStorage entry key of the page origin
// base (decoded JSON), or nil.
func (tb *tab) stored(base, key string) map[string]any {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[map[string]any](`JSON.parse(localStorage.getItem(`+jsString("pledgelog@"+base+":"+key)+`) ?? 'null')`))
	if err != nil {
		tb.t.Fatalf("reading localStorage %s: %v", key, err)
	}
	return v
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// class returns the class attribute of sel.
func (tb *tab) class(sel string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.className ?? ''`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// click clicks sel and waits until the page, reloaded, checked the log.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`delete document.body.dataset.checked`), chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("clicking %s: %v", sel, err)
	}
	tb.waitChecked("after clicking " + sel)
}

// status checks that #trust-status has class cls and says each of want.
func (tb *tab) status(cls string, want ...string) string {
	tb.t.Helper()
	got := tb.text("#trust-status")
	if c := tb.class("#trust-status"); c != "status "+cls {
		tb.t.Errorf("trust status is %q, want %q: %s", c, cls, got)
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			tb.t.Errorf("trust status %q, want %q in it", got, w)
		}
	}
	return got
}

func (tb *tab) pinnedKeys(base string) []string {
	tb.t.Helper()
	var out []string
	pin := tb.stored(base, "vkey")
	if pin == nil {
		return nil
	}
	if pin["vkeys"] == nil { // pinned by an older page
		return []string{pin["vkey"].(string)}
	}
	for _, k := range pin["vkeys"].([]any) {
		out = append(out, k.(string))
	}
	return out
}

func sameKeys(a []string, b ...string) bool {
	return strings.Join(a, " ") == strings.Join(b, " ")
}

// TestUIPinByAddress serves log A at an address, then, on the same
// address, log B (another origin line and another key): the page that
// pinned A raises its alarm and keeps A's pin, whether it is reached
// plainly, by a link naming B's key (until the reader chooses to pin it),
// or with the state an older page kept under A's origin.
func TestUIPinByAddress(t *testing.T) {
	const originB = "example.com/another-log"
	a, b := newPinLog(t, testOrigin, "ui"), newPinLog(t, originB, "other")
	ha := a.open(nil, 9)
	a.grow(80)
	hb := b.open(nil, 10)
	b.grow(120)
	vkeyA, vkeyB := seedVKey(testOrigin, 9), seedVKey(originB, 10)

	srv := newAddrServer(t, ha)
	tb := newReader(t)
	tb.open(srv.URL + "/")
	tb.status("ok", "Verified: the log's checkpoint of size 80")
	if got := tb.pinnedKeys(srv.URL); !sameKeys(got, vkeyA) {
		t.Errorf("pinned %q, want A's key", got)
	}

	srv.restart(hb)
	tb.open(srv.URL + "/")
	tb.status("alarm", "ALARM: this address served the log "+testOrigin+" when your browser pinned its key, and now says it serves the log "+originB,
		"ALARM: the server now presents another log key", "does not verify with the pinned key")
	tb.shoot("pin-another-log")
	tb.open(srv.URL + "/entries/5")
	tb.status("alarm", "ALARM: this address served the log "+testOrigin)
	if got := tb.text("#proof-result"); !strings.HasPrefix(got, "Not proven") {
		t.Errorf("entry page: proof result %q", got)
	}
	if got := tb.pinnedKeys(srv.URL); !sameKeys(got, vkeyA) {
		t.Errorf("after B: pinned %q, want A's key kept", got)
	}
	if cp := tb.stored(srv.URL, "checkpoint"); cp == nil || cp["size"] != 80.0 {
		t.Errorf("after B: stored checkpoint %v, want A's of size 80 kept", cp)
	}

	// A link naming B's key (a server can redirect to one) does not
	// re-pin: the page offers it.
	tb.open(srv.URL + "/#vkey=" + url.QueryEscape(vkeyB))
	tb.status("alarm", "WARNING: the link you followed names the log key "+vkeyB+", not the key your browser pinned", "ALARM: this address served the log "+testOrigin)
	if got := tb.pinnedKeys(srv.URL); !sameKeys(got, vkeyA) {
		t.Errorf("after a link to B: pinned %q, want A's key kept", got)
	}
	tb.click("#pin-link")
	tb.status("ok", "Verified: the log's checkpoint of size 120", "This is the first checkpoint your browser verified for this log")
	if got := tb.pinnedKeys(srv.URL); !sameKeys(got, vkeyB) {
		t.Errorf("after choosing the link's key: pinned %q, want B's", got)
	}
	if got := tb.text("#trust-key"); !strings.Contains(got, "from a link you followed and chose to pin") {
		t.Errorf("trust key %q does not say where the pin came from", got)
	}

	// Another reader whose older page pinned A under A's origin name.
	old := newReader(t)
	err := chromedp.Do(old.ctx, chromedp.Navigate(srv.URL+"/checkpoint"), chromedp.Evaluate[chromedp.Void](`(() => {
	  const o = `+jsString(testOrigin)+`;
	  localStorage.setItem('pledgelog:' + o + ':vkey', JSON.stringify({vkey: `+jsString(vkeyA)+`, since: '2026-01-01T00:00:00.000Z', from: 'this server, on your first visit'}));
	  localStorage.setItem('pledgelog:' + o + ':checkpoint', JSON.stringify({size: 80, root: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', seen: '2026-01-01T00:00:00.000Z'}));
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	old.open(srv.URL + "/")
	old.status("alarm", "ALARM: this address served the log "+testOrigin, "ALARM: the server now presents another log key")
	if got := old.pinnedKeys(srv.URL); !sameKeys(got, vkeyA) {
		t.Errorf("older page's state: pinned %q, want A's key moved to the page address", got)
	}
	if left, err := chromedp.Run(old.ctx, chromedp.Evaluate[[]string](`Object.keys(localStorage).filter((k) => k.startsWith('pledgelog:'))`)); err != nil || len(left) > 0 {
		t.Errorf("older page's state left behind: %q, %v", left, err)
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestUIKeyRotation rotates the log key as pledgelog key add and key
// finish do (log.Config.ExtraSigners, then the new key alone), the
// server restarted on its address each time, with three readers: one who
// pinned the old key and never updates, one who follows the /verify
// page's link during the overlap and pins both keys, and one who first
// comes during the overlap with a link naming the new key only. During
// the overlap all three verify; after finish the first is an alarm (the
// page cannot tell a rotation from a stolen address) and keeps its pin,
// the others verify, with the log's consistency proven across the
// rotation; the first recovers by pinning the new key from a link, with
// its checkpoint kept.
func TestUIKeyRotation(t *testing.T) {
	pl := newPinLog(t, testOrigin, "ui")
	const oldSeed, newSeed = 9, 11
	oldKey, newKey := seedVKey(testOrigin, oldSeed), seedVKey(testOrigin, newSeed)
	srv := newAddrServer(t, pl.open(nil, oldSeed))
	pl.grow(40)
	stay, follow, fresh := newReader(t), newReader(t), newReader(t)
	for _, r := range []*tab{stay, follow} {
		r.open(srv.URL + "/")
		r.status("ok", "Verified: the log's checkpoint of size 40")
	}

	// key add: both keys sign.
	srv.restart(pl.open(nil, oldSeed, newSeed))
	pl.grow(80)
	stay.open(srv.URL + "/")
	stay.status("ok", "Verified: the log's checkpoint of size 80", "Consistent with the tree of size 40",
		"The server also presents the log key "+newKey+" (a key rotation?)")
	fresh.open(srv.URL + "/#vkey=" + url.QueryEscape(newKey))
	fresh.status("ok", "Verified: the log's checkpoint of size 80")
	if got := fresh.pinnedKeys(srv.URL); !sameKeys(got, newKey) {
		t.Errorf("fresh reader pinned %q, want the new key", got)
	}
	follow.open(srv.URL + "/verify")
	follow.click("#verify-pin-link")
	follow.status("warn", "WARNING: the link you followed names the log keys "+oldKey+", "+newKey+", not the key your browser pinned")
	if got := follow.pinnedKeys(srv.URL); !sameKeys(got, oldKey) {
		t.Errorf("a link re-pinned %q without the reader's choice", got)
	}
	follow.click("#pin-link")
	follow.status("ok", "Verified: the log's checkpoint of size 80", "Same tree as on your last visit (size 80)")
	if got := follow.pinnedKeys(srv.URL); !sameKeys(got, oldKey, newKey) {
		t.Errorf("after pinning the link's keys: %q, want both", got)
	}
	follow.shoot("rotation-overlap")

	// key finish: the new key alone.
	srv.restart(pl.open(nil, newSeed))
	pl.grow(120)
	for _, r := range []*tab{follow, fresh} {
		r.open(srv.URL + "/")
		r.status("ok", "Verified: the log's checkpoint of size 120", "Consistent with the tree of size 80")
	}
	stay.open(srv.URL + "/")
	stay.status("alarm", "ALARM: the server now presents another log key ("+newKey+")", "does not verify with the pinned key")
	stay.shoot("rotation-finished-old-pin")
	if got := stay.pinnedKeys(srv.URL); !sameKeys(got, oldKey) {
		t.Errorf("after finish: pinned %q, want the old key kept", got)
	}
	if cp := stay.stored(srv.URL, "checkpoint"); cp == nil || cp["size"] != 80.0 {
		t.Errorf("after finish: stored checkpoint %v, want the one of size 80 kept", cp)
	}
	stay.open(srv.URL + "/#vkey=" + url.QueryEscape(newKey))
	stay.status("alarm", "WARNING: the link you followed names the log key "+newKey)
	stay.click("#pin-link")
	stay.status("ok", "Verified: the log's checkpoint of size 120", "Consistent with the tree of size 80")
	for _, r := range []*tab{stay, follow, fresh} {
		if errs := r.errors(); len(errs) > 0 {
			t.Errorf("console errors: %q", errs)
		}
	}
}
