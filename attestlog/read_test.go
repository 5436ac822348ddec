package attestlog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// readLog is an attestation log holding the demo of seed: the registry
// (genesis, the accord, 34 signatories) and 136 pledges.
func readLog(t *testing.T, seed string) (*Log, []Submission) {
	t.Helper()
	al, _ := countedLog(t)
	subs := demoRegistry(t, al, seed, FromLeaf)
	if _, err := al.Submit(context.Background(), subs[36:], ""); err != nil {
		t.Fatal(err)
	}
	return al, subs
}

// demoPledges returns the demo's pledges by index.
func demoPledges(subs []Submission) map[uint64]*attest.Pledge {
	out := map[uint64]*attest.Pledge{}
	for i, s := range subs {
		if p, ok := s.Envelope.Statement.Predicate.(*attest.Pledge); ok {
			out[uint64(i)] = p
		}
	}
	return out
}

// TestReadRegistry reads accords and signatories back and compares them
// with the registry that admitted them; unknown ids are ErrNotFound.
func TestReadRegistry(t *testing.T) {
	ctx := context.Background()
	al, _ := readLog(t, "read registry")
	docs, err := al.Accords(ctx)
	if err != nil || len(docs) != 1 {
		t.Fatalf("Accords = %d, %v; want 1", len(docs), err)
	}
	id := docs[0].Key
	want, ok := al.Registry().Accord(id)
	if !ok {
		t.Fatalf("the registry has no accord %q", id)
	}
	got, err := al.Accord(ctx, id)
	if err != nil || got.Digest != want.Digest || got.Index != want.Index || len(got.Principles) != 4 {
		t.Errorf("Accord(%q) = %+v, %v; want %+v", id, got, err, want)
	}
	if dec, err := docs[0].Decode(); err != nil || dec.Digest != want.Digest {
		t.Errorf("Accords[0].Decode = %+v, %v", dec, err)
	}
	if _, err := al.Accord(ctx, "no-such-accord"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Accord(unknown) = %v, want ErrNotFound", err)
	}

	all, err := al.AllSignatories(ctx)
	if err != nil || len(all) != 34 {
		t.Fatalf("AllSignatories = %d, %v; want 34", len(all), err)
	}
	if n, err := al.CountSignatories(ctx); err != nil || n != 34 {
		t.Errorf("CountSignatories = %d, %v; want 34", n, err)
	}
	for _, s := range all {
		reg, _ := al.Registry().Signatory(s.ID)
		if s.ID == attest.RegistrarID || s.Head != reg.Head || len(s.Keys) != 1 {
			t.Errorf("signatory %s = %+v, registry says %+v", s.ID, s, reg)
		}
	}
	if !slices.IsSortedFunc(all, func(a, b attest.SignatoryInfo) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("AllSignatories is not by id")
	}
	doc, err := al.Signatory(ctx, all[3].ID)
	if s, derr := doc.Decode(); err != nil || derr != nil || s.ID != all[3].ID || s.Name != all[3].Name {
		t.Errorf("Signatory(%s) = %+v, %v, %v", all[3].ID, s, err, derr)
	}
	doc, err = al.Signatory(ctx, attest.RegistrarID)
	if r, derr := doc.Decode(); err != nil || derr != nil || r.ID != attest.RegistrarID || len(r.Keys) != 1 || r.Keys[0].Added != 0 {
		t.Errorf("Signatory(registrar) = %+v, %v, %v", r, err, derr)
	}
	for _, id := range []string{"no-such-signatory", all[3].ID + "x", all[3].ID[:2]} {
		if _, err := al.Signatory(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Signatory(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// TestReadPaging pages through the principals and signatories at every
// page size around the registrar and the end: every principal once, in
// order, the registrar only among the principals, Next nil only at the
// end, and a foreign cursor refused.
func TestReadPaging(t *testing.T) {
	ctx := context.Background()
	al, _ := readLog(t, "read paging")
	for _, limit := range []int{1, 2, 7, 34, 35, 36, 500} {
		var principals, signatories []string
		pages := 0
		for pg := (Page{Limit: limit}); ; pages++ {
			docs, next, err := al.Principals(ctx, pg)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(docs))
			}
			sdocs, snext, err := al.Signatories(ctx, pg)
			if err != nil || string(snext) != string(next) {
				t.Fatalf("limit %d: Signatories' next %q, Principals' %q (%v)", limit, snext, next, err)
			}
			for _, d := range docs {
				principals = append(principals, d.Key)
			}
			for _, d := range sdocs {
				signatories = append(signatories, d.Key)
			}
			if next == nil {
				break
			}
			pg.After = next
		}
		if len(principals) != 35 || !slices.IsSorted(principals) || len(slices.Compact(slices.Clone(principals))) != 35 {
			t.Errorf("limit %d: principals %v, want 35 sorted ids", limit, principals)
		}
		if len(signatories) != 34 || slices.Contains(signatories, attest.RegistrarID) || !slices.Contains(principals, attest.RegistrarID) {
			t.Errorf("limit %d: signatories %v", limit, signatories)
		}
		// A last full page is followed by an empty one: 35 rows.
		if want := 35/limit + 1; pages+1 != want {
			t.Errorf("limit %d: %d pages, want %d", limit, pages+1, want)
		}
	}
	if _, _, err := al.Signatories(ctx, Page{After: []byte("abb"), Limit: 2}); err != nil {
		t.Errorf("a cursor of no row: %v", err)
	}
	if _, err := al.Search(ctx, Query{Status: attest.StatusCommitted}, Page{After: []byte("signatory/abb/0000000000000001"), Limit: 2}); !errors.Is(err, ErrCursor) {
		t.Errorf("a cursor of another query = %v, want ErrCursor", err)
	}
}

// TestReadSearch runs queries against the demo's pledges and wants the
// indexes that a filter over the entries themselves gives, for every page
// size.
func TestReadSearch(t *testing.T) {
	ctx := context.Background()
	al, subs := readLog(t, "read search")
	pledges := demoPledges(subs)
	accords, _ := al.Accords(ctx)
	accord, _ := accords[0].Decode()
	signatory := pledges[40].Signatory
	subject := subs[40].Envelope.Statement.Subject[0].Digest.SHA256
	for _, tc := range []struct {
		name string
		q    Query
		keep func(index uint64, p *attest.Pledge) bool
	}{
		{"signatory", Query{Signatory: signatory}, func(i uint64, p *attest.Pledge) bool {
			reg, _ := al.Registry().Signatory(signatory)
			return p != nil && p.Signatory == signatory || p == nil && i == reg.Registered
		}},
		{"principle", Query{Accord: accord.ID, Principle: "no-offense"}, func(_ uint64, p *attest.Pledge) bool {
			return p != nil && p.Principle == "no-offense"
		}},
		{"principle and signatory", Query{Accord: accord.ID, Principle: "no-offense", Signatory: signatory},
			func(_ uint64, p *attest.Pledge) bool {
				return p != nil && p.Principle == "no-offense" && p.Signatory == signatory
			}},
		{"status", Query{Status: attest.StatusCommitted}, func(_ uint64, p *attest.Pledge) bool { return p != nil }},
		{"subject", Query{Subject: subject, Status: attest.StatusCommitted}, func(_ uint64, p *attest.Pledge) bool { return p != nil }},
		{"no match", Query{Signatory: signatory, Status: attest.StatusVoid}, func(uint64, *attest.Pledge) bool { return false }},
		{"unknown", Query{Signatory: "nobody"}, func(uint64, *attest.Pledge) bool { return false }},
	} {
		var want []uint64
		for i := range subs {
			if tc.keep(uint64(i), pledges[uint64(i)]) {
				want = append(want, uint64(i))
			}
		}
		if tc.name == "status" && len(want) != 136 || tc.name == "principle and signatory" && len(want) != 1 {
			t.Fatalf("%s: the demo has %d such entries", tc.name, len(want))
		}
		for _, limit := range []int{1, 3, 34, 500} {
			var got []uint64
			pg := Page{Limit: limit}
			for range 1000 {
				h, err := al.Search(ctx, tc.q, pg)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if len(h.Indexes) > limit {
					t.Fatalf("%s, limit %d: %d hits", tc.name, limit, len(h.Indexes))
				}
				got = append(got, h.Indexes...)
				if h.Next == nil {
					break
				}
				pg.After = h.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s, limit %d: %v, want %v", tc.name, limit, got, want)
			}
		}
	}
	for _, q := range []Query{{}, {Principle: "no-offense"}} {
		if _, err := al.Search(ctx, q, Page{Limit: 1}); err == nil {
			t.Errorf("Search(%+v) succeeded", q)
		}
	}
}

// TestReadPledges checks the latest-pledge matrix, a signatory's pledges,
// pledge rows and the leaf-hash index against the demo's entries.
func TestReadPledges(t *testing.T) {
	ctx := context.Background()
	al, subs := readLog(t, "read pledges")
	pledges := demoPledges(subs)
	accords, _ := al.Accords(ctx)
	accord := accords[0].Key
	latest, err := al.LatestByAccord(ctx, accord)
	if err != nil || len(latest) != 136 {
		t.Fatalf("LatestByAccord = %d cells, %v; want 136", len(latest), err)
	}
	for _, l := range latest {
		p := pledges[l.Index]
		if p == nil || p.Signatory != l.Signatory || p.Principle != l.Principle || l.Accord != accord || l.Status != p.Status {
			t.Errorf("cell %+v, entry %d is %+v", l, l.Index, p)
		}
	}
	if l, err := al.LatestByAccord(ctx, "other"); err != nil || len(l) != 0 {
		t.Errorf("LatestByAccord(other) = %v, %v", l, err)
	}

	signatory := pledges[40].Signatory
	var want []uint64
	for i, p := range pledges {
		if p.Signatory == signatory {
			want = append(want, i)
		}
	}
	slices.Sort(want)
	mine, err := al.LatestBySignatory(ctx, signatory)
	if err != nil || len(mine) != 4 {
		t.Fatalf("LatestBySignatory = %d, %v; want 4", len(mine), err)
	}
	cells, err := DecodeAll(mine)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []uint64
	for i, l := range cells {
		if l.Signatory != signatory || l.Accord != accord || pledges[l.Index].Principle != l.Principle ||
			i > 0 && cells[i-1].Principle >= l.Principle {
			t.Errorf("LatestBySignatory[%d] = %+v: not the signatory's, or not by principle", i, l)
		}
		indexes = append(indexes, l.Index)
	}
	if slices.Sort(indexes); !slices.Equal(indexes, want) {
		t.Errorf("LatestBySignatory lists entries %v, want %v", indexes, want)
	}
	logged, err := al.Pledges(ctx, signatory, 500)
	if err != nil || len(logged) != 4 {
		t.Fatalf("Pledges = %+v, %v; want 4", logged, err)
	}
	for i, lp := range logged {
		if lp.Index != want[i] || lp.Info.Signatory != signatory || lp.Info.Void {
			t.Errorf("Pledges[%d] = %+v, want entry %d", i, lp, want[i])
		}
	}
	// The limit counts the entries that name the signatory, its
	// registration first.
	if logged, err := al.Pledges(ctx, signatory, 2); err != nil || len(logged) != 1 || logged[0].Index != want[0] {
		t.Errorf("Pledges(limit 2) = %+v, %v; want entry %d", logged, err, want[0])
	}

	info, err := al.PledgeInfo(ctx, want[1])
	if err != nil || info.Signatory != signatory || info.Principle != pledges[want[1]].Principle {
		t.Errorf("PledgeInfo(%d) = %+v, %v", want[1], info, err)
	}
	for _, i := range []uint64{0, 1, 5, uint64(len(subs)), 1 << 40} {
		if _, err := al.PledgeInfo(ctx, i); !errors.Is(err, ErrNotFound) {
			t.Errorf("PledgeInfo(%d) of no pledge = %v, want ErrNotFound", i, err)
		}
	}

	for _, i := range []uint64{0, 35, 171} {
		got, err := al.IndexByLeafHash(ctx, verify.LeafHash(subs[i].Leaf))
		if err != nil || got != i {
			t.Errorf("IndexByLeafHash(entry %d) = %d, %v", i, got, err)
		}
	}
	if _, err := al.IndexByLeafHash(ctx, verify.LeafHash([]byte("not an entry"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("IndexByLeafHash(unknown) = %v, want ErrNotFound", err)
	}
}
