package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// A Request is a registry event that needs the registrar's signature too
// (register, recover): the signatory signs it with the new key (proof of
// possession) and hands it to the operator, who checks it and cosigns.
// Its JSON is a DSSE envelope with that one signature.
type Request struct {
	Payload     []byte       `json:"payload"`
	PayloadType string       `json:"payloadType"`
	Signatures  []RequestSig `json:"signatures"`
}

// RequestSig is a signature of a Request.
type RequestSig struct {
	KeyID string `json:"keyid"`
	Sig   []byte `json:"sig"`
}

// NewRequest signs the event with key, the key it introduces.
func NewRequest(ev *attest.SignatoryEvent, key *Key) (*Request, error) {
	if ev.Key == nil || ev.Key.ID() != key.ID() {
		return nil, errors.New("a request is signed by the key it introduces")
	}
	st, err := attest.NewStatement(ev)
	if err != nil {
		return nil, err
	}
	if err := check(st, key); err != nil {
		return nil, err
	}
	payload, err := st.Marshal()
	if err != nil {
		return nil, err
	}
	sig, err := SignPAE(key, payload)
	if err != nil {
		return nil, err
	}
	return &Request{Payload: payload, PayloadType: attest.PayloadType, Signatures: []RequestSig{{sig.KeyID, sig.Sig}}}, nil
}

// check validates the statement as the log will, by signing it with key
// and a throwaway second key: attest.Sign parses what it signed.
func check(st *attest.Statement, key *Key) error {
	_, priv, _ := ed25519.GenerateKey(nil)
	other, err := attest.NewSigner(priv)
	if err != nil {
		return err
	}
	_, err = attest.Sign(st, key.Signer, other)
	return err
}

// Event checks a request: a canonical statement of a signatory event that
// introduces a key, signed by that key alone. It returns the event.
func (r *Request) Event() (*attest.SignatoryEvent, error) {
	var st struct {
		PredicateType string                `json:"predicateType"`
		Predicate     attest.SignatoryEvent `json:"predicate"`
	}
	if err := json.Unmarshal(r.Payload, &st); err != nil || st.PredicateType != attest.SignatoryType {
		return nil, errors.New("the request is not a signatory event")
	}
	ev := &st.Predicate
	again, err := attest.NewStatement(ev)
	if err != nil {
		return nil, fmt.Errorf("the request's event: %w", err)
	}
	if b, err := again.Marshal(); err != nil || !bytes.Equal(b, r.Payload) {
		return nil, errors.New("the request's payload is not the canonical statement of its event")
	}
	if ev.Key == nil || len(r.Signatures) != 1 || r.Signatures[0].KeyID != ev.Key.ID() {
		return nil, errors.New("the request must be signed by the key it introduces, alone")
	}
	if err := ev.Key.Verify(dsse.PAE(attest.PayloadType, r.Payload), r.Signatures[0].Sig); err != nil {
		return nil, fmt.Errorf("the request's signature: %w", err)
	}
	return ev, nil
}

// Cosign adds key's signature to a checked request and returns the
// canonical leaf.
func (r *Request) Cosign(key *Key) ([]byte, error) {
	sig, err := SignPAE(key, r.Payload)
	if err != nil {
		return nil, err
	}
	env := &attest.Envelope{Payload: r.Payload, Signatures: []attest.Signature{{KeyID: r.Signatures[0].KeyID, Sig: r.Signatures[0].Sig}, sig}}
	leaf, _, err := attest.Canonicalize(env.Leaf())
	return leaf, err
}

// SignPAE signs the DSSE PAE of payload with key; an ECDSA signature is
// rewritten to low S, as the log requires.
func SignPAE(key *Key, payload []byte) (attest.Signature, error) {
	sig, err := key.Signer.SignMessage(bytes.NewReader(dsse.PAE(attest.PayloadType, payload)))
	if err != nil {
		return attest.Signature{}, fmt.Errorf("sign: %w", err)
	}
	if key.Public.Type == attest.ECDSAP256 {
		if sig, err = lowS(sig); err != nil {
			return attest.Signature{}, err
		}
	}
	return attest.Signature{KeyID: key.ID(), Sig: sig}, nil
}

func lowS(der []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) != 0 {
		return nil, errors.New("signer returned a signature that is not DER")
	}
	n := elliptic.P256().Params().N
	if v.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		v.S.Sub(n, v.S)
	}
	return asn1.Marshal(v)
}
