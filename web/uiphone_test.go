package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// phoneJS lists what is wrong with the page on a phone: a page wider than
// the screen, content that starts below its first 320 pixels (the
// banners take 280 to 300 of them), a word of a heading, the navigation,
// a label or a table header broken across lines (but after a hyphen), and
// a shortened id in a table broken into pieces or without its full id in
// its title.
const phoneJS = `(() => {
  const W = document.documentElement.clientWidth, bad = [];
  if (document.documentElement.scrollWidth > W) bad.push('the page is ' + document.documentElement.scrollWidth + ' px wide, the screen ' + W);
  const h1 = document.querySelector('main h1'), top = h1.getBoundingClientRect().top + scrollY;
  if (top >= 320) bad.push('the content (h1) starts at ' + Math.round(top) + ' px');
  const lines = (rects) => new Set([...rects].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
  for (const el of document.querySelectorAll('nav a, main h1, main h2, main h3, .facts dt, main th')) {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest('.origin, code, .visually-hidden, .nav-more')) continue;
      for (const m of n.data.matchAll(/[^\s-]+-?/g)) { // a word, or its part up to a hyphen
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        if (lines(r.getClientRects()) > 1) bad.push('"' + m[0] + '" breaks across lines in ' + el.tagName.toLowerCase());
      }
    }
  }
  for (const c of document.querySelectorAll('main td code[title]')) {
    if (lines(c.getClientRects()) !== 1) bad.push('the id ' + c.textContent + ' is in ' + lines(c.getClientRects()) + ' pieces');
    if (!c.title.startsWith(c.textContent.replace(/…$/, ''))) bad.push('the id ' + c.textContent + ' has the title ' + c.title);
  }
  return bad;
})()`

// keysJS lists the keys whose State a phone does not show: the cell must
// lie within the screen, with its header on screen or its own label.
const keysJS = `(() => {
  const W = document.documentElement.clientWidth, bad = [];
  const table = document.querySelector('section[aria-labelledby=keys-h] table');
  const th = [...table.querySelectorAll('thead th')].find((e) => e.textContent.trim() === 'State');
  const r = th.getBoundingClientRect();
  const header = r.width > 1 && r.left >= 0 && r.right <= W;
  const rows = table.querySelectorAll('tbody tr');
  if (rows.length < 2) bad.push('only ' + rows.length + ' keys');
  for (const tr of rows) {
    const td = tr.cells[4], c = td.getBoundingClientRect();
    if (c.left < 0 || c.right > W + 1) bad.push('the State "' + td.textContent.trim() + '" spans ' + Math.round(c.left) + '-' + Math.round(c.right) + ' px of ' + W);
    if (!header && getComputedStyle(td, '::before').content !== '"State"') bad.push('the State "' + td.textContent.trim() + '" has no header on screen nor label');
  }
  return bad;
})()`

// matrixJS lists what a phone does not show of the accord matrix: a
// header row with the title of each of its 4 principles, each reachable
// by scrolling the matrix's own box, the signatories' column staying put.
const matrixJS = `(() => {
  const bad = [], table = document.querySelector('table.matrix'), box = table.closest('.scroll');
  const heads = [...table.querySelectorAll('thead th')].slice(1);
  if (heads.length !== 4) bad.push(heads.length + ' principle headers');
  const first = table.querySelector('thead th'), boxLeft = box.getBoundingClientRect().left;
  for (const [i, th] of heads.entries()) {
    const title = th.querySelector('.ptitle'), tr = title.getBoundingClientRect();
    if (tr.width < 20 || tr.height < 5 || getComputedStyle(title).clip !== 'auto') bad.push('header ' + (i + 1) + ' does not show its title "' + th.title + '"');
    th.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const r = th.getBoundingClientRect(), b = box.getBoundingClientRect(), f = first.getBoundingClientRect();
    if (r.left < f.right - 1 || r.right > b.right + 1 || r.right > innerWidth + 1) bad.push('header ' + (i + 1) + ' is not reachable: ' + Math.round(r.left) + '-' + Math.round(r.right) + ' px, the box ' + Math.round(b.left) + '-' + Math.round(b.right) + ', the first column to ' + Math.round(f.right));
    if (Math.abs(f.left - boxLeft) > 1) bad.push('the signatories column moved to ' + Math.round(f.left) + ' px when the matrix scrolled');
  }
  box.scrollLeft = 0;
  scrollTo(0, 0);
  return bad;
})()`

// linksJS answers the status of every link of the page's main part to
// this server.
const linksJS = `Promise.all([...new Set([...document.querySelectorAll('main a[href^="/"]')].map((a) => a.getAttribute('href')))]
  .map((href) => fetch(href, { headers: { Accept: 'text/html' } }).then((r) => href + ' ' + r.status)))`

