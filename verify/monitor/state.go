package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/transparency-dev/merkle/compact"
)

// ErrMalformedState means a state file is not in the format of this
// package.
var ErrMalformedState = errors.New("malformed monitor state")

const maxStateSize = 1 << 20

// A State is what a monitor keeps between polls: the last verified
// checkpoint and the compact range of its tree (at most 64 hashes), and,
// when it watches some signatories (not every one), their keys as the
// registry events it saw say. The file is JSON:
//
//	{"checkpoint": "<signed note>", "range": ["<base64 hash>", …],
//	 "keys": [{"signatory": "<id>", "keyid": "<hex>", "added": N, "revoked": M}, …]}
//
// ("keys" absent: none; "revoked" absent: not revoked). The zero State is
// the empty log.
type State struct {
	Checkpoint []byte
	Range      []verify.Hash
	Keys       []Key
}

// A Key is a key of a watched signatory as the monitor's replay of the
// registry events it saw says: the index of the register, add-key or
// recover event that added it, and of the revoke-key event that revoked
// it. It does not replay the registry's rules: a key that a compromised
// revocation of another key revoked is not revoked here (verify/audit
// replays the rules).
type Key struct {
	Signatory string  `json:"signatory"`
	KeyID     string  `json:"keyid"`
	Added     uint64  `json:"added"`
	Revoked   *uint64 `json:"revoked,omitempty"`
}

type stateJSON struct {
	Checkpoint string        `json:"checkpoint"`
	Range      []verify.Hash `json:"range"`
	Keys       []Key         `json:"keys,omitempty"`
}

// Marshal returns the state's JSON.
func (s *State) Marshal() []byte {
	j := stateJSON{string(s.Checkpoint), s.Range, s.Keys}
	if j.Range == nil {
		j.Range = []verify.Hash{}
	}
	b, _ := json.Marshal(j)
	return append(b, '\n')
}

// ParseState parses a state file strictly and checks that its range
// leads to its checkpoint's root. It does not verify the checkpoint's
// signatures: Poll does, with every use.
func ParseState(b []byte) (*State, error) {
	if len(b) > maxStateSize {
		return nil, ErrMalformedState
	}
	var j stateJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedState, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value: %w", ErrMalformedState)
	}
	s := &State{Checkpoint: []byte(j.Checkpoint), Range: j.Range, Keys: j.Keys}
	if _, _, err := s.tree(); err != nil {
		return nil, err
	}
	return s, nil
}

// tree returns the state's checkpoint and compact range, checked against
// each other; the zero State is the empty tree.
func (s *State) tree() (verify.Checkpoint, *compact.Range, error) {
	if s.Checkpoint == nil && len(s.Range) == 0 {
		return verify.Checkpoint{Root: verify.EmptyRoot}, rangeFactory.NewEmptyRange(0), nil
	}
	n, err := verify.ParseNote(s.Checkpoint)
	if err != nil {
		return verify.Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrMalformedState, err)
	}
	cp, err := verify.ParseCheckpoint(n.Text)
	if err != nil {
		return verify.Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrMalformedState, err)
	}
	hs := make([][]byte, len(s.Range))
	for i, h := range s.Range {
		hs[i] = h[:]
	}
	rng, err := rangeFactory.NewRange(0, cp.Size, hs)
	if err != nil {
		return verify.Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrMalformedState, err)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil || (cp.Size > 0 && verify.Hash(root) != cp.Root) || (cp.Size == 0 && cp.Root != verify.EmptyRoot) {
		return verify.Checkpoint{}, nil, fmt.Errorf("range does not lead to the checkpoint's root: %w", ErrMalformedState)
	}
	return cp, rng, nil
}
