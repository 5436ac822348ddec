package bundle

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/pledgelog/pledgelog/verify"
)

// MediaType is the media type of the bundle format, also its mediaType
// member. A new version gets a new media type.
const MediaType = "application/vnd.pledgelog.bundle.v1+json"

// Limits of the format. A bundle is attacker-controllable input.
const (
	// MaxSize is the largest bundle Parse reads, in bytes.
	MaxSize = 1 << 21
	// MaxEvidence is the most evidence entries a bundle may carry.
	MaxEvidence = 16
	// MaxProof is the most hashes of one inclusion proof (a tree of 2^64
	// leaves needs 64).
	MaxProof = 64
	// MaxCheckpoint is the largest checkpoint note, in bytes.
	MaxCheckpoint = 1 << 16
)

// A Bundle proves that an attestation is in a log, signed by a key that
// the log's registry gave its signatory. See the package comment.
type Bundle struct {
	Entry      Entry   // the attestation
	Checkpoint []byte  // the signed checkpoint note, with any cosignatures
	Evidence   []Entry // v1: registry events introducing the signing key, in index order
	// Map is what a v2 bundle carries in place of Evidence (nil in v1,
	// non-nil in v2): the signing key and its map proofs.
	Map *MapEvidence
}

// An Entry is one log entry with its inclusion proof in the bundle's
// checkpoint.
type Entry struct {
	Index uint64
	Leaf  []byte        // the exact canonical envelope bytes
	Proof []verify.Hash // RFC 6962 audit path, the leaf's sibling first
}

// Marshal returns the bundle's JSON, in its version's format (v2 if Map
// is set): members in the order of the package
// comment, no white space, standard base64. Parse(b.Marshal()) is b, and
// Parse(x).Marshal() is x for every x that Marshal returned.
func (b *Bundle) Marshal() []byte {
	if b.IsV2() {
		return b.marshalV2()
	}
	out := []byte(`{"mediaType":`)
	out = strconv.AppendQuote(out, MediaType)
	out = append(out, `,"entry":`...)
	out = appendEntry(out, &b.Entry)
	out = append(out, `,"checkpoint":`...)
	out = appendString(out, string(b.Checkpoint))
	out = append(out, `,"evidence":[`...)
	for i := range b.Evidence {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendEntry(out, &b.Evidence[i])
	}
	return append(out, "]}"...)
}

func appendEntry(out []byte, e *Entry) []byte {
	out = append(out, `{"index":`...)
	out = strconv.AppendUint(out, e.Index, 10)
	out = append(out, `,"leaf":"`...)
	out = base64.StdEncoding.AppendEncode(out, e.Leaf)
	out = append(out, `","proof":`...)
	out = appendBase64Array(out, e.Proof, func(h verify.Hash) []byte { return h[:] })
	return append(out, '}')
}

// appendBase64Array appends xs as a JSON array of standard base64
// strings, with no white space.
func appendBase64Array[T any](out []byte, xs []T, bytesOf func(T) []byte) []byte {
	out = append(out, '[')
	for i, x := range xs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, bytesOf(x))
		out = append(out, '"')
	}
	return append(out, ']')
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(out []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(out, b...)
}