// TestUIPhone loads the pages of the demo log on a 390×844 phone, with a
// signatory whose key was revoked and recovered: no page is wider than
// the screen, the content starts within 320 px, no word of a heading or
// the navigation breaks, shortened ids stay whole; the keys' State shows,
// the matrix keeps its 4 principles' headers, and every link of an entry
// signed by the registrar answers 200. Screenshots go to shotDir.
func TestUIPhone(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	recovered := strconv.FormatUint(recoverMicrosoft(t, h), 10)
	tb := newTab(t)
	srv := newUIServer(t, h.srv.Config.Handler)
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name, path string
		check      string // a script that lists more failures
		await      bool
		sel        string // a part to screenshot
	}{
		{"home", "/", "", false, ".facts"},
		{"signatories", "/signatories", "", false, ""},
		{"signatory", "/signatories/microsoft", keysJS, false, "section[aria-labelledby=keys-h]"},
		{"accord", "/accords/" + accordID, matrixJS, false, "section[aria-labelledby=matrix-h]"},
		{"genesis", "/entries/0", linksJS, true, ""},
		{"recover", "/entries/" + recovered, linksJS, true, ""},
		{"checkpoints", "/checkpoints", "", false, ""},
		{"search", "/search?signatory=microsoft", "", false, ""},
		{"verify", "/verify", "", false, ""},
	} {
		t.Run(p.name, func(t *testing.T) {
			tb.t = t
			if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
				t.Fatal(err)
			}
			tb.open(srv.URL + p.path)
			if got := tb.text("#trust-status"); !strings.HasPrefix(got, "Verified:") {
				t.Errorf("trust status %q", got)
			}
			bad, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](phoneJS))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				t.Errorf("%s on a phone: %s", p.path, b)
			}
			switch {
			case p.await:
				links, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](p.check, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range links {
					if !strings.HasSuffix(l, " 200") {
						t.Errorf("%s links to %s", p.path, l)
					}
				}
				if len(links) < 3 {
					t.Errorf("%s: only the links %q", p.path, links)
				}
			case p.check != "":
				bad, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](p.check))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bad {
					t.Errorf("%s on a phone: %s", p.path, b)
				}
			}
			png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			writeShot(t, "phone-"+p.name+".png", png)
			if p.sel != "" {
				png, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS(p.sel)))
				if err != nil {
					t.Fatal(err)
				}
				writeShot(t, "phone-"+p.name+"-part.png", png)
			}
		})
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestUIPhoneAlarm checks that an alarm stays loud on a phone: in bold,
// at the full font size, all of it on the first screen.
func TestUIPhoneAlarm(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	tb.open(srv.URL + "/")
	srv.set(uiLog(t, 10, "ui", 172)) // another log key
	tb.open(srv.URL + "/signatories/microsoft")
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`(() => {
	  const s = document.getElementById('trust-status'), st = getComputedStyle(s), r = s.getBoundingClientRect();
	  return [s.className, st.fontWeight, st.fontSize, String(r.top >= 0 && r.bottom <= innerHeight)];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"status alarm", "700", "16px", "true"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the alarm on a phone: class, weight, size, on the first screen = %q, want %q", got, want)
	}
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	writeShot(t, "phone-alarm.png", png)
}

func writeShot(t *testing.T, name string, png []byte) {
	t.Helper()
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUINotFoundPage checks that a mistyped address of the UI is the UI's
// HTML 404 page for a browser, while the API's and the c2sp.org paths,
// and clients that do not ask for HTML, keep the API's problem.
func TestUINotFoundPage(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, c := range []struct {
		method, path, accept string
		status               int
		ctype, want          string
	}{
		{"GET", "/signatory/microsoft", browserAccept, 404, "text/html; charset=UTF-8", "There is no page here."},
		{"GET", "/nope", "text/html", 404, "text/html; charset=UTF-8", "There is no page here."},
		{"HEAD", "/nope", browserAccept, 404, "text/html; charset=UTF-8", ""},
		{"GET", "/accords", browserAccept, 404, "text/html; charset=UTF-8", "There is no page here."},
		{"GET", "/nope", "", 404, "application/problem+json", "not-found"},
		{"GET", "/nope", "application/json", 404, "application/problem+json", "not-found"},
		{"GET", "/nope", "text/html;q=0, application/json", 404, "application/problem+json", "not-found"},
		{"GET", "/api/v1/nosuch", browserAccept, 404, "application/problem+json", "not-found"},
		{"GET", "/api/v1/nosuch", "", 404, "application/problem+json", "not-found"},
		{"GET", "/tile/x/nosuch", browserAccept, 400, "application/problem+json", ""},
		{"GET", "/checkpoint/x", browserAccept, 404, "application/problem+json", "not-found"},
		{"GET", "/healthz/x", browserAccept, 404, "application/problem+json", "not-found"},
		{"POST", "/nope", browserAccept, 404, "application/problem+json", "not-found"},
		{"GET", "/checkpoint", browserAccept, 200, "text/plain; charset=utf-8", testOrigin},
		{"GET", "/api/v1/log", browserAccept, 200, "application/json", testOrigin},
	} {
		hdr := http.Header{}
		if c.accept != "" {
			hdr.Set("Accept", c.accept)
		}
		resp, body := do(t, h.srv, c.method, c.path, hdr, nil)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s (Accept %q) = %d %q, want %d %q with %q: %.300s", c.method, c.path, c.accept, resp.StatusCode,
				resp.Header.Get("Content-Type"), c.status, c.ctype, c.want, body)
		}
		if strings.HasPrefix(c.ctype, "text/html") {
			checkPage(t, c.path, resp, string(body))
		}
	}
}
