package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	voied "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// KeyType names a signature algorithm. Only two are accepted.
type KeyType string

const (
	Ed25519   KeyType = "ed25519"    // Ed25519 (RFC 8032), 64-byte signatures
	ECDSAP256 KeyType = "ecdsa-p256" // ECDSA P-256 with SHA-256, DER, low S
)

// PublicKey is a public key as it appears in a predicate: its type and its
// DER SubjectPublicKeyInfo (standard base64 in JSON).
type PublicKey struct {
	Type KeyType `json:"type"`
	SPKI []byte  `json:"spki"`
}

// ID returns the key id: lowercase hex SHA-256 of the SPKI DER.
func (k PublicKey) ID() string { return KeyID(k.SPKI) }

// KeyID returns the lowercase hex SHA-256 of spki, the DSSE keyid and JWT
// kid of a key.
func KeyID(spki []byte) string {
	h := sha256.Sum256(spki)
	return hex.EncodeToString(h[:])
}

// NewPublicKey encodes pub (ed25519.PublicKey or a P-256 *ecdsa.PublicKey).
func NewPublicKey(pub crypto.PublicKey) (PublicKey, error) {
	t, err := keyTypeOf(pub)
	if err != nil {
		return PublicKey{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return PublicKey{}, fmt.Errorf("marshal public key: %w", err)
	}
	return PublicKey{Type: t, SPKI: der}, nil
}

func keyTypeOf(pub crypto.PublicKey) (KeyType, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return Ed25519, nil
		}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ECDSAP256, nil
		}
	}
	return "", fmt.Errorf("unsupported public key type %T", pub)
}

// Verify checks sig, a DSSE signature over pae (Envelope.PAE), with k: the
// key must be canonical DER of its stated type, an Ed25519 signature 64
// bytes, an ECDSA P-256 signature canonical DER with low S. It returns an
// error wrapping ErrBadSignature for a signature that does not verify.
func (k PublicKey) Verify(pae, sig []byte) error {
	v, err := k.parsed()
	if err != nil {
		return err
	}
	return v.verify(pae, sig)
}

// parsed checks that the SPKI is canonical DER of the stated type and
// returns the key with a ready verifier.
func (k PublicKey) parsed() (*verifyKey, error) {
	pub, err := x509.ParsePKIXPublicKey(k.SPKI)
	if err != nil {
		return nil, errors.New("not a DER SubjectPublicKeyInfo")
	}
	t, err := keyTypeOf(pub)
	if err != nil || t != k.Type {
		return nil, fmt.Errorf("key is not of type %q", k.Type)
	}
	if der, _ := x509.MarshalPKIXPublicKey(pub); !bytes.Equal(der, k.SPKI) {
		return nil, errors.New("SPKI is not in canonical DER")
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("load verifier: %w", err)
	}
	return &verifyKey{id: k.ID(), typ: t, pub: pub, spki: k.SPKI, verifier: v}, nil
}

// verifyKey is a parsed key, kept so that no key is parsed twice.
type verifyKey struct {
	id       string
	typ      KeyType
	pub      crypto.PublicKey
	spki     []byte
	verifier signature.Verifier // immutable, safe for concurrent use
	// expanded, for an Ed25519 key of the registry (see expand), is the
	// key decoded once for curve25519-voi; nil: verifier checks.
	expanded *voied.ExpandedPublicKey
}

// voiStdlib are curve25519-voi's crypto/ed25519-compatible rules:
// cofactorless, small-order and non-canonical A accepted, S < L.
var voiStdlib = &voied.Options{Verify: voied.VerifyOptionsStdLib}

// expand returns k with its Ed25519 key decoded and its multiples
// precomputed once, for curve25519-voi, which then verifies its
// signatures in about 60 % of crypto/ed25519's time (crypto/ed25519
// decodes the key on every call) with the same verdicts
// (TestRegistryEd25519Agrees). The registry's keys verify every
// submission (Registry.Verify); a key parsed for one check, and
// PublicKey.Verify and Verifier, keep crypto/ed25519. Other keys, and a
// key voi cannot expand, are returned as they are.
func (k *verifyKey) expand() *verifyKey {
	pub, ok := k.pub.(ed25519.PublicKey)
	if k.typ != Ed25519 || !ok || k.expanded != nil {
		return k
	}
	x, err := voied.NewExpandedPublicKey(voied.PublicKey(pub))
	if err != nil {
		return k
	}
	e := *k
	e.expanded = x
	return &e
}

