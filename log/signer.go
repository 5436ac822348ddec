package log

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// noteSigner adapts a sigstore signature.Signer holding an Ed25519 key to a
// signed-note signer (c2sp.org/signed-note, signature type 0x01), so that the
// log key can live wherever sigstore can reach it: a PEM file, a KMS, an HSM.
type noteSigner struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
	s    signature.Signer
}

func newNoteSigner(name string, s signature.Signer) (*noteSigner, error) {
	pk, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("log: reading the signer's public key: %w", err)
	}
	pub, ok := pk.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("log: the checkpoint signer holds a %T, want an Ed25519 key", pk)
	}
	return &noteSigner{name: name, id: verify.KeyID(name, 0x01, pub), pub: pub, s: s}, nil
}

func (n *noteSigner) Name() string        { return n.name }
func (n *noteSigner) KeyID() uint32       { return n.id }
func (n *noteSigner) VerifierKey() string { return verify.Ed25519VerifierKey(n.name, n.pub) }

// Sign signs msg: Ed25519 signs the message itself, with no prehash.
func (n *noteSigner) Sign(msg []byte) ([]byte, error) {
	return n.s.SignMessage(bytes.NewReader(msg))
}

// VerifierKeyOf returns the verifier key of checkpoints that s signs for
// origin. s must hold an Ed25519 key.
func VerifierKeyOf(origin string, s signature.Signer) (string, error) {
	n, err := newNoteSigner(origin, s)
	if err != nil {
		return "", err
	}
	return n.VerifierKey(), nil
}
