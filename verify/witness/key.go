package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"filippo.io/mldsa"

	"github.com/pledgelog/pledgelog/verify"
)

// A Key is a witness's private cosigning key. Its file is one line, the
// signer key of golang.org/x/mod/sumdb/note extended to cosignatures as
// transparency-dev/formats does:
//
//	PRIVATE+KEY+<name>+<key ID>+<base64(type || 32-byte seed)>
//
// with type 0x04 (Ed25519 seed) or 0x06 (ML-DSA-44 seed, FIPS 204's ξ),
// and the key ID of the verifier key ([Key.VerifierKey]).
type Key struct {
	name string
	typ  byte
	seed []byte
}

// GenerateKey returns a new key named name (a valid key name of at most
// 255 bytes) of type verify.TypeCosignature or verify.TypeMLDSACosignature.
func GenerateKey(name string, typ byte) (*Key, error) {
	seed := make([]byte, 32)
	rand.Read(seed)
	return newKey(name, typ, seed)
}

func newKey(name string, typ byte, seed []byte) (*Key, error) {
	k := &Key{name: name, typ: typ, seed: seed}
	if typ != verify.TypeCosignature && typ != verify.TypeMLDSACosignature {
		return nil, fmt.Errorf("witness key type %#02x, want 0x04 or 0x06", typ)
	}
	if len(seed) != 32 {
		return nil, fmt.Errorf("witness key seed of %d bytes, want 32", len(seed))
	}
	if _, err := k.Signer(nil); err != nil {
		return nil, err
	}
	if _, err := verify.NewVerifier(k.VerifierKey()); err != nil {
		return nil, fmt.Errorf("witness key name %q: %w", name, err)
	}
	return k, nil
}

// ParseKey parses a key file; a final newline is optional.
func ParseKey(b []byte) (*Key, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	f := strings.SplitN(string(b), "+", 5)
	if len(f) != 5 || f[0] != "PRIVATE" || f[1] != "KEY" {
		return nil, errors.New("witness key: not PRIVATE+KEY+<name>+<key ID>+<key>")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(f[4])
	if err != nil || len(raw) == 0 {
		return nil, errors.New("witness key: bad base64")
	}
	k, err := newKey(f[2], raw[0], raw[1:])
	if err != nil {
		return nil, err
	}
	if want := fmt.Sprintf("%08x", k.keyID()); f[3] != want {
		return nil, fmt.Errorf("witness key: key ID %q, want %s", f[3], want)
	}
	return k, nil
}

// Marshal returns the key file, ending in a newline.
func (k *Key) Marshal() []byte {
	return fmt.Appendf(nil, "PRIVATE+KEY+%s+%08x+%s\n", k.name, k.keyID(),
		base64.StdEncoding.EncodeToString(append([]byte{k.typ}, k.seed...)))
}

// Name returns the key name.
func (k *Key) Name() string { return k.name }

// Type returns the signature type, 0x04 or 0x06.
func (k *Key) Type() byte { return k.typ }

func (k *Key) keyID() uint32 {
	v, _ := verify.NewVerifier(k.VerifierKey())
	return v.KeyID()
}

// VerifierKey returns the vkey that logs and clients pin in their policy.
func (k *Key) VerifierKey() string {
	if k.typ == verify.TypeMLDSACosignature {
		sk, _ := mldsa.NewPrivateKey(mldsa.MLDSA44(), k.seed)
		return verify.MLDSACosignatureVerifierKey(k.name, sk.PublicKey())
	}
	return verify.CosignatureVerifierKey(k.name, ed25519.NewKeyFromSeed(k.seed).Public().(ed25519.PublicKey))
}

// Signer returns the cosigner of the key; a nil now means time.Now.
func (k *Key) Signer(now func() time.Time) (verify.Signer, error) {
	if k.typ == verify.TypeMLDSACosignature {
		sk, err := mldsa.NewPrivateKey(mldsa.MLDSA44(), k.seed)
		if err != nil {
			return nil, err
		}
		return verify.NewMLDSACosigner(k.name, sk, now)
	}
	return verify.NewCosigner(k.name, ed25519.NewKeyFromSeed(k.seed), now), nil
}
