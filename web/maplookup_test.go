package web_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// TestMapLookup asks the server for a key, a principal, an accord, a cell
// and an absent signatory, and verifies each answer as a reader would:
// the checkpoint with the log's key, the root from its extension line,
// the label recomputed from the question, the proof with the value; the
// registry's own value for the leaf is what the proof proves. Bad
// questions are 400 bad-parameter.
func TestMapLookup(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	waitPublished(t, h.log, uint64(len(h.demo.Entries)))
	logKey, err := verify.NewVerifier(h.log.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	sig := "microsoft"
	spki, err := x509.MarshalPKIXPublicKey(h.demo.Keys[sig].Public())
	if err != nil {
		t.Fatal(err)
	}
	keyid := attest.KeyID(spki)
	accord := h.reg.Accords()[0]
	leaves := map[[32]byte][]byte{}
	for _, l := range h.reg.MapLeaves() {
		leaves[l.Label] = l.Value
	}
	for _, tc := range []struct {
		query string
		label [32]byte
		found bool
	}{
		{"signatory=" + sig + "&keyid=" + keyid, attest.MapLabel(attest.MapKey, sig, keyid), true},
		{"signatory=" + sig, attest.MapLabel(attest.MapPrincipal, sig), true},
		{"signatory=registrar", attest.MapLabel(attest.MapPrincipal, attest.RegistrarID), true},
		{"accord=" + accord.ID, attest.MapLabel(attest.MapAccord, accord.ID), true},
		{"signatory=" + sig + "&accord=" + accord.ID + "&principle=" + accord.Principles[0].ID,
			attest.MapLabel(attest.MapCell, sig, accord.ID, accord.Principles[0].ID), true},
		{"signatory=nobody", attest.MapLabel(attest.MapPrincipal, "nobody"), false},
	} {
		resp, body := get(t, h.srv, "/api/v1/map?"+tc.query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.query, resp.StatusCode, body)
		}
		var got api.MapLookup
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		c, _, err := verify.OpenCheckpoint([]byte(got.Checkpoint), testOrigin, []verify.Verifier{logKey}, nil, 0)
		if err != nil {
			t.Fatalf("%s: checkpoint: %v", tc.query, err)
		}
		root, ok, err := attest.ParseMapExtension(c.Extensions)
		if err != nil || !ok {
			t.Fatalf("%s: map extension %v %v", tc.query, ok, err)
		}
		proof := make(attest.MapProof, len(got.Proof))
		for i, n := range got.Proof {
			l, err := prefix.NewLabel(n.Bits, n.Label)
			if err != nil || len(n.Hash) != 32 {
				t.Fatalf("%s: proof node %d: %v", tc.query, i, err)
			}
			proof[i] = prefix.ProofNode{Label: l, Hash: [32]byte(n.Hash)}
		}
		if err := attest.VerifyMapProof(root, tc.label, got.Value, proof); err != nil {
			t.Errorf("%s: %v", tc.query, err)
		}
		if (got.Value != nil) != tc.found || !bytes.Equal(got.Value, leaves[tc.label]) {
			t.Errorf("%s: value %x, the registry's %x", tc.query, got.Value, leaves[tc.label])
		}
		if !bytes.Equal(got.Label, tc.label[:]) || !bytes.Equal(got.MapRoot, root[:]) {
			t.Errorf("%s: label or root fields differ from the question and the checkpoint", tc.query)
		}
	}
	for _, q := range []string{"", "keyid=" + keyid, "signatory=Bad", "signatory=a&keyid=xyz", "signatory=a&accord=b", "signatory=a&other=1", "signatory=a&signatory=b"} {
		resp, body := get(t, h.srv, "/api/v1/map?"+q)
		wantProblem(t, q, resp, body, http.StatusBadRequest, "bad-parameter")
	}
}
