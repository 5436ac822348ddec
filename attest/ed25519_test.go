package attest

import (
	"compress/gzip"
	stded "crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// TestRegistryEd25519Agrees: the registry's expanded Ed25519 keys
// (verifyKey.expand, curve25519-voi) accept exactly the signatures that
// crypto/ed25519 accepts, on every edge case of the three vector sets the
// auditor's verifier is checked with (verify/audit/testdata/ed25519) —
// low-order and non-canonical points, S out of range, mixed-order keys.
func TestRegistryEd25519Agrees(t *testing.T) {
	var accepted, rejected int
	for _, v := range ed25519Vectors(t) {
		if len(v.pub) != stded.PublicKeySize {
			continue
		}
		pub, err := NewPublicKey(stded.PublicKey(v.pub))
		if err != nil {
			t.Fatal(err)
		}
		vk, err := pub.parsed()
		if err != nil {
			continue // not a key attest registers: it never reaches a verifier
		}
		x := vk.expand()
		if x.expanded == nil {
			t.Fatalf("%s: key not expanded", v.name)
		}
		want := len(v.sig) == stded.SignatureSize && stded.Verify(v.pub, v.msg, v.sig)
		if got := x.verify(v.msg, v.sig) == nil; got != want {
			t.Errorf("%s: expanded key says %v, crypto/ed25519 says %v", v.name, got, want)
		}
		if got := vk.verify(v.msg, v.sig) == nil; got != want {
			t.Errorf("%s: key as parsed says %v, crypto/ed25519 says %v", v.name, got, want)
		}
		if want {
			accepted++
		} else {
			rejected++
		}
	}
	if accepted < 50 || rejected < 50 {
		t.Fatalf("%d accepted, %d rejected: the vectors did not exercise both outcomes", accepted, rejected)
	}
}

// TestRegistryKeysExpanded checks that the keys a registry admits verify
// through curve25519-voi (the submissions' Registry.Verify), while a key
// parsed on its own keeps crypto/ed25519.
func TestRegistryKeysExpanded(t *testing.T) {
	d, err := NewDemo(testOrigin, []byte("seed"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(testOrigin)
	admitAll(t, r, d.Entries)
	var n int
	for _, k := range r.keyList {
		if k.typ == Ed25519 {
			n++
			if k.expanded == nil {
				t.Errorf("registry key %s is not expanded", k.id)
			}
		}
	}
	if n == 0 {
		t.Fatal("the demo registry has no Ed25519 key")
	}
	pub := PublicKey{Type: Ed25519, SPKI: r.keyList[len(r.keyList)-1].spki}
	if v, err := pub.Verifier(); err != nil || v.k.expanded != nil {
		t.Errorf("PublicKey.Verifier: %v, expanded %v", err, v.k != nil && v.k.expanded != nil)
	}
}

type ed25519Vector struct {
	name          string
	pub, msg, sig []byte
}

func ed25519Vectors(t *testing.T) []ed25519Vector {
	read := func(name string, v any) {
		f, err := os.Open("../verify/audit/testdata/ed25519/" + name)
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
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var out []ed25519Vector
	var cctv []struct{ A, R, S, M string }
	read("ed25519vectors.json.gz", &cctv)
	for i, v := range cctv {
		out = append(out, ed25519Vector{"cctv/" + strconv.Itoa(i), unhex(v.A), []byte(v.M), append(unhex(v.R), unhex(v.S)...)})
	}
	var spec []struct {
		Message   string `json:"message"`
		PubKey    string `json:"pub_key"`
		Signature string `json:"signature"`
	}
	read("speccheck_cases.json.gz", &spec)
	for i, v := range spec {
		out = append(out, ed25519Vector{"speccheck/" + strconv.Itoa(i), unhex(v.PubKey), unhex(v.Message), unhex(v.Signature)})
	}
	var wp struct {
		TestGroups []struct {
			Key   struct{ PK string } `json:"key"`
			Tests []struct {
				ID  int    `json:"tcId"`
				Msg string `json:"msg"`
				Sig string `json:"sig"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	read("eddsa_test.json.gz", &wp)
	for _, g := range wp.TestGroups {
		for _, tc := range g.Tests {
			out = append(out, ed25519Vector{"wycheproof/" + strconv.Itoa(tc.ID), unhex(g.Key.PK), unhex(tc.Msg), unhex(tc.Sig)})
		}
	}
	return out
}
