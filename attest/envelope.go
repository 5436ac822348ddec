package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Size limits. A leaf must fit a C2SP entry bundle (16-bit length); a
// submission may be larger only by its base64 and whitespace overhead.
const (
	MaxLeafSize       = 65535
	MaxSubmissionSize = 2 * MaxLeafSize
)

// An Envelope is a DSSE envelope that passed [Canonicalize] or [ParseLeaf]:
// its payload is the canonical JSON of Statement, and its signatures are
// sorted by key id, each key at most once. Signatures are not verified
// yet: see [Registry.Verify].
type Envelope struct {
	Payload    []byte // the exact bytes that are signed (inside the PAE)
	Signatures []Signature
	Statement  *Statement // parsed from Payload
}

// A Signature is one DSSE signature: the key id (hex SHA-256 of the SPKI)
// and the raw signature (Ed25519, or DER ECDSA with low S).
type Signature struct {
	KeyID string
	Sig   []byte
}

// Canonicalize parses a DSSE envelope as a client submitted it and returns
// its canonical leaf bytes. Payload and signatures may use standard or
// URL-safe base64 and the JSON may be spaced and ordered freely, but
// everything else is strict: duplicate, case-variant or unknown members,
// a missing keyid, the wrong number of signatures for the event, a payload
// that is not RFC 8785 JSON of a valid statement are all errors, reported
// as *FieldError wrapping ErrMalformed.
func Canonicalize(submitted []byte) (leaf []byte, env *Envelope, err error) {
	if len(submitted) > MaxSubmissionSize {
		return nil, nil, malformed("", "too-large", "more than %d bytes", MaxSubmissionSize)
	}
	if env, ok := scanLeaf(submitted); ok && len(submitted) <= MaxLeafSize {
		env, err := env.finish() // what the general path would end with
		if err != nil {
			return nil, nil, err
		}
		return bytes.Clone(submitted), env, nil
	}
	env, err = parseEnvelope(submitted)
	if err != nil {
		return nil, nil, err
	}
	leaf = env.encode()
	if len(leaf) > MaxLeafSize {
		return nil, nil, malformed("", "too-large", "leaf of %d bytes", len(leaf))
	}
	return leaf, env, nil
}

// ParseLeaf parses a stored leaf and checks that it is in canonical form,
// byte for byte.
func ParseLeaf(leaf []byte) (*Envelope, error) {
	if len(leaf) > MaxLeafSize {
		return nil, malformed("", "too-large", "leaf of %d bytes", len(leaf))
	}
	if env, ok := scanLeaf(leaf); ok {
		return env.finish()
	}
	env, err := parseEnvelope(leaf)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(env.encode(), leaf) {
		return nil, malformed("", "not-canonical", "leaf is not in canonical form")
	}
	return env, nil
}

func parseEnvelope(data []byte) (*Envelope, error) {
	tree, err := parseTree(data, "")
	if err != nil {
		return nil, err
	}
	m, err := tree.members("", "payload", "payloadType", "signatures")
	if err != nil {
		return nil, err
	}
	if pt, err := m[1].str("/payloadType"); err != nil || pt != PayloadType {
		return nil, malformed("/payloadType", "wrong-value", "want %q", PayloadType)
	}
	sigs, err := parseSignatures(m[2])
	if err != nil {
		return nil, err
	}
	payload, err := decodeBase64(m[0], "/payload")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sigs, func(a, b Signature) int { return strings.Compare(a.KeyID, b.KeyID) })
	return (&Envelope{Payload: payload, Signatures: sigs}).finish()
}

// finish parses the payload and checks the signature count.
func (e *Envelope) finish() (*Envelope, error) {
	st, err := parseStatement(e.Payload)
	if err != nil {
		return nil, err
	}
	if want := st.Predicate.signers(); len(e.Signatures) != want {
		return nil, malformed("/signatures", "wrong-count", "this event needs %d signature(s)", want)
	}
	e.Statement = st
	return e, nil
}

func parseSignatures(n *jnode) ([]Signature, error) {
	if n.kind != '[' {
		return nil, malformed("/signatures", "wrong-type", "want an array")
	}
	if len(n.vals) < 1 || len(n.vals) > 2 {
		return nil, malformed("/signatures", "wrong-count", "want one or two signatures")
	}
	var sigs []Signature
	for i, v := range n.vals {
		ptr := "/signatures/" + itoa(i)
		s, err := parseSignature(v, ptr)
		if err != nil {
			return nil, err
		}
		if len(sigs) == 1 && sigs[0].KeyID == s.KeyID {
			return nil, malformed(ptr+"/keyid", "duplicate-key", "two signatures by one key")
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}

func parseSignature(n *jnode, ptr string) (Signature, error) {
	m, err := n.members(ptr, "keyid", "sig")
	if err != nil {
		return Signature{}, err
	}
	id, err := m[0].str(ptr + "/keyid")
	if err == nil {
		err = checkHex64(ptr+"/keyid", id)
	}
	if err != nil {
		return Signature{}, err
	}
	sig, err := decodeBase64(m[1], ptr+"/sig")
	return Signature{KeyID: id, Sig: sig}, err
}

// decodeBase64 accepts standard or URL-safe base64 with padding, as DSSE
// requires, and rejects non-zero trailing bits.
func decodeBase64(n *jnode, ptr string) ([]byte, error) {
	s, err := n.str(ptr)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		b, err = base64.URLEncoding.Strict().DecodeString(s)
	}
	if err != nil || len(b) == 0 {
		return nil, malformed(ptr, "bad-base64", "want non-empty standard or URL-safe base64")
	}
	return b, nil
}

// Leaf returns the canonical leaf bytes:
//
//	{"payload":"<std base64>","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"<hex>","sig":"<std base64>"}]}
func (e *Envelope) Leaf() []byte { return e.encode() }

func (e *Envelope) encode() []byte {
	var b strings.Builder
	b.WriteString(`{"payload":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(e.Payload))
	b.WriteString(`","payloadType":"` + PayloadType + `","signatures":[`)
	for i, s := range e.Signatures {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"keyid":"` + s.KeyID + `","sig":"`)
		b.WriteString(base64.StdEncoding.EncodeToString(s.Sig))
		b.WriteString(`"}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// PAE returns the DSSE pre-authentication encoding that the signatures
// sign.
func (e *Envelope) PAE() []byte { return dsse.PAE(PayloadType, e.Payload) }

// DedupKey returns SHA-256(PAE(payloadType, payload)): the same statement,
// however signed or encoded, has one dedup key.
func (e *Envelope) DedupKey() []byte {
	h := sha256.Sum256(e.PAE())
	return h[:]
}

// LeafHash returns the RFC 6962 leaf hash SHA-256(0x00 || leaf), the value
// that registry events name in prev.
func LeafHash(leaf []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	return [32]byte(h.Sum(nil))
}

// DedupKey is the log's dedup hook for canonical leaves: SHA-256 of the
// PAE. It reads only the payload member, so it is cheap. Bytes that are not
// a leaf (the log never admits them) fall back to their leaf hash.
func DedupKey(entry []byte) []byte {
	const prefix = `{"payload":"`
	rest, ok := bytes.CutPrefix(entry, []byte(prefix))
	end := bytes.IndexByte(rest, '"')
	if ok && end > 0 {
		payload, err := base64.StdEncoding.Strict().DecodeString(string(rest[:end]))
		if err == nil {
			h := sha256.Sum256(dsse.PAE(PayloadType, payload))
			return h[:]
		}
	}
	h := LeafHash(entry)
	return h[:]
}
