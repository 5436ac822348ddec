package attest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
)

// testKey is a deterministic test key: Ed25519 or ECDSA P-256.
type testKey struct {
	signer signature.Signer
	pub    PublicKey
}

func edKey(t testing.TB, name string) testKey {
	seed := sha256.Sum256([]byte("ed25519 test key " + name))
	return newTestKey(t, ed25519.NewKeyFromSeed(seed[:]))
}

func ecKey(t testing.TB, name string) testKey {
	d := sha256.Sum256([]byte("p256 test key " + name))
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	return newTestKey(t, priv)
}

func newTestKey(t testing.TB, priv any) testKey {
	s, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.PublicKey()
	pk, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: s, pub: pk}
}

func (k testKey) id() string { return k.pub.ID() }

// sign builds and signs a statement for p (a pledge uses accordDigest).
func sign(t testing.TB, p Predicate, accordDigest string, keys ...testKey) []byte {
	t.Helper()
	var st *Statement
	if pl, ok := p.(*Pledge); ok {
		st = NewPledgeStatement(pl, accordDigest)
	} else {
		var err error
		if st, err = NewStatement(p); err != nil {
			t.Fatal(err)
		}
	}
	var signers []signature.Signer
	for _, k := range keys {
		signers = append(signers, k.signer)
	}
	leaf, err := Sign(st, signers...)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return leaf
}

func hexLeafHash(leaf []byte) string {
	h := LeafHash(leaf)
	return hex.EncodeToString(h[:])
}

func u64(v uint64) *uint64 { return &v }

func pk(k testKey) *PublicKey { return &k.pub }

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
