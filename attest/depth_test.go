package attest

import (
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// nested returns n arrays inside one another.
func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allocLimit is what parsing in may allocate: linear in its size, with
// room for the parse tree's per-value cost on inputs of two-byte values.
func allocLimit(in []byte) uint64 { return uint64(256*len(in) + 1<<20) }

// deepEnvelope is a submission with value nested inside the envelope (in
// an extra member) or, base64-encoded, inside the statement's predicate.
func deepEnvelope(value string, inPayload bool) []byte {
	payload := `{"_type":"https://in-toto.io/Statement/v1","predicate":{"a":1},"predicateType":"x","subject":[]}`
	extra := ""
	if inPayload {
		payload = `{"_type":"https://in-toto.io/Statement/v1","predicate":` + value + `,"predicateType":"x","subject":[]}`
	} else {
		extra = `,"x":` + value
	}
	return []byte(`{"payload":"` + base64.StdEncoding.EncodeToString([]byte(payload)) +
		`","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"` + strings.Repeat("ab", 32) + `","sig":"` + strings.Repeat("A", 88) + `"}]` + extra + `}`)
}

// TestDeepNesting is the finding of issue 12: a 130 KB body of nested
// arrays made the strict parser's memory quadratic in the depth (every
// level's pointer string stayed live), about 460 MB at depth 20,000. Now
// anything deeper than MaxDepth is refused, and what the parse allocates
// is bounded by a small multiple of the input.
func TestDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		name      string
		depth     int
		inPayload bool
	}{
		{"envelope/just-too-deep", MaxDepth, false}, // the member's value is one level down
		{"envelope/20000", 20000, false},
		{"envelope/65000", 65000, false},
		{"payload/just-too-deep", MaxDepth, true},
		{"payload/20000", 20000, true},
		{"payload/48000", 48000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := deepEnvelope(nested(tc.depth), tc.inPayload)
			if len(in) > MaxSubmissionSize {
				t.Fatalf("test input of %d bytes is over MaxSubmissionSize", len(in))
			}
			var err error
			alloc := allocated(func() { _, _, err = Canonicalize(in) })
			t.Logf("depth %d: %d bytes in, %d bytes allocated", tc.depth, len(in), alloc)
			if limit := allocLimit(in); alloc > limit {
				t.Errorf("Canonicalize(depth %d, %d bytes) allocated %d bytes, want at most %d", tc.depth, len(in), alloc, limit)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Code != "too-deep" || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Canonicalize(depth %d) = %v, want a too-deep FieldError", tc.depth, err)
			}
			if want := "/payload"; tc.inPayload && fe.Pointer != want {
				t.Errorf("pointer %q, want %q", fe.Pointer, want)
			}
			alloc = allocated(func() { _, err = ParseLeaf(in) })
			if err == nil || alloc > allocLimit(in) {
				t.Errorf("ParseLeaf(depth %d) = %v after allocating %d bytes", tc.depth, err, alloc)
			}
		})
	}
}

// TestDepthLimitEdge checks that MaxDepth itself is allowed: the value one
// level shallower than the refused one is parsed and refused for what it
// is, not for its depth.
func TestDepthLimitEdge(t *testing.T) {
	for _, inPayload := range []bool{false, true} {
		_, _, err := Canonicalize(deepEnvelope(nested(MaxDepth-1), inPayload))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Code == "too-deep" {
			t.Errorf("Canonicalize(depth %d, payload %v) = %v, want an error other than too-deep", MaxDepth, inPayload, err)
		}
	}
}

// TestDepthIgnoresStrings checks that brackets inside strings, escaped
// quotes included, do not count as nesting.
func TestDepthIgnoresStrings(t *testing.T) {
	s := `"` + strings.Repeat(`[\"{`, 10*MaxDepth) + `"`
	if err := checkDepth([]byte(`{"a":`+s+`}`), ""); err != nil {
		t.Errorf("checkDepth(brackets in a string) = %v", err)
	}
	if err := checkDepth([]byte(`{"a":"\\"`+nested(MaxDepth)+`}`), ""); err == nil {
		t.Error("checkDepth: an escaped backslash before the closing quote hid the nesting")
	}
}

// TestLongKeyPointers is the other face of the same bug: a long member
// name above a wide array made every element's pointer a copy of it.
func TestLongKeyPointers(t *testing.T) {
	key := strings.Repeat("k", 40000)
	arr := "[" + strings.Repeat("0,", 40000) + "0]"
	in := []byte(`{"` + key + `":` + arr + `}`)
	var err error
	alloc := allocated(func() { _, _, err = Canonicalize(in) })
	if err == nil {
		t.Fatal("Canonicalize accepted an unknown member")
	}
	if limit := allocLimit(in); alloc > limit {
		t.Errorf("Canonicalize(%d bytes) allocated %d bytes, want at most %d", len(in), alloc, limit)
	}
}
