package client

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/attest"
)

// TestToken mints tokens with both key types and verifies them with
// golang-jwt's own methods, as the server does: ES256 needs the DER
// signature of sigstore's signer converted to r‖s.
func TestToken(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name string
		priv interface{ Public() any }
		alg  jwt.SigningMethod
	}{
		{"ed25519", edKey{ed}, jwt.SigningMethodEdDSA},
		{"p256", ecKey{ec}, jwt.SigningMethodES256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k *Key
			var err error
			switch p := tc.priv.(type) {
			case edKey:
				k, err = NewKeyFrom(p.k)
			case ecKey:
				k, err = NewKeyFrom(p.k)
			}
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"x":1}`)
			for i := range 20 { // ECDSA: r or s may be short; every token must verify
				tok, err := k.RegistrarToken("example.com/log", body, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				c := new(claims)
				_, err = jwt.NewParser(jwt.WithValidMethods([]string{tc.alg.Alg()}), jwt.WithAudience("example.com/log"),
					jwt.WithIssuer(attest.RegistrarID), jwt.WithExpirationRequired(), jwt.WithIssuedAt()).
					ParseWithClaims(tok, c, func(tk *jwt.Token) (any, error) {
						if tk.Header["kid"] != k.ID() {
							t.Errorf("kid = %v, want %s", tk.Header["kid"], k.ID())
						}
						return tc.priv.Public(), nil
					})
				sum := sha256.Sum256(body)
				if err != nil || c.BodySHA256 != hex.EncodeToString(sum[:]) || c.ID == "" {
					t.Fatalf("token %d: %v, claims %+v", i, err, c)
				}
				if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > 5*time.Minute {
					t.Errorf("lifetime %v, over 5 minutes", life)
				}
			}
		})
	}
}

type edKey struct{ k ed25519.PrivateKey }

func (e edKey) Public() any { return e.k.Public() }

type ecKey struct{ k *ecdsa.PrivateKey }

func (e ecKey) Public() any { return e.k.Public() }

// TestRawRS checks the DER to r‖s conversion against short r and s.
func TestRawRS(t *testing.T) {
	for _, tc := range []struct {
		name string
		der  string
		want string
	}{
		{"one-byte r and s", "3006020101020102", "0000000000000000000000000000000000000000000000000000000000000001" +
			"0000000000000000000000000000000000000000000000000000000000000002"},
		{"not DER", "3007020101", ""},
	} {
		der, _ := hex.DecodeString(tc.der)
		got, err := rawRS(der)
		if (err != nil) != (tc.want == "") || hex.EncodeToString(got) != tc.want {
			t.Errorf("rawRS(%s) = %x, %v; want %s", tc.name, got, err, tc.want)
		}
	}
}
