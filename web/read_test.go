package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attestlog"
	"net/url"
	"slices"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// TestDemoMatrix checks that the latest-pledge matrix served equals the one
// the demo was built from.
func TestDemoMatrix(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	want := map[string]attest.LatestPledge{}
	for i, leaf := range h.demo.Entries {
		env, err := attest.ParseLeaf(leaf)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := env.Statement.Predicate.(*attest.Pledge); ok {
			want[p.Signatory+"/"+p.Accord+"/"+p.Principle] = attest.LatestPledge{Signatory: p.Signatory,
				Accord: p.Accord, Principle: p.Principle, Index: uint64(i), Status: p.Status}
		}
	}
	got := map[string]attest.LatestPledge{}
	for _, id := range h.signatoryIDs(t, 7) {
		var d struct {
			Signatory attest.SignatoryInfo `json:"signatory"`
			Recovered []uint64             `json:"recovered"`
			Latest    []attest.LatestPledge
		}
		getJSONLoose(t, h, "/api/v1/signatories/"+id, &d)
		if d.Signatory.ID != id || len(d.Signatory.Keys) != 1 || len(d.Recovered) != 0 {
			t.Errorf("signatory %s: %+v", id, d)
		}
		for _, l := range d.Latest {
			got[l.Signatory+"/"+l.Accord+"/"+l.Principle] = l
		}
	}
	if len(got) != len(want) || len(want) != 136 {
		t.Fatalf("matrix has %d cells, want %d (136)", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("cell %s = %+v, want %+v", k, got[k], w)
		}
	}
}

