package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// MediaTypeV2 is the media type of the bundle format v2: the entry, its
// inclusion proof and checkpoint, and map proofs of the signing key's
// state at that checkpoint in place of v1's registry chain. See
// docs/formats.md, "Proof bundles".
const MediaTypeV2 = "application/vnd.pledgelog.bundle.v2+json"

// Limits of the v2 format. Every part has a fixed largest size, so a v2
// bundle has one: MaxSizeV2, whatever the signatory's history.
const (
	// MaxCheckpointV2 is the largest checkpoint note of a v2 bundle, in
	// bytes (room for dozens of cosignatures, ML-DSA ones included).
	MaxCheckpointV2 = 1 << 15
	// MaxMapProof is the most nodes of one map proof: a label has 256
	// bits, and each node on a leaf's path has a longer prefix than the
	// one above it.
	MaxMapProof = 256
	// MaxSPKI is the largest signer key, in bytes of DER (an Ed25519 SPKI
	// has 44, a P-256 one 91).
	MaxSPKI = 128
	// mapNodeSize is a map proof node's bytes: bit length (4), label (32)
	// and hash (32).
	mapNodeSize = 4 + 32 + 32
	// maxValue is the longest encoded map value (a principal's).
	maxValue = 53
	// maxOwner is the longest owner id: attest's id pattern allows 64
	// characters ("registrar" is shorter).
	maxOwner = 64
	// maxKeyType is the longest key type name.
	maxKeyType = 16
)

// MaxSizeV2 is the largest v2 bundle Marshal writes and Parse reads, in
// bytes: the sum of the largest encoding of each member (the skeleton of
// member names and punctuation, an index of 20 digits, a leaf of
// verify.MaxEntrySize bytes in base64, MaxProof hashes, a checkpoint of
// MaxCheckpointV2 bytes each escaped in at most 2, the signer, and three
// map proofs of MaxMapProof nodes with their values). 230 000 bytes or
// so; docs/formats.md states it.
const MaxSizeV2 = len(skeletonV2) + 20 + (verify.MaxEntrySize+2)/3*4 + MaxProof*((verify.HashSize+2)/3*4+3) +
	2*MaxCheckpointV2 + maxOwner + maxKeyType + (MaxSPKI+2)/3*4 +
	3*((maxValue+2)/3*4+MaxMapProof*((mapNodeSize+2)/3*4+3))

// skeletonV2 is a v2 bundle with every member present and empty: what
// MaxSizeV2 adds the members' contents to.
const skeletonV2 = `{"mediaType":"` + MediaTypeV2 + `","entry":{"index":,"leaf":"","proof":[]},"checkpoint":"",` +
	`"signer":{"owner":"","type":"","spki":""},"map":{"principal":{"value":"","proof":[]},"key":{"value":"","proof":[]},"accord":{"value":"","proof":[]}}}`

// MapEvidence is what a v2 bundle carries in place of v1's evidence: the
// key that authorised the entry, and proofs of map leaves against the
// root that the bundle's checkpoint commits to (attest.ParseMapExtension).
type MapEvidence struct {
	// Owner is the principal whose key authorised the entry: the
	// statement's signatory, or attest.RegistrarID.
	Owner string
	// Signer is that key; its id is the SHA-256 of its SPKI.
	Signer attest.PublicKey
	// Principal is Owner's leaf, Key the leaf of (Owner, Signer's id).
	Principal, Key MapLeafProof
	// Accord is the leaf of the accord a pledge names; nil for every
	// other entry.
	Accord *MapLeafProof
}

// A MapLeafProof is a leaf's encoded value (attest.Map*Value) and its
// membership proof. Its label is not carried: the verifier computes it
// from the entry.
type MapLeafProof struct {
	Value []byte
	Proof attest.MapProof
}

// IsV2 reports whether b is a v2 bundle.
func (b *Bundle) IsV2() bool { return b.Map != nil }

// MediaType returns the media type of b's version.
func (b *Bundle) MediaType() string {
	if b.IsV2() {
		return MediaTypeV2
	}
	return MediaType
}

