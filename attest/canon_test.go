package attest

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
)

// TestCanonicalFields checks the fast path's member tables against the
// structs' JSON tags: every name, in RFC 8785 order, and omitempty.
func TestCanonicalFields(t *testing.T) {
	for _, c := range []struct {
		f fields
		v any
	}{
		{statementFields, Statement{}}, {subjectFields, Subject{}}, {digestFields, Digest{}},
		{keyFields, PublicKey{}}, {registrarFields, Registrar{}}, {accordFields, Accord{}},
		{principleFields, Principle{}}, {signatoryFields, SignatoryEvent{}}, {pledgeFields, Pledge{}},
	} {
		typ := reflect.TypeOf(c.v)
		optional := map[string]bool{}
		var names []string
		for i := range typ.NumField() {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			names = append(names, name)
			optional[name] = opts == "omitempty"
		}
		slices.Sort(names) // ASCII: bytewise order is RFC 8785's order
		if !slices.Equal(names, c.f.names) {
			t.Errorf("%s: fast path names %q, struct has %q", typ.Name(), c.f.names, names)
		}
		for i, name := range c.f.names {
			if required := c.f.required&(1<<i) != 0; required == optional[name] {
				t.Errorf("%s.%s: fast path required = %v, struct omitempty = %v", typ.Name(), name, required, optional[name])
			}
		}
		if c.f.required>>len(c.f.names) != 0 {
			t.Errorf("%s: required bits beyond the names", typ.Name())
		}
	}
}

// checkFastPath fails t if the fast path accepted in but the general path
// does not agree: the same envelope and statement, and RFC 8785 bytes by
// the jcs library.
func checkFastPath(t *testing.T, in []byte) {
	t.Helper()
	if env, ok := scanLeaf(in); ok {
		if !bytes.Equal(env.Leaf(), in) {
			t.Fatalf("scanLeaf accepted %q, which is not the canonical leaf %q", in, env.Leaf())
		}
		gen, err := parseEnvelope(in)
		if err == nil && (!bytes.Equal(gen.Payload, env.Payload) || !reflect.DeepEqual(gen.Signatures, env.Signatures)) {
			t.Fatalf("scanLeaf and the general path decode %q differently", in)
		}
	}
	st, ok := scanStatement(in)
	if !ok {
		return
	}
	gen, err := decodeStatement(in)
	if err != nil {
		t.Fatalf("scanStatement accepted %q; the general path says %v", in, err)
	}
	if !reflect.DeepEqual(st, gen) {
		t.Fatalf("scanStatement and the general path decode %q differently:\n%#v\n%#v", in, st, gen)
	}
	if c, err := jcs.Transform(in); err != nil || !bytes.Equal(c, in) {
		t.Fatalf("scanStatement accepted %q, which jcs canonicalizes to %q (%v)", in, c, err)
	}
}

// TestFastPathTaken: every vector and demo entry, and statements full of
// characters RFC 8785 escapes or leaves alone, take the fast path and
// decode as the general path decodes them.
func TestFastPathTaken(t *testing.T) {
	d, err := NewDemo("example.com/fast", []byte("fast"))
	if err != nil {
		t.Fatal(err)
	}
	leaves := append(readVectors(t), d.Entries...)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := &Pledge{Origin: "example.com/fast", Signatory: "acme", Accord: "a", Principle: "p",
			Status: StatusProgress, Statement: randomText(rng), Effective: "2026-01-02",
			Evidence: []string{"https://example.com/" + randomText(rng)}, Notice: randomText(rng)}
		if rng.IntN(2) == 0 {
			p.Supersedes = new(uint64(rng.Uint64N(1 << 53)))
		}
		payload, err := NewPledgeStatement(p, strings.Repeat("ab", 32)).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, (&Envelope{Payload: payload, Signatures: []Signature{{KeyID: strings.Repeat("0", 64), Sig: []byte{1}}}}).Leaf())
	}
	for i, leaf := range leaves {
		env, ok := scanLeaf(leaf)
		if !ok {
			t.Fatalf("leaf %d did not take the fast path: %q", i, leaf)
		}
		if _, ok := scanStatement(env.Payload); !ok {
			t.Fatalf("payload %d did not take the fast path: %q", i, env.Payload)
		}
		checkFastPath(t, leaf)
		checkFastPath(t, env.Payload)
	}
}

