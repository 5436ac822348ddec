package client

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/sigstore/sigstore/pkg/signature"
)

// TokenLifetime is the lifetime of minted session tokens; the server
// accepts at most 5 minutes.
const TokenLifetime = 4 * time.Minute

// method is a jwt.SigningMethod signing with a sigstore signer. golang-jwt's
// ES256 wants a raw r‖s signature and an *ecdsa.PrivateKey, but sigstore's
// ECDSA signer returns ASN.1 DER, so Sign converts it; for Ed25519 the
// signature is used as is.
type method struct{ alg string }

var (
	methodES256 = &method{"ES256"}
	methodEdDSA = &method{"EdDSA"}
)

func (m *method) Alg() string { return m.alg }

// Sign signs the JWT signing input with key, a signature.Signer.
func (m *method) Sign(signingString string, key any) ([]byte, error) {
	s, ok := key.(signature.Signer)
	if !ok {
		return nil, fmt.Errorf("jwt %s: key is a %T, not a signer", m.alg, key)
	}
	sig, err := s.SignMessage(bytes.NewReader([]byte(signingString)))
	if err != nil || m.alg != "ES256" {
		return sig, err
	}
	return rawRS(sig)
}

// Verify checks a signature, with a public key, as golang-jwt would.
func (m *method) Verify(signingString string, sig []byte, key any) error {
	if m.alg == "ES256" {
		return jwt.SigningMethodES256.Verify(signingString, sig, key)
	}
	return jwt.SigningMethodEdDSA.Verify(signingString, sig, key)
}

// rawRS converts a DER ECDSA P-256 signature to the 64 bytes r‖s of JWS
// (RFC 7518, section 3.4).
func rawRS(der []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) != 0 {
		return nil, errors.New("jwt ES256: signer returned a signature that is not DER")
	}
	out := make([]byte, 64)
	v.R.FillBytes(out[:32])
	v.S.FillBytes(out[32:])
	return out, nil
}

// A Key is a private key able to sign entries and tokens.
type Key struct {
	Signer signature.Signer
	Public attest.PublicKey
}

// LoadKey parses a PEM private key written by attest.MarshalPrivateKey.
func LoadKey(pemBytes []byte) (*Key, error) {
	s, err := attest.LoadPrivateKey(pemBytes)
	if err != nil {
		return nil, err
	}
	return NewKey(s)
}

// LoadKeyFile reads the private key file name, a PEM private key written
// by attest.MarshalPrivateKey (Ed25519 or ECDSA P-256, PKCS #8): the one
// loader of key files of the commands (a signatory's key, the registrar's,
// the log's). what names the key in errors, usually its flag: a file that
// cannot be read is "what: open name: …" (an *fs.PathError wrapped), a
// file that is not such a key is "what name: …" saying what is wrong.
func LoadKeyFile(what, name string) (*Key, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	k, err := LoadKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, name, err)
	}
	return k, nil
}

// NewKey wraps a signer of an Ed25519 or ECDSA P-256 key.
func NewKey(s signature.Signer) (*Key, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	pk, err := attest.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &Key{Signer: s, Public: pk}, nil
}

// NewKeyFrom wraps a standard library private key.
func NewKeyFrom(priv crypto.Signer) (*Key, error) {
	s, err := attest.NewSigner(priv)
	if err != nil {
		return nil, err
	}
	return NewKey(s)
}

// ID is the key id: the JWT kid and the DSSE keyid.
func (k *Key) ID() string { return k.Public.ID() }

// Token mints a session token of issuer for the log of origin (aud), valid
// from now for TokenLifetime, signed with k (kid = its key id).
func (k *Key) Token(issuer, origin string, now time.Time) (string, error) {
	return k.token(jwt.RegisteredClaims{Issuer: issuer, Audience: jwt.ClaimStrings{origin},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(TokenLifetime))}, "")
}

// RegistrarToken mints a single-use registrar token bound to body: a
// random jti and the body's SHA-256.
func (k *Key) RegistrarToken(origin string, body []byte, now time.Time) (string, error) {
	jti := make([]byte, 16)
	rand.Read(jti)
	sum := sha256.Sum256(body)
	return k.token(jwt.RegisteredClaims{Issuer: attest.RegistrarID, Audience: jwt.ClaimStrings{origin},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(TokenLifetime)),
		ID: hex.EncodeToString(jti)}, hex.EncodeToString(sum[:]))
}

type claims struct {
	jwt.RegisteredClaims
	BodySHA256 string `json:"body_sha256,omitempty"`
}

func (k *Key) token(c jwt.RegisteredClaims, bodySHA256 string) (string, error) {
	m := methodEdDSA
	if k.Public.Type == attest.ECDSAP256 {
		m = methodES256
	}
	t := jwt.NewWithClaims(m, claims{c, bodySHA256})
	t.Header["kid"] = k.ID()
	s, err := t.SignedString(k.Signer)
	if err != nil {
		return "", fmt.Errorf("minting the session token: %w", err)
	}
	return s, nil
}
