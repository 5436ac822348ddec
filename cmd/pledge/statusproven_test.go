package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/client"
)

// rewriter serves the test log, but passes the answers of path through
// lie: a server that lies about what it holds.
func rewriter(t *testing.T, path string, lie func(body []byte) []byte) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(logURL + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == path && resp.StatusCode == http.StatusOK {
			body = lie(body)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// TestStatusProven: pledge status proves, with the pinned log key, the
// signatory's state, its keys' states and its latest pledges by map
// proofs against the real test log, and says against which checkpoint;
// a server whose JSON hides a revocation or a pledge, or whose map
// answers do not verify, is an alarm (exit 1).
func TestStatusProven(t *testing.T) {
	e := newEnv(t)
	e.register("provco")
	e.must("pledge", "keygen", "--out", "config/second.pem")
	e.must("pledge", "add-key", "--id", "provco", "--new-key", "config/second.pem")
	var fp struct {
		KeyID string `json:"keyid"`
	}
	json.Unmarshal([]byte(e.must("pledge", "fingerprint", "--key", "config/second.pem", "--json").stdout), &fp)
	second := fp.KeyID
	e.must("pledge", "revoke-key", "--id", "provco", "--keyid", second, "--reason", "superseded")
	e.must("pledge", "sign", "--signatory", "provco", "--accord", accord, "--principle", "no-offense",
		"--status", "committed", "--statement", "Proven.")
	e.must("pledge", "submit")
	info, err := client.New(logURL).Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pin := []string{"--log-key", info.VerifierKey}

	r := e.must("pledge", append([]string{"status", "--id", "provco"}, pin...)...)
	for _, s := range []string{"proven by map proofs against checkpoint ", "signed by the pinned log key",
		"key " + second + ": added at index ", ", revoked since ", "/no-offense: committed at index ", "/stronger-defense: no pledge"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("status lacks %q:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "ALARM") || strings.Contains(r.stderr, "WARNING") {
		t.Errorf("status with the pinned key:\n%s%s", r.stdout, r.stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(e.must("pledge", append([]string{"status", "--id", "provco", "--json"}, pin...)...).stdout), &rep); err != nil {
		t.Fatal(err)
	}
	p := rep.Proven
	if p == nil || p.Size == 0 || p.LogKey != info.VerifierKey || len(p.Keys) != 2 || p.Principal.Seq == nil || *p.Principal.Seq != rep.Signatory.Seq {
		t.Fatalf("status --json proven: %+v", p)
	}
	for _, k := range p.Keys {
		if k.KeyID == second && (k.Revoked == nil || *k.Revoked != *rep.Signatory.Keys[1].Revoked) || k.KeyID != second && k.Revoked != nil {
			t.Errorf("proven key %+v, the server's %+v", k, rep.Signatory.Keys)
		}
	}
	var cell bool
	for _, c := range p.Cells {
		if c.Principle == "no-offense" {
			cell = c.Present && c.Index != nil && *c.Index == rep.Latest[0].Index && c.Status == "committed"
		}
	}
	if !cell || len(rep.Latest) != 1 {
		t.Errorf("proven cells %+v, latest %+v", p.Cells, rep.Latest)
	}

	// The server's JSON lies: the revoked key shown valid; the pledge hidden.
	detail := func(edit func(d *api.SignatoryDetail, info map[string]any)) func([]byte) []byte {
		return func(b []byte) []byte {
			var d api.SignatoryDetail
			var info map[string]any
			json.Unmarshal(b, &d)
			json.Unmarshal(d.Signatory, &info)
			edit(&d, info)
			d.Signatory, _ = json.Marshal(info)
			out, _ := json.Marshal(d)
			return out
		}
	}
	for _, tc := range []struct {
		name, path string
		lie        func([]byte) []byte
		want       string
	}{
		{"a revocation hidden", "/api/v1/signatories/provco", detail(func(_ *api.SignatoryDetail, info map[string]any) {
			for _, k := range info["keys"].([]any) {
				delete(k.(map[string]any), "revoked")
			}
		}), "MISMATCH: the server says key " + second + " is valid since index"},
		{"a pledge hidden", "/api/v1/signatories/provco", detail(func(d *api.SignatoryDetail, _ map[string]any) { d.Latest = nil }),
			"MISMATCH: the server shows no pledge to " + accord + "/no-offense, the map proves committed at index"},
		{"a key hidden", "/api/v1/signatories/provco", detail(func(_ *api.SignatoryDetail, info map[string]any) {
			info["keys"] = info["keys"].([]any)[:1]
		}), "MISMATCH: your key " + second + " is a key of provco"},
		{"a map value rewritten", "/api/v1/map", func(b []byte) []byte {
			var l api.MapLookup
			json.Unmarshal(b, &l)
			if l.Kind == "key" && len(l.Value) > 0 {
				l.Value[len(l.Value)-1] ^= 1
			}
			out, _ := json.Marshal(l)
			return out
		}, "map lookup does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rewriter(t, tc.path, tc.lie)
			r := e.run("pledge", append([]string{"status", "--id", "provco", "--url", url}, pin...)...)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("status against %s = %d, want 1 and %q:\n%s%s", tc.name, r.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}
