package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gowebpki/jcs"
)

func addSeeds(f *testing.F) {
	for _, leaf := range readVectors(f) {
		f.Add(leaf)
	}
	f.Add([]byte(`{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"","sig":""}]}`))
}

// FuzzCanonicalize: whatever Canonicalize accepts, ParseLeaf accepts in
// canonical form, and canonicalizing again is the identity.
func FuzzCanonicalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		leaf, env, err := Canonicalize(in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Canonicalize error %v is not a *FieldError wrapping ErrMalformed", err)
			}
			return
		}
		env2, err := ParseLeaf(leaf)
		if err != nil {
			t.Fatalf("ParseLeaf(Canonicalize(x)) = %v", err)
		}
		again, _, err := Canonicalize(leaf)
		if err != nil || !bytes.Equal(again, leaf) {
			t.Fatalf("Canonicalize is not idempotent: %q -> %q, %v", leaf, again, err)
		}
		if !bytes.Equal(env.Payload, env2.Payload) || !bytes.Equal(DedupKey(leaf), env.DedupKey()) {
			t.Fatalf("payload or dedup key changed on the round trip")
		}
		if c, err := jcs.Transform(env.Payload); err != nil || !bytes.Equal(c, env.Payload) {
			t.Fatalf("accepted payload is not RFC 8785: %q", env.Payload)
		}
	})
}

// FuzzParseLeaf: ParseLeaf accepts exactly the fixed points of
// Canonicalize.
func FuzzParseLeaf(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		env, err := ParseLeaf(in)
		leaf, _, cerr := Canonicalize(in)
		fixed := cerr == nil && bytes.Equal(leaf, in)
		if (err == nil) != fixed {
			t.Fatalf("ParseLeaf = %v, but Canonicalize fixed point = %v (%v)", err, fixed, cerr)
		}
		if err == nil && !bytes.Equal(env.Leaf(), in) {
			t.Fatalf("Leaf() differs from the parsed leaf")
		}
	})
}

// FuzzParseTree compares the strict JSON reader with encoding/json: they
// must agree on validity, except that duplicate keys are rejected.
func FuzzParseTree(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `[1,"x",{"b":null}]`, `{"a":1} x`, `"\ud800"`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, err := parseTree(in, "")
		valid := json.Valid(in)
		var fe *FieldError
		dup := errors.As(err, &fe) && fe.Code == "duplicate-key"
		if (err == nil) != valid && !dup {
			t.Fatalf("parseTree(%q) = %v, json.Valid = %v", in, err, valid)
		}
	})
}

// FuzzDedupKey: the cheap dedup key equals the full parse's on leaves and
// never panics on anything else.
func FuzzDedupKey(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		k := DedupKey(in)
		if env, err := ParseLeaf(in); err == nil && !bytes.Equal(k, env.DedupKey()) {
			t.Fatalf("DedupKey = %x, want %x", k, env.DedupKey())
		}
	})
}
