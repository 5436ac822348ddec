package web_test

// Tests of issue 12's findings: requests that must not take the log down.
// Each asserts the finding's figure as a bound; docs/reliability.md
// ("Attack findings") has the figures before and after the fixes.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsMethodFlood sends requests with distinct made-up methods and
// paths and wants the metrics' series to stay a fixed set: before the
// fix, each method was a label value, a series never freed.
func TestMetricsMethodFlood(t *testing.T) {
	h := newHarness(t)
	_, before := get(t, h.srv, "/metrics")
	const n = 2000
	for i := range n {
		method := fmt.Sprintf("X%04d%s", i, strings.Repeat("M", 200))
		req, err := http.NewRequest(method, h.srv.URL+fmt.Sprintf("/flood/%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_, after := get(t, h.srv, "/metrics")
	series := 0
	for line := range strings.Lines(string(after)) {
		if strings.HasPrefix(line, "pledgelog_http_requests_total{") {
			series++
		}
	}
	t.Logf("after %d requests with distinct methods: %d request series, scrape %d → %d bytes", n, series, len(before), len(after))
	// The flood adds at most one series (route "unmatched", method
	// "other", its status) and one latency series' few lines.
	if series > 10 {
		t.Errorf("after %d requests with distinct methods: %d series of pledgelog_http_requests_total, want at most 10", n, series)
	}
	if grown := len(after) - len(before); grown > 8<<10 {
		t.Errorf("after %d requests with distinct methods the scrape grew by %d bytes, want at most 8 KiB", n, grown)
	}
	if !strings.Contains(string(after), `method="other"`) {
		t.Error(`no series with method="other" after the flood`)
	}
}
