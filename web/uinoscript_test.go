package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestUINoScript reads the pages with JavaScript off: everything is
// there, and the pages say what a script would have checked.
func TestUINoScript(t *testing.T) {
	tb := newTab(t)
	srv := newUIServer(t, uiLog(t, 9, "ui", 172))
	off := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	if err := chromedp.Do(tb.ctx, off); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ path, want string }{
		{"/", "Your browser has not checked this log"},
		{"/accords/" + accordID, "Latest pledge of each signatory"},
		{"/entries/100", "Not checked: with JavaScript on, your browser fetches"},
	} {
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(srv.URL+p.path)); err != nil {
			t.Fatal(err)
		}
		if got := tb.text("body"); !strings.Contains(got, p.want) || !strings.Contains(got, "Demo data.") {
			t.Errorf("%s without JavaScript does not show %q and the demo banner", p.path, p.want)
		}
		if got := tb.text("body"); strings.Contains(got, "Verified:") {
			t.Errorf("%s without JavaScript says it verified", p.path)
		}
	}
	tb.shoot("noscript-entry")
}
