package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSignatures is the most signature lines [ParseNote] accepts in one note.
const MaxSignatures = 100

var (
	// ErrMalformedNote means a signed note is not syntactically valid.
	// It must be rejected; it cannot have been produced by an honest signer.
	ErrMalformedNote = errors.New("malformed note")

	// ErrNoVerifiedSignature means a note carries no signature by any of the
	// keys it was opened with (or, from [OpenCheckpoint], none by a log
	// key). Its text must be ignored. It is what a client sees when a log
	// rotated to a key it does not know yet.
	ErrNoVerifiedSignature = errors.New("no verified signature")
)

// A SignatureError reports a signature whose key name and ID match a known
// key but which that key rejects. The whole note must be rejected: the
// signer is broken, or someone tampered with the text or the signature.
type SignatureError struct {
	Name  string
	KeyID uint32
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("invalid signature by %s+%08x", e.Name, e.KeyID)
}

// A Signature is one signature line of a note.
type Signature struct {
	Name  string // key name
	KeyID uint32 // key ID, see [KeyID]
	Sig   []byte // signature bytes, without the 4-byte key ID
}

// A Note is the text of a signed note and its signatures.
type Note struct {
	Text []byte // including the final newline
	Sigs []Signature
}

// sigPrefix starts a signature line: an em dash (U+2014) and a space.
const sigPrefix = "— "

// ParseNote parses a signed note without verifying any signature.
// It checks the syntax of the package comment: UTF-8 without control
// characters other than newline, a text ending in a newline, a blank line,
// and 1 to [MaxSignatures] well-formed signature lines in canonical base64.
// The signatures are returned in order, duplicates included.
func ParseNote(msg []byte) (*Note, error) {
	if err := checkChars(msg); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformedNote)
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return nil, fmt.Errorf("no blank line: %w", ErrMalformedNote)
	}
	sigs, err := ParseSignatures(msg[split+2:])
	if err != nil {
		return nil, err
	}
	return &Note{Text: bytes.Clone(msg[:split+1]), Sigs: sigs}, nil
}

// ParseSignatures parses 1 to [MaxSignatures] signature lines, each ending
// in a newline, such as a witness returns (c2sp.org/tlog-witness). Append
// them to a [Note]'s Sigs to add them to the note.
func ParseSignatures(lines []byte) ([]Signature, error) {
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return nil, fmt.Errorf("no signature lines: %w", ErrMalformedNote)
	}
	if err := checkChars(lines); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformedNote)
	}
	var sigs []Signature
	for line := range bytes.Lines(lines) {
		if len(sigs) == MaxSignatures {
			return nil, fmt.Errorf("more than %d signatures: %w", MaxSignatures, ErrMalformedNote)
		}
		s, err := parseSignatureLine(line[:len(line)-1])
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}

func parseSignatureLine(line []byte) (Signature, error) {
	rest, ok := strings.CutPrefix(string(line), sigPrefix)
	if !ok {
		return Signature{}, fmt.Errorf("signature line without em dash: %w", ErrMalformedNote)
	}
	name, b64, _ := strings.Cut(rest, " ")
	if !validName(name) {
		return Signature{}, fmt.Errorf("invalid key name %q: %w", name, ErrMalformedNote)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) < 5 {
		return Signature{}, fmt.Errorf("bad signature by %s: %w", name, ErrMalformedNote)
	}
	return Signature{Name: name, KeyID: binary.BigEndian.Uint32(raw), Sig: raw[4:]}, nil
}

// checkChars checks that b is UTF-8 with no control character but '\n'.
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		if r < 0x20 && r != '\n' {
			return fmt.Errorf("control character %#x at byte %d", r, i)
		}
		i += size
	}
	return nil
}

// validName reports whether name is a valid key name: non-empty UTF-8
// without Unicode white space or '+'.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) &&
		strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// Bytes returns the signed note: the text, a blank line and the signature
// lines. n.Text must end in a newline.
func (n *Note) Bytes() []byte {
	b := append(bytes.Clone(n.Text), '\n')
	for _, s := range n.Sigs {
		b = appendSignatureLine(b, s)
	}
	return b
}

func appendSignatureLine(b []byte, s Signature) []byte {
	raw := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(s.Sig)), s.KeyID)
	raw = append(raw, s.Sig...)
	b = append(b, sigPrefix...)
	b = append(b, s.Name...)
	b = append(b, ' ')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '\n')
}

// Sign signs text with each signer, in order, and returns the signed note.
// The text must end in a newline and contain no control character but
// newlines.
func Sign(text []byte, signers ...Signer) ([]byte, error) {
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return nil, fmt.Errorf("text does not end in a newline: %w", ErrMalformedNote)
	}
	if err := checkChars(text); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformedNote)
	}
	if len(signers) == 0 || len(signers) > MaxSignatures {
		return nil, fmt.Errorf("%d signers: %w", len(signers), ErrMalformedNote)
	}
	n := &Note{Text: text}
	for _, s := range signers {
		if !validName(s.Name()) {
			return nil, fmt.Errorf("invalid signer name %q: %w", s.Name(), ErrMalformedNote)
		}
		sig, err := s.Sign(text)
		if err != nil {
			return nil, fmt.Errorf("signing as %s: %w", s.Name(), err)
		}
		if len(sig) == 0 {
			return nil, fmt.Errorf("empty signature by %s: %w", s.Name(), ErrMalformedNote)
		}
		n.Sigs = append(n.Sigs, Signature{Name: s.Name(), KeyID: s.KeyID(), Sig: sig})
	}
	return n.Bytes(), nil
}

// Open parses a signed note and verifies its signatures.
//
// A signature whose name and key ID match no verifier is ignored. One that
// matches must be accepted by every matching verifier, else Open returns a
// [*SignatureError]. If no signature verifies, Open returns
// [ErrNoVerifiedSignature]. The returned note holds only the verified
// signatures, in order, each key once.
func Open(msg []byte, verifiers ...Verifier) (*Note, error) {
	n, err := ParseNote(msg)
	if err != nil {
		return nil, err
	}
	verified := &Note{Text: n.Text}
	for _, s := range n.Sigs {
		known, err := verifySignature(n.Text, s, verifiers)
		if err != nil {
			return nil, err
		}
		if known && !hasSignature(verified.Sigs, s.Name, s.KeyID) {
			verified.Sigs = append(verified.Sigs, s)
		}
	}
	if len(verified.Sigs) == 0 {
		return nil, ErrNoVerifiedSignature
	}
	return verified, nil
}

// verifySignature reports whether s is by a known key, and fails if a known
// key rejects it.
func verifySignature(text []byte, s Signature, verifiers []Verifier) (known bool, err error) {
	for _, v := range verifiers {
		if v.Name() != s.Name || v.KeyID() != s.KeyID {
			continue
		}
		if !v.Verify(text, s.Sig) {
			return true, &SignatureError{Name: s.Name, KeyID: s.KeyID}
		}
		known = true
	}
	return known, nil
}

func hasSignature(sigs []Signature, name string, id uint32) bool {
	for _, s := range sigs {
		if s.Name == name && s.KeyID == id {
			return true
		}
	}
	return false
}
