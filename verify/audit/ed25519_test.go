package audit

import (
	"compress/gzip"
	stded "crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// vector is one (key, message, signature) triple; the sets' own verdicts
// are ignored, crypto/ed25519 is the reference.
type vector struct {
	name          string
	pub, msg, sig []byte
}

func readGzipJSON(t testing.TB, name string, v any) {
	f, err := os.Open("testdata/ed25519/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func edVectors(t testing.TB) []vector {
	var out []vector
	var cctv []struct{ A, R, S, M string }
	readGzipJSON(t, "ed25519vectors.json.gz", &cctv)
	for i, v := range cctv {
		out = append(out, vector{"cctv/" + strconv.Itoa(i), unhex(t, v.A), []byte(v.M), append(unhex(t, v.R), unhex(t, v.S)...)})
	}
	var spec []struct {
		Message   string `json:"message"`
		PubKey    string `json:"pub_key"`
		Signature string `json:"signature"`
	}
	readGzipJSON(t, "speccheck_cases.json.gz", &spec)
	for i, v := range spec {
		out = append(out, vector{"speccheck/" + strconv.Itoa(i), unhex(t, v.PubKey), unhex(t, v.Message), unhex(t, v.Signature)})
	}
	var wp struct {
		TestGroups []struct {
			Key struct {
				PK string `json:"pk"`
			} `json:"key"`
			Tests []struct {
				ID  int    `json:"tcId"`
				Msg string `json:"msg"`
				Sig string `json:"sig"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	readGzipJSON(t, "eddsa_test.json.gz", &wp)
	for _, g := range wp.TestGroups {
		for _, tc := range g.Tests {
			out = append(out, vector{"wycheproof/" + strconv.Itoa(tc.ID), unhex(t, g.Key.PK), unhex(t, tc.Msg), unhex(t, tc.Sig)})
		}
	}
	return out
}

// auditKey builds the auditor's key for a raw Ed25519 public key, or
// reports false when attest refuses the key (no SPKI for it).
func auditKey(t testing.TB, raw []byte, stdlib bool) (*key, bool) {
	if len(raw) != stded.PublicKeySize {
		return nil, false
	}
	spki, err := x509.MarshalPKIXPublicKey(stded.PublicKey(raw))
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKey(attest.PublicKey{Type: attest.Ed25519, SPKI: spki}, stdlib)
	if err != nil {
		return nil, false
	}
	return k, true
}

// TestEd25519Agrees: the auditor's Ed25519 verifier (curve25519-voi with
// its crypto/ed25519 rules) and crypto/ed25519 accept exactly the same
// signatures on every edge case of three independent vector sets — low
// order and non-canonical points, S out of range, mixed-order keys.
func TestEd25519Agrees(t *testing.T) {
	vs := edVectors(t)
	if len(vs) < 300 {
		t.Fatalf("only %d vectors read", len(vs))
	}
	var accepted, rejected int
	for _, v := range vs {
		k, ok := auditKey(t, v.pub, false)
		if !ok {
			continue // not a key attest registers: it never reaches a verifier
		}
		want := len(v.sig) == stded.SignatureSize && stded.Verify(v.pub, v.msg, v.sig)
		if got := k.verify(v.msg, v.sig) == nil; got != want {
			t.Errorf("%s: auditor says %v, crypto/ed25519 says %v", v.name, got, want)
		}
		if got := mustStd(t, v.pub).verify(v.msg, v.sig) == nil; got != want {
			t.Errorf("%s: stdlib mode says %v, crypto/ed25519 says %v", v.name, got, want)
		}
		if want {
			accepted++
		} else {
			rejected++
		}
	}
	// Both verdicts must be exercised, or the comparison proves nothing.
	if accepted < 50 || rejected < 50 {
		t.Fatalf("%d accepted, %d rejected: the vectors did not exercise both outcomes", accepted, rejected)
	}
	t.Logf("%d vectors: %d accepted, %d rejected by both", len(vs), accepted, rejected)
}

func mustStd(t testing.TB, raw []byte) *key {
	k, ok := auditKey(t, raw, true)
	if !ok || k.ed != nil {
		t.Fatal("stdlib mode built a voi key")
	}
	return k
}

// FuzzEd25519Agrees: on arbitrary signatures and messages, under keys
// from the vectors, both verifiers agree.
func FuzzEd25519Agrees(f *testing.F) {
	vs := edVectors(f)
	for _, v := range vs {
		f.Add(v.pub, v.msg, v.sig)
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		k, ok := auditKey(t, pub, false)
		if !ok {
			return
		}
		want := len(sig) == stded.SignatureSize && stded.Verify(pub, msg, sig)
		if got := k.verify(msg, sig) == nil; got != want {
			t.Fatalf("auditor says %v, crypto/ed25519 says %v", got, want)
		}
	})
}