// signatoryIDs pages through /api/v1/signatories.
func (h *demoHarness) signatoryIDs(t *testing.T, limit int) []string {
	var ids []string
	for cursor := ""; ; {
		var page struct {
			Signatories []attest.SignatoryInfo `json:"signatories"`
			Next        string                 `json:"next"`
		}
		path := fmt.Sprintf("/api/v1/signatories?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		getJSONLoose(t, h, path, &page)
		for _, s := range page.Signatories {
			ids = append(ids, s.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(ids) != 34 || !slices.IsSorted(ids) {
		t.Fatalf("signatories: %d ids %v, want 34 sorted", len(ids), ids)
	}
	return ids
}

// getJSONLoose fetches path and decodes the fields v names.
func getJSONLoose(t *testing.T, h *demoHarness, path string, v any) {
	t.Helper()
	resp, body := get(t, h.srv, path)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestSearch(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	var want []uint64
	for i, leaf := range h.demo.Entries {
		env, _ := attest.ParseLeaf(leaf)
		if p, ok := env.Statement.Predicate.(*attest.Pledge); ok && p.Principle == "no-offense" {
			want = append(want, uint64(i))
		}
	}
	q := "status=committed&accord=" + accordID + "&principle=no-offense&limit=5"
	var got []uint64
	for cursor := ""; ; {
		var page api.SearchResults
		path := "/api/v1/search?" + q
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		getJSON(t, h.srv, path, &page)
		for _, r := range page.Results {
			got = append(got, r.Index)
			// Each hit says what it is, as the entry's statement does.
			env, _ := attest.ParseLeaf(h.demo.Entries[r.Index])
			p := env.Statement.Predicate.(*attest.Pledge)
			var info attest.PledgeInfo
			if r.Kind != api.SearchPledge || r.Pledge == nil || json.Unmarshal(*r.Pledge, &info) != nil ||
				info.Signatory != p.Signatory || info.Accord != p.Accord || info.Principle != p.Principle ||
				info.Status != p.Status || info.KeyID != env.Signatures[0].KeyID {
				t.Errorf("hit %d: kind %q, pledge %s; the entry is %+v", r.Index, r.Kind, r.Pledge, p)
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("search %s = %v, want %v", q, got, want)
	}
	for _, path := range []string{
		"/api/v1/search", "/api/v1/search?status=nope", "/api/v1/search?status=committed&limit=0",
		"/api/v1/search?status=committed&limit=501", "/api/v1/search?status=committed&limit=05",
		"/api/v1/search?status=committed&cursor=%21%21", "/api/v1/search?status=committed&cursor=c2lnbmF0b3J5Lw",
		"/api/v1/search?principle=no-offense", "/api/v1/search?subject=ABC", "/api/v1/search?signatory=Bad_ID",
		"/api/v1/search?status=committed&status=void", "/api/v1/search?status=committed&color=red",
		"/api/v1/signatories/Bad_ID", "/api/v1/signatories?limit=x", "/api/v1/accords?x=1",
	} {
		resp, body := get(t, h.srv, path)
		wantProblem(t, path, resp, body, 400, "bad-parameter")
	}
	resp, body := get(t, h.srv, "/api/v1/signatories/nobody")
	wantProblem(t, "unknown signatory", resp, body, 404, "signatory-not-found")

	// Ids are lowercase: a signatory typed with capitals is found.
	var lower, upper api.SearchResults
	getJSON(t, h.srv, "/api/v1/search?signatory=microsoft", &lower)
	getJSON(t, h.srv, "/api/v1/search?signatory=MicroSoft", &upper)
	if len(lower.Results) == 0 || !slices.Equal(indexes(lower), indexes(upper)) {
		t.Errorf("signatory=MicroSoft found %v, signatory=microsoft %v", indexes(upper), indexes(lower))
	}
	// A signatory's registry events are hits of their own kind.
	registry := 0
	for _, r := range lower.Results {
		if r.Kind == api.SearchRegistry && r.Pledge == nil {
			registry++
		} else if r.Kind != api.SearchPledge || r.Pledge == nil {
			t.Errorf("hit %d: kind %q, pledge %s", r.Index, r.Kind, r.Pledge)
		}
	}
	if registry == 0 {
		t.Errorf("signatory=microsoft: no registry event among %d hits", len(lower.Results))
	}
	// An accord the log does not hold, or a principle it does not have,
	// is refused rather than answered with an empty page.
	for _, path := range []string{"/api/v1/search?accord=no-such-accord", "/api/v1/search?accord=" + accordID + "&principle=no-such-principle"} {
		resp, body := get(t, h.srv, path)
		wantProblem(t, path, resp, body, 422, "unknown-reference")
	}
}

func indexes(r api.SearchResults) []uint64 {
	var out []uint64
	for _, x := range r.Results {
		out = append(out, x.Index)
	}
	return out
}

// TestLeafHashLookup finds entries by leaf hash through TableLeaf.
func TestLeafHashLookup(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	for _, i := range []uint64{0, 5, 171} {
		lh := verify.LeafHash(h.demo.Entries[i])
		var p api.InclusionProof
		getJSON(t, h.srv, "/api/v1/proof/inclusion?hash="+url.QueryEscape(lh.String()), &p)
		if p.Index != i {
			t.Errorf("inclusion proof by leaf hash of entry %d: index %d", i, p.Index)
		}
	}
}

// TestReindex rebuilds the derived rows of a log with rotations, a
// compromise and voided pledges, and wants them byte for byte.
func TestReindex(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	gg, gg2 := h.demo.Keys["github"], newKey(t)
	tok := h.token("github", gg, nil)
	h.mustPost(tok, h.event(&attest.SignatoryEvent{Action: attest.ActionAddKey, Signatory: "github", Key: publicKey(t, gg2)}, gg, gg2))
	from := h.log.Latest().Size
	h.mustPost(tok, h.pledge("github", "no-offense", "Soon void.", gg))
	h.mustPost(tok, h.pledge("github", "stronger-defense", "Also void.", gg))
	tok2 := h.token("github", gg2, nil)
	h.mustPost(tok2, h.event(&attest.SignatoryEvent{Action: attest.ActionRevoke, Signatory: "github", KeyID: keyID(t, gg),
		Reason: attest.ReasonCompromised, VoidFrom: &from}, gg2))
	h.mustPost(tok2, h.pledge("github", "no-offense", "With the new key.", gg2))

	before := allRows(t, h.st)
	if err := attestlog.Reindex(context.Background(), h.log, nil); err != nil {
		t.Fatal(err)
	}
	after := allRows(t, h.st)
	if len(before) != len(after) {
		t.Fatalf("reindex: %d rows, want %d", len(after), len(before))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("reindex: row %d = %q, want %q", i, after[i], before[i])
		}
	}
}

func (h *demoHarness) mustPost(token string, body []byte) {
	h.t.Helper()
	resp, rb := h.post("/api/v1/entries", token, body)
	if resp.StatusCode != 201 {
		h.t.Fatalf("POST = %d: %s", resp.StatusCode, rb)
	}
}

// allRows returns every derived row as "table key value" strings.
func allRows(t *testing.T, st log.Storage) []string {
	var out []string
	for _, table := range attestlog.DerivedTables {
		rows, err := st.Rows(context.Background(), table, nil, nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %x %x", table, r.Key, r.Value))
		}
	}
	if len(out) < 172 {
		t.Fatalf("only %d derived rows", len(out))
	}
	return out
}
