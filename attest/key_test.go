package attest

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

// TestKeyFiles round-trips keys through PEM and signs with the loaded key.
func TestKeyFiles(t *testing.T) {
	for _, kt := range []KeyType{Ed25519, ECDSAP256} {
		t.Run(string(kt), func(t *testing.T) {
			priv, err := GenerateKey(kt)
			if err != nil {
				t.Fatal(err)
			}
			pemBytes, err := MarshalPrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := LoadPrivateKey(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			pubPEM, err := MarshalPublicKey(priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicKey(pubPEM)
			if err != nil || pub.Type != kt {
				t.Fatalf("ParsePublicKey = %v, %v", pub.Type, err)
			}
			vk, err := pub.parsed()
			if err != nil {
				t.Fatal(err)
			}
			for range 20 { // ECDSA: about half the raw signatures have high S
				sig, err := signOne(signer, []byte("msg"))
				if err != nil || sig.KeyID != pub.ID() {
					t.Fatalf("signOne = %v, keyid %s; want %s", err, sig.KeyID, pub.ID())
				}
				if err := vk.verify([]byte("msg"), sig.Sig); err != nil {
					t.Fatalf("verify = %v", err)
				}
				if err := pub.Verify([]byte("msg"), sig.Sig); err != nil {
					t.Fatalf("PublicKey.Verify = %v", err)
				}
				if err := pub.Verify([]byte("msh"), sig.Sig); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("PublicKey.Verify(other message) = %v, want ErrBadSignature", err)
				}
			}
		})
	}
	if _, err := MarshalPrivateKey("not a key"); err == nil {
		t.Errorf("MarshalPrivateKey(string) succeeded")
	}
	if _, err := NewPublicKey(ed25519.PublicKey(bytes.Repeat([]byte{1}, 3))); err == nil {
		t.Errorf("NewPublicKey(short key) succeeded")
	}
	if _, err := LoadPrivateKey([]byte("not pem")); err == nil {
		t.Errorf("LoadPrivateKey(garbage) succeeded")
	}
}
