package attest

import (
	"bytes"
	"crypto"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Sign signs st with each signer (sigstore signers for Ed25519 or ECDSA
// P-256 keys, see [NewSigner] and [LoadPrivateKey]) and returns the
// canonical leaf. Each signature's keyid is the hex SHA-256 of the
// signer's SPKI, and ECDSA signatures are rewritten to low S, which
// sigstore's signer does not do. The result is parsed back with
// [ParseLeaf] before it is returned, so Sign never hands out an entry the
// log would reject as malformed.
func Sign(st *Statement, signers ...signature.Signer) ([]byte, error) {
	payload, err := st.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	pae := dsse.PAE(PayloadType, payload)
	env := &Envelope{Payload: payload, Statement: st}
	for _, s := range signers {
		sig, err := signOne(s, pae)
		if err != nil {
			return nil, err
		}
		env.Signatures = append(env.Signatures, sig)
	}
	leaf, _, err := Canonicalize(env.Leaf()) // sorts the signatures
	if err != nil {
		return nil, fmt.Errorf("signed envelope does not parse: %w", err)
	}
	if _, err := ParseLeaf(leaf); err != nil {
		return nil, fmt.Errorf("signed envelope is not canonical: %w", err)
	}
	return leaf, nil
}

// SignWithKeys is [Sign] with each private key (ed25519.PrivateKey or a
// P-256 *ecdsa.PrivateKey) loaded through [NewSigner].
func SignWithKeys[K crypto.PrivateKey](st *Statement, keys ...K) ([]byte, error) {
	signers := make([]signature.Signer, len(keys))
	for i, k := range keys {
		s, err := NewSigner(k)
		if err != nil {
			return nil, err
		}
		signers[i] = s
	}
	return Sign(st, signers...)
}

func signOne(s signature.Signer, pae []byte) (Signature, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return Signature{}, fmt.Errorf("signer public key: %w", err)
	}
	pk, err := NewPublicKey(pub)
	if err != nil {
		return Signature{}, err
	}
	sig, err := s.SignMessage(bytes.NewReader(pae))
	if err != nil {
		return Signature{}, fmt.Errorf("sign: %w", err)
	}
	if pk.Type == ECDSAP256 {
		if sig, err = lowS(sig); err != nil {
			return Signature{}, err
		}
	}
	return Signature{KeyID: pk.ID(), Sig: sig}, nil
}
