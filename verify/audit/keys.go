package audit

import (
	"crypto/ed25519"
	"crypto/x509"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// A key is a registry key, parsed once: its key id is the SHA-256 of its
// SPKI, so a key id names the same key forever and the cache needs no
// invalidation. Whether the key may sign at an index is the registry's
// business (Registry.Admit), not the cache's.
type key struct {
	pub attest.PublicKey
	ed  ed25519.PublicKey // set for Ed25519 keys: the fast path
}

func newKey(pub attest.PublicKey) *key {
	k := &key{pub: pub}
	if pub.Type == attest.Ed25519 {
		if p, err := x509.ParsePKIXPublicKey(pub.SPKI); err == nil {
			k.ed, _ = p.(ed25519.PublicKey)
		}
	}
	return k
}

// verify checks a DSSE signature over pae.
func (k *key) verify(pae, sig []byte) error {
	if k.ed == nil {
		return k.pub.Verify(pae, sig)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k.ed, pae, sig) {
		return fmt.Errorf("ed25519 signature of key %s does not verify", k.pub.ID())
	}
	return nil
}

// keysOf returns the keys a registry statement introduces.
func keysOf(st *attest.Statement) []attest.PublicKey {
	switch p := st.Predicate.(type) {
	case *attest.Registrar:
		return []attest.PublicKey{p.Key}
	case *attest.SignatoryEvent:
		if p.Key != nil {
			return []attest.PublicKey{*p.Key}
		}
	}
	return nil
}

func revocation(index uint64, p *attest.SignatoryEvent) bundle.Revocation {
	return bundle.Revocation{KeyID: p.KeyID, Index: index, VoidFrom: p.VoidFrom}
}
