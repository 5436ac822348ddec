package bundle

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/pledgelog/pledgelog/attest"
)

// checkSig verifies sig over pae (attest's DSSE pre-authentication
// encoding) with key, accepting exactly the encodings attest accepts:
// canonical DER SPKI of the stated type; Ed25519 signatures of 64 bytes;
// ECDSA P-256 signatures in canonical DER with low S.
//
// attest keeps its verifier unexported, so this is the one place where
// this package checks a signature itself; it should call attest's as soon
// as attest exports one.
func checkSig(key attest.PublicKey, pae, sig []byte) error {
	pub, err := x509.ParsePKIXPublicKey(key.SPKI)
	if err != nil {
		return errors.New("key is not a DER SubjectPublicKeyInfo")
	}
	if der, _ := x509.MarshalPKIXPublicKey(pub); !bytes.Equal(der, key.SPKI) {
		return errors.New("key is not in canonical DER")
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if key.Type != attest.Ed25519 {
			break
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k, pae, sig) {
			return errors.New("ed25519 signature does not verify")
		}
		return nil
	case *ecdsa.PublicKey:
		if key.Type != attest.ECDSAP256 || k.Curve != elliptic.P256() {
			break
		}
		return checkECDSA(k, pae, sig)
	}
	return fmt.Errorf("key is not of type %q", key.Type)
}

func checkECDSA(k *ecdsa.PublicKey, pae, sig []byte) error {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &v)
	if err != nil || len(rest) != 0 {
		return errors.New("ecdsa signature is not DER")
	}
	if der, err := asn1.Marshal(v); err != nil || !bytes.Equal(der, sig) {
		return errors.New("ecdsa signature is not canonical DER")
	}
	if v.S.Cmp(new(big.Int).Rsh(elliptic.P256().Params().N, 1)) > 0 {
		return errors.New("ecdsa signature with high S")
	}
	digest := sha256.Sum256(pae)
	if !ecdsa.VerifyASN1(k, digest[:], sig) {
		return errors.New("ecdsa signature does not verify")
	}
	return nil
}
