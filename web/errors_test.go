package web_test

import "testing"

func TestBadRequests(t *testing.T) {
	h := newHarness(t)
	unknown := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tc := range []struct {
		method, path string
		status       int
		slug         string
	}{
		{"GET", "/tile/0/0", 400, "bad-tile-path"},
		{"GET", "/tile/0/0000", 400, "bad-tile-path"},
		{"GET", "/tile/0/000.p/256", 400, "bad-tile-path"},
		{"GET", "/tile/0/000.p/0", 400, "bad-tile-path"},
		{"GET", "/tile/0/000.p/01", 400, "bad-tile-path"},
		{"GET", "/tile/0/000.p/", 400, "bad-tile-path"},
		{"GET", "/tile/64/000", 400, "bad-tile-path"},
		{"GET", "/tile/00/000", 400, "bad-tile-path"},
		{"GET", "/tile/-1/000", 400, "bad-tile-path"},
		{"GET", "/tile/0/x000/001", 400, "bad-tile-path"},
		{"GET", "/tile/0/x1/000", 400, "bad-tile-path"},
		{"GET", "/tile/0/%30%30%30", 400, "bad-tile-path"},
		{"GET", "/tile/data/000", 400, "bad-tile-path"},
		{"GET", "/tile/8/0/000", 400, "bad-tile-path"},
		{"GET", "/tile/entries/000/", 400, "bad-tile-path"},
		{"GET", "/tile/", 400, "bad-tile-path"},
		{"GET", "/tile/0/x999/x999/x999/x999/x999/x999/999", 400, "bad-tile-path"},
		{"GET", "/tile/0/x018/x446/x744/x073/x709/x551/615", 404, "beyond-tree"},
		{"GET", "/api/v1/entries/600", 404, "beyond-tree"},
		{"GET", "/api/v1/entries/9223372036854775807", 404, "beyond-tree"},
		{"GET", "/api/v1/entries/9223372036854775808", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/18446744073709551616", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/-1", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/+1", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/0x10", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/abc", 400, "bad-parameter"},
		{"GET", "/api/v1/entries/", 404, "not-found"},
		{"GET", "/api/v1/proof/inclusion", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=1&hash=" + unknown, 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=1&index=2", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=x", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=1&size=", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=5&size=3", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=10&size=10", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?index=1&size=99999999999999999999", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?hash=abc", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/inclusion?hash=" + unknown, 404, "entry-not-found"},
		{"GET", "/api/v1/proof/inclusion?index=600", 404, "beyond-tree"},
		{"GET", "/api/v1/proof/inclusion?index=1&size=601", 404, "beyond-tree"},
		{"GET", "/api/v1/proof/inclusion?index=1&size=9223372036854775807", 404, "beyond-tree"},
		{"GET", "/api/v1/proof/inclusion?index=1&size=5", 404, "unknown-tree-size"},
		{"GET", "/api/v1/proof/consistency", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/consistency?from=5&to=3", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/consistency?from=1&to=abc", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/consistency?from=-1", 400, "bad-parameter"},
		{"GET", "/api/v1/proof/consistency?from=601", 404, "beyond-tree"},
		{"GET", "/api/v1/proof/consistency?from=1&to=5", 404, "unknown-tree-size"},
		{"GET", "/api/v1/proof/consistency?from=1&to=18446744073709551615", 400, "bad-parameter"},
		{"GET", "/nope", 404, "not-found"},
		{"GET", "/api/v1/nope", 404, "not-found"},
		{"GET", "/api/v2/log", 404, "not-found"},
		{"GET", "/admin/backup", 404, "not-found"},
		{"POST", "/checkpoint", 405, "method-not-allowed"},
		{"DELETE", "/tile/0/000", 405, "method-not-allowed"},
		{"PUT", "/api/v1/log", 405, "method-not-allowed"},
	} {
		resp, body := do(t, h.srv, tc.method, tc.path, nil, nil)
		wantProblem(t, tc.method+" "+tc.path, resp, body, tc.status, tc.slug)
	}
}