// verify checks sig over pae. The encoding is checked first, because the
// sigstore ECDSA verifier also accepts high S and raw r||s signatures.
func (k *verifyKey) verify(pae, sig []byte) error {
	if err := checkSigEncoding(k.typ, sig); err != nil {
		return err
	}
	if k.expanded != nil {
		if !voied.VerifyExpandedWithOptions(k.expanded, pae, sig, voiStdlib) {
			return ErrBadSignature
		}
		return nil
	}
	if err := k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(pae)); err != nil {
		return ErrBadSignature
	}
	return nil
}

func checkSigEncoding(t KeyType, sig []byte) error {
	if t == Ed25519 {
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("ed25519 signature of %d bytes: %w", len(sig), ErrBadSignature)
		}
		return nil
	}
	r, s, err := parseDERSig(sig)
	if err != nil {
		return err
	}
	n := elliptic.P256().Params().N
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return fmt.Errorf("ecdsa signature out of range: %w", ErrBadSignature)
	}
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		return fmt.Errorf("ecdsa signature with high S: %w", ErrBadSignature)
	}
	return nil
}

type ecdsaSig struct{ R, S *big.Int }

// parseDERSig accepts only the unique DER encoding of an ECDSA signature.
func parseDERSig(sig []byte) (r, s *big.Int, err error) {
	var v ecdsaSig
	rest, err := asn1.Unmarshal(sig, &v)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("ecdsa signature is not DER: %w", ErrBadSignature)
	}
	if der, err := asn1.Marshal(v); err != nil || !bytes.Equal(der, sig) {
		return nil, nil, fmt.Errorf("ecdsa signature is not canonical DER: %w", ErrBadSignature)
	}
	return v.R, v.S, nil
}

// lowS rewrites a DER ECDSA P-256 signature to use S ≤ N/2.
func lowS(sig []byte) ([]byte, error) {
	r, s, err := parseDERSig(sig)
	if err != nil {
		return nil, err
	}
	n := elliptic.P256().Params().N
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s = new(big.Int).Sub(n, s)
	}
	return asn1.Marshal(ecdsaSig{R: r, S: s})
}

// MarshalPrivateKey encodes an Ed25519 or ECDSA P-256 private key as an
// unencrypted PKCS #8 PEM block. Keep the result in a file readable only by
// its owner.
func MarshalPrivateKey(priv crypto.PrivateKey) ([]byte, error) {
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	if _, err := keyTypeOf(s.Public()); err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPrivateKeyToPEM(priv)
}

// LoadPrivateKey parses a PEM private key written by [MarshalPrivateKey]
// and returns a sigstore signer for it.
func LoadPrivateKey(pemBytes []byte) (signature.Signer, error) {
	priv, err := ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv)
}

// ParsePrivateKey parses a PEM private key written by [MarshalPrivateKey]
// into the standard library key (ed25519.PrivateKey or *ecdsa.PrivateKey),
// for uses other than DSSE, such as minting session tokens.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.SkipPassword)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	if _, err := keyTypeOf(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// GenerateKey returns a new Ed25519 or ECDSA P-256 private key from the
// system's secure random source.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("unsupported key type %q", t)
}

// NewSigner returns a sigstore signer for an Ed25519 or ECDSA P-256 key.
func NewSigner(priv crypto.PrivateKey) (signature.Signer, error) {
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	if _, err := keyTypeOf(s.Public()); err != nil {
		return nil, err
	}
	return signature.LoadSigner(priv, crypto.SHA256)
}

// MarshalPublicKey encodes a public key as a PEM "PUBLIC KEY" block.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if _, err := keyTypeOf(pub); err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}

// ParsePublicKey parses a PEM "PUBLIC KEY" block into a [PublicKey].
func ParsePublicKey(pemBytes []byte) (PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	return NewPublicKey(pub)
}

// A Verifier checks DSSE signatures with one key, parsed once; it is safe
// for concurrent use. Get one with [PublicKey.Verifier].
type Verifier struct{ k *verifyKey }

// Verifier parses k once for many [Verifier.Verify] calls, with the same
// checks as [PublicKey.Verify].
func (k PublicKey) Verifier() (Verifier, error) {
	v, err := k.parsed()
	return Verifier{v}, err
}

// Verify is [PublicKey.Verify] without parsing the key again.
func (v Verifier) Verify(pae, sig []byte) error { return v.k.verify(pae, sig) }
