package audit

import (
	"fmt"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// A key is a registry key, parsed once: its key id is the SHA-256 of its
// SPKI, so a key id names the same key forever and the cache needs no
// invalidation. Whether the key may sign at an index is the registry's
// business (Registry.ReplayEnvelope), not the cache's.
//
// Ed25519 signatures are checked with curve25519-voi on a key expanded
// once (its point decoded and its multiples precomputed), about twice as
// fast as crypto/ed25519, which decodes the key on every call; the
// options are voi's crypto/ed25519-compatible ones (cofactorless, small
// order and non-canonical A allowed, S < L), and TestEd25519Agrees checks
// that both accept exactly the same signatures on the C2SP, speccheck and
// Wycheproof vectors. Config.StdlibEd25519 selects crypto/ed25519 (through
// attest.PublicKey.Verifier and sigstore) instead.
type key struct {
	id  string
	ed  *ed25519.ExpandedPublicKey // nil: use std
	std attest.Verifier
}

// stdlibOptions are voi's crypto/ed25519-compatible verification rules.
var stdlibOptions = &ed25519.Options{Verify: ed25519.VerifyOptionsStdLib}

func newKey(pub attest.PublicKey, stdlib bool) (*key, error) {
	std, err := pub.Verifier()
	if err != nil {
		return nil, err
	}
	k := &key{id: pub.ID(), std: std}
	if pub.Type == attest.Ed25519 && !stdlib {
		// The SPKI is canonical (Verifier checked): the raw key is its
		// last 32 bytes.
		raw := pub.SPKI[len(pub.SPKI)-ed25519.PublicKeySize:]
		if k.ed, err = ed25519.NewExpandedPublicKey(ed25519.PublicKey(raw)); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// verify checks a DSSE signature over pae.
func (k *key) verify(pae, sig []byte) error {
	if k.ed == nil {
		return k.std.Verify(pae, sig)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.VerifyExpandedWithOptions(k.ed, pae, sig, stdlibOptions) {
		return fmt.Errorf("ed25519 signature of key %s does not verify", k.id)
	}
	return nil
}

// keyring is the keys registry events introduced so far: written by the
// sequential stage, read by the fetchers.
type keyring struct {
	mu     sync.RWMutex
	m      map[string]*key
	stdlib bool
}

func (r *keyring) get(id string) *key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[id]
}

func (r *keyring) add(pub attest.PublicKey) {
	k, err := newKey(pub, r.stdlib)
	if err != nil {
		return // the registry admitted the event, so the key parsed: unreachable
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[k.id] = k
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
