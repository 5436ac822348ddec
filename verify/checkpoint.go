package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

var (
	// ErrMalformedCheckpoint means a checkpoint text does not follow
	// c2sp.org/tlog-checkpoint. It must be rejected.
	ErrMalformedCheckpoint = errors.New("malformed checkpoint")

	// ErrOriginMismatch means a checkpoint is for another log than the one
	// asked for. It must be rejected.
	ErrOriginMismatch = errors.New("checkpoint origin mismatch")

	// ErrNoQuorum means a checkpoint signed by the log carries fewer
	// verified witness cosignatures than the policy requires. It must not
	// be trusted yet; a log publishes it once enough witnesses cosign, and
	// a client may retry later.
	ErrNoQuorum = errors.New("not enough witness cosignatures")
)

// A Checkpoint is the text of a c2sp.org/tlog-checkpoint: a log's origin, a
// tree size and the tree's root hash, and optional extension lines.
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       Hash
	Extensions []string // each non-empty, without its newline
}

// ParseCheckpoint parses a checkpoint text (the note text, without the
// blank line and the signatures). It is strict: the origin must be a valid
// key name (non-empty, no white space, no '+'); the size canonical decimal
// ("0" or no leading zero); the root 44 characters of canonical standard
// base64; every extension line non-empty; the text UTF-8 without control
// characters, ending in a newline. ParseCheckpoint(text).Text() == text.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if err := checkChars(text); err != nil {
		return Checkpoint{}, fmt.Errorf("%v: %w", err, ErrMalformedCheckpoint)
	}
	body, ok := bytes.CutSuffix(text, []byte("\n"))
	if !ok {
		return Checkpoint{}, fmt.Errorf("no final newline: %w", ErrMalformedCheckpoint)
	}
	lines := strings.Split(string(body), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%d lines: %w", len(lines), ErrMalformedCheckpoint)
	}
	c := Checkpoint{Origin: lines[0]}
	if !validName(c.Origin) {
		return Checkpoint{}, fmt.Errorf("invalid origin %q: %w", c.Origin, ErrMalformedCheckpoint)
	}
	var err error
	if c.Size, err = parseDecimal(lines[1]); err != nil {
		return Checkpoint{}, fmt.Errorf("size %q: %w", lines[1], ErrMalformedCheckpoint)
	}
	if c.Root, err = ParseHash(lines[2]); err != nil {
		return Checkpoint{}, fmt.Errorf("root %q: %w", lines[2], ErrMalformedCheckpoint)
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return Checkpoint{}, fmt.Errorf("empty extension line: %w", ErrMalformedCheckpoint)
		}
		c.Extensions = append(c.Extensions, ext)
	}
	return c, nil
}

// parseDecimal parses a canonical decimal uint64: digits only, and no
// leading zero unless it is "0".
func parseDecimal(s string) (uint64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' || (s[0] == '0' && len(s) > 1) {
		return 0, errors.New("not canonical decimal")
	}
	return strconv.ParseUint(s, 10, 64)
}

// Text returns the checkpoint text, ready to be signed.
func (c Checkpoint) Text() []byte {
	b := make([]byte, 0, len(c.Origin)+80)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	for _, ext := range c.Extensions {
		b = append(b, ext...)
		b = append(b, '\n')
	}
	return b
}

// OpenCheckpoint verifies a signed checkpoint against a log's keys and a
// quorum of quorum distinct witnesses (counted by key name) among
// witnesses: it is [OpenCosigned] with [Threshold](quorum, witnesses...).
func OpenCheckpoint(msg []byte, origin string, logKeys, witnesses []Verifier, quorum int) (Checkpoint, *Note, error) {
	return OpenCosigned(msg, origin, logKeys, Threshold(quorum, witnesses...))
}

// OpenCosigned verifies a signed checkpoint against a log's policy and
// returns it with its verified signatures.
//
// The checkpoint must be for origin; at least one signature must verify
// under logKeys, whose names must all be origin; and the cosignatures that
// verify under q's cosigners must meet q; a nil q requires none. As in
// [Open], signatures from unknown keys are ignored and a signature from a
// known key that fails is an error.
func OpenCosigned(msg []byte, origin string, logKeys []Verifier, q Quorum) (Checkpoint, *Note, error) {
	for _, k := range logKeys {
		if k.Name() != origin {
			return Checkpoint{}, nil, fmt.Errorf("log key %s is not named after origin %s", k.Name(), origin)
		}
	}
	var witnesses []Verifier
	if q != nil {
		witnesses = q.Cosigners()
	}
	n, err := Open(msg, append(logKeys[:len(logKeys):len(logKeys)], witnesses...)...)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("origin %q, want %q: %w", c.Origin, origin, ErrOriginMismatch)
	}
	if !signedBy(n.Sigs, logKeys) {
		return Checkpoint{}, nil, fmt.Errorf("no log signature: %w", ErrNoVerifiedSignature)
	}
	if q != nil && !q.Met(cosignedBy(n.Sigs, witnesses)) {
		return Checkpoint{}, nil, fmt.Errorf("cosignatures do not meet the quorum (%v): %w", q, ErrNoQuorum)
	}
	return c, n, nil
}

// signedBy reports whether one of sigs is by one of keys.
func signedBy(sigs []Signature, keys []Verifier) bool {
	return slices.Contains(cosignedBy(sigs, keys), true)
}

// cosignedBy reports, for each of keys, whether one of sigs is by it.
func cosignedBy(sigs []Signature, keys []Verifier) []bool {
	by := make([]bool, len(keys))
	for i, k := range keys {
		by[i] = slices.ContainsFunc(sigs, func(s Signature) bool { return s.Name == k.Name() && s.KeyID == k.KeyID() })
	}
	return by
}
