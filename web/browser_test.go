package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests run the web UI in a real headless Chromium (Debian's
// chromium; .ci/run installs it), one browser per test binary, a tab per
// test. Each test serves on its own loopback port, so each has its own
// localStorage: the browser's trust state starts empty.

// shotDir receives the screenshots of the pages, to look at.
const shotDir = "/tmp/pledgelog-shots"

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
		removeAll(browser.dir)
	}
	os.Exit(code)
}

// removeAll removes dir, retrying while the browser's children still write.
func removeAll(dir string) {
	for range 50 {
		if os.RemoveAll(dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(path string) {
	dir, err := os.MkdirTemp("", "pledgelog-chromium")
	if err != nil {
		browser.err = err
		return
	}
	browser.dir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	browser.ctx, browser.cancel = ctx, func() { cancel(); cancelAlloc() }
	browser.err = chromedp.Do(ctx) // starts the browser, without a timeout
}

// tab is one browser tab and the console messages it collected.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	msg []string // console errors and exceptions
}

// newTab opens a tab in the shared browser. Without chromium the test
// fails on CI and is skipped elsewhere.
func newTab(t *testing.T) *tab {
	t.Helper()
	return newTabWith(t)
}

// newTabWith opens a tab with opts (chromedp.WithNewBrowserContext: a
// reader of its own, whose localStorage is not the other tabs').
func newTabWith(t *testing.T, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: the browser tests cannot run (.ci/run installs it)")
		}
		t.Skip("!!!!! SKIPPING THE BROWSER TESTS: chromium is not installed (apt-get install -y chromium) !!!!!")
	}
	browser.once.Do(func() { startBrowser(path) })
	if browser.err != nil {
		t.Fatalf("starting chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, opts...)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	tb := &tab{t: t, ctx: ctx}
	t.Cleanup(func() { cancelTimeout(); cancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	go tb.collect(chromedp.Console(ctx))
	return tb
}

func (tb *tab) collect(messages func(func(chromedp.ConsoleMessage, error) bool)) {
	for m, err := range messages {
		if err != nil {
			return
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			tb.mu.Lock()
			tb.msg = append(tb.msg, m.String()+" at "+m.URL)
			tb.mu.Unlock()
		}
	}
}

// errors returns the console errors so far, and forgets them.
func (tb *tab) errors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := tb.msg
	tb.msg = nil
	return out
}

// open loads url and waits until page.js has checked the log.
func (tb *tab) open(url string) {
	tb.t.Helper()
	// A new fragment of the same page does not load it again: page.js
	// reloads it, and this waits for the reloaded page.
	chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`document.body && delete document.body.dataset.checked`))
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("loading %s: %v", url, err)
	}
	tb.waitChecked("loading " + url)
}

// waitChecked waits until page.js has checked the log, through reloads.
func (tb *tab) waitChecked(what string) {
	tb.t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// An error is a reload's: the old page's context went away.
		var ok bool
		if ok, err = chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!!(document.body && document.body.dataset.checked)`)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) || tb.ctx.Err() != nil {
			tb.t.Fatalf("%s: the page did not check the log within 30s (%v)", what, err)
		}
	}
}

// text returns the text of the element sel.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// shoot saves screenshots of the page at desktop and phone widths.
func (tb *tab) shoot(name string) {
	tb.t.Helper()
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	for _, v := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		var opts []chromedp.EmulateViewportOption
		if v.mobile {
			opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
		}
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(v.w, v.h, opts...)); err != nil {
			tb.t.Fatalf("viewport %s: %v", name, err)
		}
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			tb.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shotDir, name+"-"+v.suffix+".png"), png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	if err := chromedp.Do(tb.ctx, chromedp.ResetViewport()); err != nil {
		tb.t.Fatal(err)
	}
}

// overflowJS lists, when the page is wider than the screen, the elements
// whose content sticks out (those in a scrolling box or a pre aside).
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return out;
  for (const el of document.body.querySelectorAll('*')) {
    if (el.parentElement.closest('.scroll, pre') || el.matches('.scroll, .visually-hidden') || el.clientWidth === 0) continue;
    if (el.getBoundingClientRect().right > w + 1 || el.scrollWidth > el.clientWidth + 1) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '') + ' ' + el.scrollWidth);
    }
  }
  return out.length ? out.slice(0, 5) : ['the page is ' + document.documentElement.scrollWidth + ' pixels wide'];
})()`

// phoneOverflow returns the elements wider than a 390-pixel phone screen.
func (tb *tab) phoneOverflow() []string {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		tb.t.Fatal(err)
	}
	defer chromedp.Do(tb.ctx, chromedp.ResetViewport())
	out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](overflowJS))
	if err != nil {
		tb.t.Fatal(err)
	}
	return out
}
