package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/lookup"
)

// liar serves the real server s, but rewrites the answers of
// /api/v1/map with lie: a server that lies about the registry map.
func liar(t *testing.T, s *testServer, lie func(r *http.Request, l *api.MapLookup)) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(s.url + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/api/v1/map" && resp.StatusCode == http.StatusOK {
			var l api.MapLookup
			if err := json.Unmarshal(body, &l); err != nil {
				t.Errorf("the real server's map answer: %v", err)
			}
			lie(r, &l)
			body, _ = json.Marshal(l)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// lookupJSON runs pledge-verify lookup --json against url and returns
// what it proved.
func lookupJSON(t *testing.T, s *testServer, url string, q ...string) lookup.JSON {
	t.Helper()
	out := want(t, 0, nil, append(append([]string{"lookup", "--url", url, "--json"}, q...), s.trust()...)...)
	var res struct {
		Verified bool        `json:"verified"`
		Lookup   lookup.JSON `json:"lookup"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Verified {
		t.Fatalf("lookup --json printed %q: %v", out, err)
	}
	return res.Lookup
}

// TestLookup proves leaves of a real server's map, present and absent,
// and catches a server that lies about them.
func TestLookup(t *testing.T) {
	s := newServer(t, "lookup test")
	keyOf := func(id string) string {
		pk, err := attest.NewPublicKey(s.demo.Keys[id].Public())
		if err != nil {
			t.Fatal(err)
		}
		return pk.ID()
	}
	accord := s.reg.Accords()[0]
	principle := accord.Principles[0].ID
	ms, cisco := keyOf("microsoft"), keyOf("cisco")
	s.append(s.pledge("microsoft", 0), s.revoke("cisco", 100))
	size := s.log.Latest().Size
	msInfo, _ := s.reg.Signatory("microsoft")
	latest := s.reg.Latest("microsoft")

	// Present: a valid key, a revoked one, a principal, an accord, a cell.
	k := lookupJSON(t, s, s.url, "--signatory", "microsoft", "--keyid", ms)
	if !k.Present || k.Size != size || k.Added == nil || *k.Added != msInfo.Registered || k.Revoked != nil || k.VoidFrom != nil {
		t.Errorf("microsoft's key: %+v", k)
	}
	k = lookupJSON(t, s, s.url, "--signatory", "cisco", "--keyid", cisco)
	if !k.Present || k.Revoked == nil || *k.Revoked != size-1 || k.VoidFrom == nil || *k.VoidFrom != 100 {
		t.Errorf("cisco's revoked key: %+v", k)
	}
	want(t, 0, []string{"key " + cisco + " of cisco: added at index", "revoked since " + itoa(size-1), "void from index 100",
		"proven by a map proof against checkpoint " + itoa(size), "map root"},
		append([]string{"lookup", "--url", s.url, "--signatory", "cisco", "--keyid", cisco}, s.trust()...)...)
	if p := lookupJSON(t, s, s.url, "--signatory", "microsoft"); !p.Present || p.Seq == nil || *p.Seq != msInfo.Seq || p.Head != msInfo.Head {
		t.Errorf("principal microsoft: %+v, want seq %d head %s", p, msInfo.Seq, msInfo.Head)
	}
	if a := lookupJSON(t, s, s.url, "--accord", accord.ID); !a.Present || a.Index == nil || *a.Index != accord.Index || a.Digest != accord.Digest {
		t.Errorf("accord: %+v", a)
	}
	var want0 attest.LatestPledge
	for _, l := range latest {
		if l.Accord == accord.ID && l.Principle == principle {
			want0 = l
		}
	}
	if c := lookupJSON(t, s, s.url, "--signatory", "microsoft", "--accord", accord.ID, "--principle", principle); !c.Present ||
		c.Index == nil || *c.Index != want0.Index || *c.Index != size-2 || c.Status != want0.Status {
		t.Errorf("microsoft's latest pledge to %s: %+v, want %+v", principle, c, want0)
	}

	// Absent: a key of another signatory, a signatory, a cell.
	for _, q := range [][]string{{"--signatory", "microsoft", "--keyid", cisco}, {"--signatory", "nobody"},
		{"--signatory", "nobody", "--accord", accord.ID, "--principle", principle}} {
		if r := lookupJSON(t, s, s.url, q...); r.Present || r.Size != size {
			t.Errorf("lookup %q: %+v, want proven absent at %d", q, r, size)
		}
	}
	want(t, 0, []string{"principal nobody: not in the registry (proven absent), proven by a map proof against checkpoint " + itoa(size)},
		append([]string{"lookup", "--url", s.url, "--signatory", "nobody"}, s.trust()...)...)

	// Lies, each caught (exit status 1) and named.
	otherLabel := attest.MapLabel(attest.MapKey, "microsoft", ms)
	var otherAnswer api.MapLookup
	{
		resp, err := http.Get(s.url + "/api/v1/map?signatory=microsoft&keyid=" + ms)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&otherAnswer)
		resp.Body.Close()
	}
	q := []string{"--signatory", "cisco", "--keyid", cisco}
	for _, tc := range []struct {
		name string
		lie  func(*api.MapLookup)
		want string
	}{
		{"a wrong value: the revoked key as valid", func(l *api.MapLookup) { l.Value = attest.MapKeyValue(5, nil, nil) },
			"the proof of membership with the answer's value fails"},
		{"a wrong proof", func(l *api.MapLookup) { l.Proof[0].Hash[0] ^= 1 }, "the proof of membership with the answer's value fails"},
		{"a truncated proof", func(l *api.MapLookup) { l.Proof = l.Proof[1:] }, "fails"},
		{"the key hidden", func(l *api.MapLookup) { l.Value = nil }, "the proof of absence fails"},
		{"a map root the checkpoint does not commit to", func(l *api.MapLookup) { l.MapRoot[0] ^= 1 }, "is not the root"},
		{"another leaf's label", func(l *api.MapLookup) { l.Label = otherLabel[:] }, "the answer's label"},
		{"another leaf's answer", func(l *api.MapLookup) { *l = otherAnswer }, "the answer's label"},
		{"another leaf's proof and value under the right label", func(l *api.MapLookup) {
			label := l.Label
			*l = otherAnswer
			l.Label = label
		}, "the proof of membership with the answer's value fails"},
		{"another kind", func(l *api.MapLookup) { l.Kind = "cell" }, `the answer is a "cell"`},
		{"a malformed value", func(l *api.MapLookup) { l.Value = l.Value[:3] }, "fails"},
		{"an unsigned checkpoint", func(l *api.MapLookup) { l.Checkpoint = strings.SplitN(l.Checkpoint, "\n\n", 2)[0] + "\n\n" }, "checkpoint:"},
		{"a size other than the checkpoint's", func(l *api.MapLookup) { l.Size++ }, "the answer says size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := liar(t, s, func(_ *http.Request, l *api.MapLookup) { tc.lie(l) })
			want(t, 1, []string{"map lookup does not verify", "key " + cisco + " of cisco", tc.want},
				append(append([]string{"lookup", "--url", url}, q...), s.trust()...)...)
		})
	}

	// Usage and network.
	want(t, 2, []string{"--keyid"}, append([]string{"lookup", "--url", s.url, "--keyid", cisco}, s.trust()...)...)
	want(t, 2, []string{"keyid"}, append([]string{"lookup", "--url", s.url, "--signatory", "cisco", "--keyid", "XY"}, s.trust()...)...)
	want(t, 2, []string{"fetch failed"}, append([]string{"lookup", "--url", proxyStatus(t, s, "/api/v1/map", http.StatusBadGateway), "--signatory", "cisco"}, s.trust()...)...)
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
