package web

import (
	"crypto/ed25519"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// Routes returns the routes of s, for the OpenAPI test.
func Routes(s *Server) []*echo.Route { return s.echo.Routes() }

// TestSelfCheckFastPath checks the shortcut of selfCheck.check: a bundle
// of an entry the request verified, whose evidence bundle.Verify accepted
// before, has its checkpoint signature and every inclusion proof checked,
// and fails on any of them.
func TestSelfCheckFastPath(t *testing.T) {
	const origin = "example.com/selfcheck"
	_, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	ev, leaf := []byte("evidence"), []byte("entry")
	root := verify.NodeHash(verify.LeafHash(ev), verify.LeafHash(leaf))
	text := verify.Checkpoint{Origin: origin, Size: 2, Root: root}.Text()
	signed := func(k ed25519.PrivateKey) []byte {
		n, err := verify.Sign(text, verify.NewEd25519Signer(origin, k))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	v, err := verify.NewVerifier(verify.Ed25519VerifierKey(origin, key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	policy := bundle.Policy{Origin: origin, LogKeys: []verify.Verifier{v}}
	good := func() *bundle.Bundle {
		return &bundle.Bundle{Checkpoint: signed(key),
			Entry:    bundle.Entry{Index: 1, Leaf: leaf, Proof: []verify.Hash{verify.LeafHash(ev)}},
			Evidence: []bundle.Entry{{Index: 0, Leaf: ev, Proof: []verify.Hash{verify.LeafHash(leaf)}}}}
	}
	for _, tc := range []struct {
		name     string
		mod      func(b *bundle.Bundle)
		verified bool
		ok       bool
	}{
		{"good", func(*bundle.Bundle) {}, true, true},
		{"entry proof", func(b *bundle.Bundle) { b.Entry.Proof[0][0] ^= 1 }, true, false},
		{"evidence proof", func(b *bundle.Bundle) { b.Evidence[0].Proof[0][0] ^= 1 }, true, false},
		{"entry leaf", func(b *bundle.Bundle) { b.Entry.Leaf = []byte("other") }, true, false},
		{"checkpoint key", func(b *bundle.Bundle) { b.Checkpoint = signed(other) }, true, false},
		// Not verified by the request: the full bundle.Verify, which
		// rejects these leaves, as they are no attestations.
		{"not verified", func(*bundle.Bundle) {}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c selfCheck
			b := good()
			c.accepted = map[string]bool{evidenceKey(b): true}
			tc.mod(b)
			if err := c.check(b, policy, tc.verified); (err == nil) != tc.ok {
				t.Errorf("check(%s) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
}
