package web_test

import (
	"net/http"
	"testing"

	"github.com/pledgelog/pledgelog/verify/bundle"
)

// TestBundleVersions: the write API and the bundle route answer v2
// bundles, or v1 for an Accept that names v1 only, with Vary: Accept;
// each verifies, v1 with its registry chain and v2 with its map proofs;
// and a v2 bundle of an entry whose checkpoint later ones followed is
// still proven at its own checkpoint (the map keeps recent sizes).
func TestBundleVersions(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	ms := h.demo.Keys["microsoft"]
	resp, body := h.post("/api/v1/entries", h.token("microsoft", ms, nil), h.pledge("microsoft", "no-offense", "Versions.", ms))
	index := h.wantBundle("v2 by default", resp, body, 201)
	first, _ := bundle.Parse(body)
	if !first.IsV2() || first.Map.Owner != "microsoft" || first.Map.Accord == nil {
		t.Fatalf("default bundle: %+v", first.Map)
	}
	if v := resp.Header.Values("Vary"); !contains(v, "Accept") {
		t.Errorf("Vary %q lacks Accept", v)
	}

	hd := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + h.token("microsoft", ms, nil)},
		"Accept": {bundle.MediaType}}
	resp, body = do(t, h.srv, http.MethodPost, "/api/v1/entries", hd, h.pledge("microsoft", "no-offense", "Versions, v1.", ms))
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != bundle.MediaType {
		t.Fatalf("Accept v1: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	b, err := bundle.Parse(body)
	if err != nil || b.IsV2() || len(b.Evidence) == 0 {
		t.Fatalf("Accept v1: %v, %+v", err, b)
	}
	if r, err := bundle.Verify(b, h.policy()); err != nil || r.Version != 1 {
		t.Fatalf("v1 bundle: %v", err)
	}

	// More checkpoints, then the first bundle's own checkpoint again:
	// a duplicate submission answers the bundle of the first index.
	for i := range 3 {
		resp, body = h.post("/api/v1/entries", h.token("microsoft", ms, nil), h.pledge("microsoft", "no-offense", "More "+itoa(uint64(i)), ms))
		h.wantBundle("more", resp, body, 201)
	}
	path := "/api/v1/entries/" + itoa(index) + "/bundle"
	for _, tc := range []struct {
		accept, want string
	}{
		{"", bundle.MediaTypeV2},
		{"application/json", bundle.MediaTypeV2},
		{bundle.MediaType, bundle.MediaType},
		{bundle.MediaType + ", " + bundle.MediaTypeV2, bundle.MediaTypeV2},
	} {
		hd := http.Header{}
		if tc.accept != "" {
			hd.Set("Accept", tc.accept)
		}
		resp, body := do(t, h.srv, http.MethodGet, path, hd, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.want {
			t.Fatalf("GET %s, Accept %q: %d %s, want %s: %s", path, tc.accept, resp.StatusCode, resp.Header.Get("Content-Type"), tc.want, body)
		}
		b, err := bundle.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		r, err := bundle.Verify(b, h.policy())
		if err != nil || r.Index != index {
			t.Fatalf("GET %s, Accept %q: Verify = %v", path, tc.accept, err)
		}
		if b.IsV2() && (r.Size != h.log.Published().Size || r.KeyRevoked != nil) {
			t.Fatalf("v2 bundle at size %d (published %d), revoked %v", r.Size, h.log.Published().Size, r.KeyRevoked)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