// randomText returns a non-empty string of characters that RFC 8785
// escapes, leaves alone although encoding/json escapes them, or are
// multi-byte.
func randomText(rng *rand.Rand) string {
	alphabet := []rune("aZ09 \"\\/\b\f\n\r\t\x00\x01\x1f\x7f<>&\u2028\u2029é€😀")
	var b strings.Builder
	for range 1 + rng.IntN(12) {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// TestFastPathDeclines: forms that are not canonical, or that the schema
// would re-encode, leave the decision to the general path, which rejects
// them.
func TestFastPathDeclines(t *testing.T) {
	p := &Pledge{Origin: "example.com/fast", Signatory: "acme", Accord: "a", Principle: "p",
		Status: StatusProgress, Statement: "s", Effective: "2026-01-02"}
	good, err := NewPledgeStatement(p, strings.Repeat("ab", 32)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := scanStatement(good); !ok {
		t.Fatalf("the unmodified payload did not take the fast path: %s", good)
	}
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in %s", old, good)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	for name, in := range map[string][]byte{
		"empty optional":       edit(`"origin"`, `"notice":"","origin"`),
		"empty array":          edit(`"origin"`, `"evidence":[],"origin"`),
		"null":                 edit(`"origin"`, `"supersedes":null,"origin"`),
		"members out of order": edit(`"accord":"a","effective":"2026-01-02"`, `"effective":"2026-01-02","accord":"a"`),
		"duplicate member":     edit(`"accord":"a"`, `"accord":"a","accord":"a"`),
		"unknown member":       edit(`"origin"`, `"extra":"x","origin"`),
		"case variant":         edit(`"origin"`, `"Origin"`),
		"whitespace":           edit(`"accord":"a"`, `"accord": "a"`),
		"escaped letter":       edit(`"statement":"s"`, `"statement":"\u0073"`),
		"escaped slash":        edit(`"statement":"s"`, `"statement":"\/"`),
		"uppercase hex":        edit(`"statement":"s"`, `"statement":"\u001F"`),
		"long form of \\n":     edit(`"statement":"s"`, `"statement":"\u000a"`),
		"raw control":          edit(`"statement":"s"`, "\"statement\":\"\x01\""),
		"invalid UTF-8":        edit(`"statement":"s"`, "\"statement\":\"\xff\""),
		"beyond 2^53":          edit(`"origin"`, `"supersedes":9007199254740993,"origin"`),
		"leading zero":         edit(`"origin"`, `"supersedes":01,"origin"`),
		"fraction":             edit(`"origin"`, `"supersedes":1.0,"origin"`),
		"trailing data":        append(bytes.Clone(good), ' '),
		"unordered predicate":  edit(`"predicate":{"accord"`, `"predicate":{"z":1,"accord"`),
	} {
		if _, ok := scanStatement(in); ok {
			t.Errorf("%s: the fast path accepted %s", name, in)
		}
		if _, err := parseStatement(in); err == nil {
			t.Errorf("%s: parseStatement accepted %s", name, in)
		}
	}
	// The predicate is skipped before its type is known: the skip must
	// order names by their characters, not by their encodings ("a!" sorts
	// after "a", although `"a!"` sorts before `"a"`).
	r := &canonReader{b: []byte(`{"a!":1,"a":1}`)}
	if r.skip() {
		t.Error(`skip accepted {"a!":1,"a":1}`)
	}
	r = &canonReader{b: []byte(`{"a":1,"a!":1}`)}
	if !r.skip() {
		t.Error(`skip refused {"a":1,"a!":1}`)
	}
}

// FuzzCanonicalFastPath: whatever the fast path accepts, the general path
// accepts with the same result, and the jcs library leaves unchanged.
func FuzzCanonicalFastPath(f *testing.F) {
	for _, leaf := range readVectors(f) {
		f.Add(leaf)
		if env, ok := scanLeaf(leaf); ok {
			f.Add(env.Payload)
		}
	}
	f.Add([]byte(`{"a!":1,"a":1}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFastPath(t, in)
		r := &canonReader{b: in}
		if r.skip() && r.i == len(in) {
			if c, err := jcs.Transform(in); err != nil || !bytes.Equal(c, in) {
				t.Fatalf("skip accepted %q, which jcs canonicalizes to %q (%v)", in, c, err)
			}
		}
	})
}
