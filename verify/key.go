package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"filippo.io/mldsa"
)

// Signature types of c2sp.org/signed-note that this package implements.
const (
	TypeEd25519          byte = 0x01 // Ed25519 over the note text
	TypeCosignature      byte = 0x04 // timestamped Ed25519 checkpoint cosignature
	TypeMLDSACosignature byte = 0x06 // timestamped ML-DSA-44 checkpoint cosignature
)

var (
	// ErrMalformedKey means a verifier key is not of the form
	// name+keyid+base64, or its key ID does not match. It must be rejected.
	ErrMalformedKey = errors.New("malformed verifier key")

	// ErrUnsupportedKey means a well-formed verifier key has a signature
	// type this package does not implement (see [NewVerifier]). A policy
	// listing several keys for one party may skip it.
	ErrUnsupportedKey = errors.New("unsupported key type")
)

// A Signer signs note texts with one key, for [Sign].
type Signer interface {
	// Name returns the key name. It must be valid (see the package comment).
	Name() string
	// KeyID returns the key ID, see [KeyID].
	KeyID() uint32
	// Sign returns the signature of msg, the whole note text, without the
	// key ID. It must not modify msg, and the result must not be empty.
	Sign(msg []byte) ([]byte, error)
}

// A Verifier checks the signatures of one key, for [Open].
// The Verifiers of this package are safe for concurrent use.
type Verifier interface {
	// Name returns the key name.
	Name() string
	// KeyID returns the key ID, see [KeyID].
	KeyID() uint32
	// Verify reports whether sig is a valid signature of msg, the whole
	// note text, by this key. It must not modify msg or sig.
	Verify(msg, sig []byte) bool
}

// KeyID returns the key ID of a key: the first four bytes, big-endian, of
// SHA-256(name || 0x0A || typ || pub).
func KeyID(name string, typ byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', typ})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// vkey formats a verifier key: name+hex(key ID)+base64(typ || pub).
func vkey(name string, typ byte, pub []byte) string {
	key := append([]byte{typ}, pub...)
	return fmt.Sprintf("%s+%08x+%s", name, KeyID(name, typ, pub), base64.StdEncoding.EncodeToString(key))
}

// Ed25519VerifierKey returns the verifier key (type 0x01) of an Ed25519 note
// signer. It panics if pub is not an Ed25519 public key.
func Ed25519VerifierKey(name string, pub ed25519.PublicKey) string {
	mustEd25519(pub)
	return vkey(name, TypeEd25519, pub)
}

func mustEd25519(pub ed25519.PublicKey) {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("verify: Ed25519 public key of %d bytes", len(pub)))
	}
}

// NewVerifier returns the Verifier of a verifier key,
// "<name>+<key ID, 8 lowercase hex digits>+<base64(type || public key)>".
// The base64 is split off at the second '+' and may itself contain '+'.
// Types 0x01 (Ed25519), 0x04 (Ed25519 cosignature, see [NewCosigner]) and
// 0x06 (ML-DSA-44 cosignature, see [NewMLDSACosigner]) are supported;
// others return [ErrUnsupportedKey]. The Verifier's String method returns
// vkey.
func NewVerifier(vkey string) (Verifier, error) {
	name, id, key, err := parseVerifierKey(vkey)
	if err != nil {
		return nil, err
	}
	typ, pub := key[0], key[1:]
	size := ed25519.PublicKeySize
	switch typ {
	case TypeEd25519, TypeCosignature:
	case TypeMLDSACosignature:
		size = mldsa.MLDSA44PublicKeySize
	default:
		return nil, fmt.Errorf("type %#02x: %w", typ, ErrUnsupportedKey)
	}
	if len(pub) != size {
		return nil, fmt.Errorf("public key of %d bytes: %w", len(pub), ErrMalformedKey)
	}
	if KeyID(name, typ, pub) != id {
		return nil, fmt.Errorf("key ID %08x does not match the key: %w", id, ErrMalformedKey)
	}
	if typ == TypeMLDSACosignature {
		return newMLDSAVerifier(name, id, pub)
	}
	v := ed25519Verifier{name: name, id: id, pub: ed25519.PublicKey(pub)}
	if typ == TypeCosignature {
		return cosignatureVerifier(v), nil
	}
	return v, nil
}

func parseVerifierKey(vkey string) (name string, id uint32, key []byte, err error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hexID, b64, _ := strings.Cut(rest, "+")
	if !validName(name) {
		return "", 0, nil, fmt.Errorf("invalid key name %q: %w", name, ErrMalformedKey)
	}
	n, err := strconv.ParseUint(hexID, 16, 32)
	if err != nil || len(hexID) != 8 || strings.ToLower(hexID) != hexID {
		return "", 0, nil, fmt.Errorf("key ID %q is not 8 lowercase hex digits: %w", hexID, ErrMalformedKey)
	}
	key, err = base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(key) == 0 {
		return "", 0, nil, fmt.Errorf("bad base64 key: %w", ErrMalformedKey)
	}
	return name, uint32(n), key, nil
}

// ed25519Verifier verifies plain Ed25519 note signatures (type 0x01).
type ed25519Verifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func (v ed25519Verifier) Name() string                { return v.name }
func (v ed25519Verifier) KeyID() uint32               { return v.id }
func (v ed25519Verifier) Verify(msg, sig []byte) bool { return ed25519.Verify(v.pub, msg, sig) }
func (v ed25519Verifier) String() string              { return vkey(v.name, TypeEd25519, v.pub) }

// NewEd25519Signer returns a Signer that signs note texts with key
// (type 0x01), as a log signs its checkpoints. Its verifier key is
// [Ed25519VerifierKey](name, key.Public()). It panics if key is not an
// Ed25519 private key.
func NewEd25519Signer(name string, key ed25519.PrivateKey) Signer {
	if len(key) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("verify: Ed25519 private key of %d bytes", len(key)))
	}
	pub := key.Public().(ed25519.PublicKey)
	return ed25519Signer{name: name, id: KeyID(name, TypeEd25519, pub), key: key}
}

type ed25519Signer struct {
	name string
	id   uint32
	key  ed25519.PrivateKey
}

func (s ed25519Signer) Name() string                    { return s.name }
func (s ed25519Signer) KeyID() uint32                   { return s.id }
func (s ed25519Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }
