package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/web"
)

// TestEntryBundleWitnessed checks GET /api/v1/entries/{index}/bundle on a
// witnessed log: nothing before the entry is published, then a bundle on
// the cosigned checkpoint that a policy with a quorum of one accepts.
func TestEntryBundleWitnessed(t *testing.T) {
	policy := []byte("log x\nquorum none\n")
	h := newDemoHarness(t, func(c *web.Config) { c.Policy = policy }, func(c *log.Config) { c.Witnessed = true })
	ms := h.demo.Keys["microsoft"]
	resp, body := h.post("/api/v1/entries", h.token("microsoft", ms, nil), h.pledge("microsoft", "no-offense", "Witnessed.", ms))
	index := h.wantBundle("submitted", resp, body, 201)

	path := "/api/v1/entries/" + itoa(index) + "/bundle"
	resp, body = get(t, h.srv, path)
	wantProblem(t, "before publication", resp, body, 404, "beyond-tree")

	w := verify.NewCosigner("witness.example/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)), nil)
	n, err := verify.ParseNote(h.log.Latest().Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := w.Sign(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	n.Sigs = append(n.Sigs, verify.Signature{Name: w.Name(), KeyID: w.KeyID(), Sig: sig})
	if err := h.log.PublishCosigned(context.Background(), n.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, h.srv, path)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != bundle.MediaTypeV2 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	b, err := bundle.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	p := h.policy()
	p.Quorum = verify.Threshold(1, mustCosignatureVerifier(t, w))
	if r, err := bundle.Verify(b, p); err != nil || r.Index != index {
		t.Fatalf("bundle.Verify with a quorum of one: %v, index %v; want %d", err, r, index)
	}

	resp, body = get(t, h.srv, "/api/v1/policy")
	if resp.StatusCode != 200 || !bytes.Equal(body, policy) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /api/v1/policy: %d %q", resp.StatusCode, body)
	}
}

func mustCosignatureVerifier(t *testing.T, w verify.Signer) verify.Verifier {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)).Public().(ed25519.PublicKey)
	v, err := verify.NewVerifier(verify.CosignatureVerifierKey(w.Name(), pub))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