func (b *Bundle) marshalV2() []byte {
	m := b.Map
	out := make([]byte, 0, 4096)
	out = append(out, `{"mediaType":"`+MediaTypeV2+`","entry":`...)
	out = appendEntry(out, &b.Entry)
	out = append(out, `,"checkpoint":`...)
	out = appendNoteString(out, b.Checkpoint)
	out = append(out, `,"signer":{"owner":`...)
	out = strconv.AppendQuote(out, m.Owner)
	out = append(out, `,"type":`...)
	out = strconv.AppendQuote(out, string(m.Signer.Type))
	out = append(out, `,"spki":"`...)
	out = base64.StdEncoding.AppendEncode(out, m.Signer.SPKI)
	out = append(out, `"},"map":{"principal":`...)
	out = appendMapLeaf(out, &m.Principal)
	out = append(out, `,"key":`...)
	out = appendMapLeaf(out, &m.Key)
	if m.Accord != nil {
		out = append(out, `,"accord":`...)
		out = appendMapLeaf(out, m.Accord)
	}
	return append(out, "}}"...)
}

func appendMapLeaf(out []byte, l *MapLeafProof) []byte {
	out = append(out, `{"value":"`...)
	out = base64.StdEncoding.AppendEncode(out, l.Value)
	out = append(out, `","proof":`...)
	out = appendBase64Array(out, l.Proof, MapNodeBytes)
	return append(out, '}')
}

// MapNodeBytes is a map proof node as a v2 bundle carries it: its
// label's bit length (4 bytes, big-endian), its label's 32 bytes and its
// hash.
func MapNodeBytes(n prefix.ProofNode) []byte {
	b := make([]byte, 0, mapNodeSize)
	b = binary.BigEndian.AppendUint32(b, n.Label.BitLen())
	b = append(b, n.Label.Bytes()...)
	return append(b, n.Hash[:]...)
}

// ParseMapNode decodes MapNodeBytes strictly: a bit length of at most
// 256, no bit set past it (but in the empty node's label).
func ParseMapNode(b []byte) (prefix.ProofNode, error) {
	if len(b) != mapNodeSize {
		return prefix.ProofNode{}, fmt.Errorf("a map node of %d bytes, want %d", len(b), mapNodeSize)
	}
	l, err := prefix.NewLabel(binary.BigEndian.Uint32(b), b[4:36])
	if err != nil {
		return prefix.ProofNode{}, err
	}
	return prefix.ProofNode{Label: l, Hash: [32]byte(b[36:])}, nil
}

// appendNoteString appends a checkpoint note (checked by checkNoteText)
// as a JSON string, escaping only '"', '\' and newlines: at most twice
// its length.
func appendNoteString(out, note []byte) []byte {
	out = append(out, '"')
	for _, c := range note {
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// checkNoteText refuses what appendNoteString does not bound: control
// bytes but the newline, and invalid UTF-8.
func checkNoteText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c == 0x7f {
			return fmt.Errorf("control byte 0x%02x", c)
		}
	}
	return nil
}

