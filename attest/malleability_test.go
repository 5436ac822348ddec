package attest

import (
	"bytes"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// envJSON is a loosely typed envelope, for building malformed variants.
type envJSON struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func decodeEnv(t *testing.T, leaf []byte) envJSON {
	var e envJSON
	if err := json.Unmarshal(leaf, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e envJSON) payload() string {
	b, _ := base64.StdEncoding.DecodeString(e.Payload)
	return string(b)
}

// edit returns leaf with its text rewritten by replacing old with new once.
func edit(leaf []byte, old, new string) []byte {
	return []byte(strings.Replace(string(leaf), old, new, 1))
}

// editPayload returns leaf with its decoded payload rewritten.
func editPayload(t *testing.T, leaf []byte, old, new string) []byte {
	e := decodeEnv(t, leaf)
	p := e.payload()
	if !strings.Contains(p, old) {
		t.Fatalf("payload has no %q", old)
	}
	enc := base64.StdEncoding.EncodeToString([]byte(strings.Replace(p, old, new, 1)))
	return edit(leaf, e.Payload, enc)
}

func TestMalleability(t *testing.T) {
	leaves := readVectors(t)
	ed, ec := leaves[6], leaves[5] // pledges signed with Ed25519 and ECDSA
	e := decodeEnv(t, ed)
	sig := e.Signatures[0]
	for _, tc := range []struct {
		name, ptr, code string
		in              []byte
	}{
		{"trailing data", "", "trailing-data", append(bytes.Clone(ed), " {}"...)},
		{"not an object", "", "wrong-type", []byte(`[]`)},
		{"duplicate envelope key", "/payloadType", "duplicate-key", edit(ed, `"payloadType"`, `"payloadType":"x","payloadType"`)},
		{"case-variant envelope key", "/PayloadType", "case-variant-key", edit(ed, `"payloadType"`, `"PayloadType"`)},
		{"unknown envelope field", "/extra", "unknown-field", edit(ed, `"payloadType"`, `"extra":1,"payloadType"`)},
		{"unknown signature field", "/signatures/0/extra", "unknown-field", edit(ed, `"sig":`, `"extra":"","sig":`)},
		{"missing keyid", "/signatures/0/keyid", "missing-field", edit(ed, `"keyid":"`+sig.KeyID+`",`, ``)},
		{"empty keyid", "/signatures/0/keyid", "wrong-value", edit(ed, sig.KeyID, ``)},
		{"upper-case keyid", "/signatures/0/keyid", "wrong-value", edit(ed, sig.KeyID, strings.ToUpper(sig.KeyID))},
		{"no signatures", "/signatures", "wrong-count", edit(ed, `[{"keyid":"`+sig.KeyID+`","sig":"`+sig.Sig+`"}]`, `[]`)},
		{"same key twice", "/signatures/1/keyid", "duplicate-key", edit(ed, `"}]`, `"},{"keyid":"`+sig.KeyID+`","sig":"`+sig.Sig+`"}]`)},
		{"extra signature", "/signatures", "wrong-count", edit(ed, `"}]`, `"},{"keyid":"`+strings.Repeat("a", 64)+`","sig":"`+sig.Sig+`"}]`)},
		{"wrong payload type", "/payloadType", "wrong-value", edit(ed, PayloadType, "application/json")},
		{"bad base64", "/payload", "bad-base64", edit(ed, e.Payload, e.Payload[:len(e.Payload)-1])},
		{"bad sig base64", "/signatures/0/sig", "bad-base64", edit(ed, sig.Sig, "*"+sig.Sig[1:])},
		{"duplicate statement key", "/payload/predicate/status", "duplicate-key", editPayload(t, ed, `"status":"progress"`, `"status":"progress","status":"progress"`)},
		{"case-variant statement key", "/payload/predicate/Status", "case-variant-key", editPayload(t, ed, `"statement"`, `"Status":"progress","statement"`)},
		{"unknown statement field", "/payload/predicate/extra", "unknown-field", editPayload(t, ed, `"origin"`, `"extra":1,"origin"`)},
		{"unknown top-level field", "/payload/extra", "unknown-field", editPayload(t, ed, `"predicate"`, `"extra":1,"predicate"`)},
		{"empty optional field", "/payload/predicate/evidence", "not-canonical", editPayload(t, ed, `"origin"`, `"evidence":[],"origin"`)},
		{"missing required field", "/payload/predicate/status", "missing-field", editPayload(t, ed, `"status":"progress",`, ``)},
		{"whitespace", "/payload", "not-canonical", editPayload(t, ed, `"origin":`, `"origin": `)},
		{"key order", "/payload", "not-canonical", editPayload(t, editPayload(t, ed, `"_type":"https://in-toto.io/Statement/v1",`, ``), `"test-accord"}]}`, `"test-accord"}],"_type":"https://in-toto.io/Statement/v1"}`)},
		{"escaped string", "/payload", "not-canonical", editPayload(t, ed, `Half way.`, `Half way\u002e`)},
		{"number form", "/payload/predicate/supersedes", "wrong-type", editPayload(t, ed, `"supersedes":5`, `"supersedes":5.0`)},
		{"unknown status", "/payload/predicate/status", "wrong-value", editPayload(t, ed, `"progress"`, `"Progress"`)},
		{"unknown predicate type", "/payload/predicateType", "unknown-predicate-type", editPayload(t, ed, PledgeType, PledgeType+"x")},
		{"wrong statement type", "/payload/_type", "wrong-value", editPayload(t, ed, StatementType, StatementType+"x")},
		{"bad date", "/payload/predicate/effective", "wrong-value", editPayload(t, ed, `2026-02-03`, `2026-02-30`)},
		{"two signers for a pledge", "/signatures", "wrong-count", edit(ec, `"}]`, `"},{"keyid":"`+sig.KeyID+`","sig":"`+sig.Sig+`"}]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Canonicalize(tc.in)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Pointer != tc.ptr || fe.Code != tc.code || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Canonicalize = %v, want %s %s", err, tc.ptr, tc.code)
			}
		})
	}
}

// TestReencoded: a re-encoded envelope is accepted and canonicalized to
// the original leaf; ParseLeaf accepts only the canonical form.
func TestReencoded(t *testing.T) {
	leaf := readVectors(t)[6]
	e := decodeEnv(t, leaf)
	raw, _ := base64.StdEncoding.DecodeString(e.Payload)
	sig, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	variants := [][]byte{
		[]byte(`{ "signatures" : [ {"sig":"` + base64.URLEncoding.EncodeToString(sig) + `", "keyid":"` + e.Signatures[0].KeyID + `"} ],
			"payloadType":"` + PayloadType + `", "payload":"` + base64.URLEncoding.EncodeToString(raw) + `" }`),
		edit(leaf, `{"payload"`, "\n{\t\"payload\""),
	}
	for i, v := range variants {
		got, _, err := Canonicalize(v)
		if err != nil || !bytes.Equal(got, leaf) {
			t.Errorf("Canonicalize(variant %d) = %s, %v; want the original leaf", i, got, err)
		}
		if _, err := ParseLeaf(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLeaf(variant %d) = %v, want ErrMalformed", i, err)
		}
	}
}

// TestSignatureMalleability: high S, flipped bits and a signature moved to
// another statement are rejected by Verify, naming the signature.
func TestSignatureMalleability(t *testing.T) {
	leaves := readVectors(t)
	r := NewRegistry(testOrigin)
	admitAll(t, r, leaves[:5]) // up to acme's ECDSA key
	ec := leaves[5]
	e := decodeEnv(t, ec)
	der, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	var s ecdsaSig
	asn1.Unmarshal(der, &s)
	s.S.Sub(elliptic.P256().Params().N, s.S)
	high, _ := asn1.Marshal(s)
	flipped := bytes.Clone(der)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"high S", edit(ec, e.Signatures[0].Sig, base64.StdEncoding.EncodeToString(high))},
		{"flipped bit", edit(ec, e.Signatures[0].Sig, base64.StdEncoding.EncodeToString(flipped))},
		{"other statement", editPayload(t, ec, `We commit.`, `We do not commit.`)},
		{"raw r||s", edit(ec, e.Signatures[0].Sig, base64.StdEncoding.EncodeToString(append(pad32(s.R), pad32(new(big.Int).Sub(elliptic.P256().Params().N, s.S))...)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, env, err := Canonicalize(tc.in)
			if err != nil {
				t.Fatalf("Canonicalize = %v", err)
			}
			_, err = r.Verify(env)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Pointer != "/signatures/0/sig" || !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature at /signatures/0/sig", err)
			}
		})
	}
	if _, env, _ := Canonicalize(ec); env != nil {
		if _, err := r.Verify(env); err != nil {
			t.Errorf("Verify(original) = %v", err)
		}
	}
}

func pad32(i *big.Int) []byte { return i.FillBytes(make([]byte, 32)) }