// isID reports whether s is a principal id: 1 to 64 lowercase letters,
// digits and '-'.
func isID(s string) bool {
	if len(s) == 0 || len(s) > maxOwner {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isV2 reports whether data looks like a v2 bundle, to pick its parser;
// the parser then checks the media type strictly.
func isV2(data []byte) bool {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.MediaType == MediaTypeV2
}

func parseV2(data []byte) (*Bundle, error) {
	if len(data) > MaxSizeV2 {
		return nil, fieldErr("bundle", ErrMalformed, fmt.Errorf("more than %d bytes", MaxSizeV2))
	}
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	b := &Bundle{Map: &MapEvidence{}}
	_, err := d.object("", func(field, key string) error {
		switch key {
		case "mediaType":
			s, err := d.str(field)
			if err == nil && s != MediaTypeV2 {
				err = fieldErr(field, ErrMediaType, fmt.Errorf("%q, want %q", s, MediaTypeV2))
			}
			return err
		case "entry":
			return d.entry(field, &b.Entry)
		case "checkpoint":
			return d.checkpointV2(field, &b.Checkpoint)
		case "signer":
			return d.signer(field, b.Map)
		}
		return d.mapProofs(field, b.Map)
	}, "mediaType", "entry", "checkpoint", "signer", "map")
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, fieldErr("bundle", ErrMalformed, errors.New("data after the object"))
	}
	return b, nil
}

func (d *decoder) checkpointV2(field string, v *[]byte) error {
	s, err := d.str(field)
	if err != nil {
		return err
	}
	if len(s) > MaxCheckpointV2 {
		return fieldErr(field, ErrMalformed, fmt.Errorf("more than %d bytes", MaxCheckpointV2))
	}
	if err := checkNoteText(s); err != nil {
		return fieldErr(field, ErrMalformed, err)
	}
	if err := parseCheckpoint([]byte(s)); err != nil {
		return fieldErr(field, ErrMalformed, err)
	}
	*v = []byte(s)
	return nil
}

func (d *decoder) signer(field string, m *MapEvidence) error {
	_, err := d.object(field, func(f, key string) error {
		s, err := d.str(f)
		if err != nil {
			return err
		}
		switch key {
		case "owner":
			if !isID(s) {
				return fieldErr(f, ErrMalformed, errors.New("not a principal id"))
			}
			m.Owner = s
		case "type":
			if t := attest.KeyType(s); t != attest.Ed25519 && t != attest.ECDSAP256 {
				return fieldErr(f, ErrMalformed, fmt.Errorf("unknown key type %q", s))
			}
			m.Signer.Type = attest.KeyType(s)
		case "spki":
			b, err := base64.StdEncoding.Strict().DecodeString(s)
			if err != nil || base64.StdEncoding.EncodeToString(b) != s || len(b) == 0 || len(b) > MaxSPKI {
				return fieldErr(f, ErrMalformed, fmt.Errorf("not canonical standard base64 of 1 to %d bytes", MaxSPKI))
			}
			m.Signer.SPKI = b
		}
		return nil
	}, "owner", "type", "spki")
	return err
}

func (d *decoder) mapProofs(field string, m *MapEvidence) error {
	if err := d.delim(field, '{'); err != nil {
		return err
	}
	names := []string{"principal", "key", "accord"}
	seen := map[string]bool{}
	for d.dec.More() {
		key, err := d.key(field, names, seen)
		if err != nil {
			return err
		}
		l := &m.Principal
		switch key {
		case "key":
			l = &m.Key
		case "accord":
			m.Accord = &MapLeafProof{}
			l = m.Accord
		}
		if err := d.mapLeaf(join(field, key), l); err != nil {
			return err
		}
	}
	if err := d.delim(field, '}'); err != nil {
		return err
	}
	for _, n := range names[:2] {
		if !seen[n] {
			return fieldErr(join(field, n), ErrMalformed, errors.New("missing"))
		}
	}
	return nil
}

func (d *decoder) mapLeaf(field string, l *MapLeafProof) error {
	_, err := d.object(field, func(f, key string) error {
		if key == "value" {
			s, err := d.str(f)
			if err != nil {
				return err
			}
			b, err := base64.StdEncoding.Strict().DecodeString(s)
			if err != nil || base64.StdEncoding.EncodeToString(b) != s || len(b) == 0 || len(b) > maxValue {
				return fieldErr(f, ErrMalformed, fmt.Errorf("not canonical standard base64 of 1 to %d bytes", maxValue))
			}
			l.Value = b
			return nil
		}
		l.Proof = attest.MapProof{}
		return d.array(f, MaxMapProof, func(f string, _ int) error {
			s, err := d.str(f)
			if err != nil {
				return err
			}
			b, err := base64.StdEncoding.Strict().DecodeString(s)
			if err != nil || base64.StdEncoding.EncodeToString(b) != s {
				return fieldErr(f, ErrMalformed, errors.New("not canonical standard base64"))
			}
			n, err := ParseMapNode(b)
			if err != nil {
				return fieldErr(f, ErrMalformed, err)
			}
			l.Proof = append(l.Proof, n)
			return nil
		})
	}, "value", "proof")
	return err
}
