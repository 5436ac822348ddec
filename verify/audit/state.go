package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/transparency-dev/merkle/compact"
)

// maxStateSize bounds a state or record file.
const maxStateSize = 16 << 20

// maxFindings is how many findings a report and a state keep in detail;
// the rest are only counted.
const maxFindings = 1000

// A State is how far an audit got, saved in the state directory
// (StateFile) so that an interrupted audit resumes: the checkpoint being
// audited, the index below which every entry was checked, the compact
// range of the tree of those entries (to authenticate them when they are
// replayed on resume), the dedup runs written, and the findings so far.
//
// The file is JSON with exactly these members:
//
//	{"checkpoint": "<signed note>", "next": 65536,
//	 "range": ["<base64 hash>", …], "runs": ["dedup-000000.run", …],
//	 "findings": [{"index": 7, "kind": "duplicate", "detail": "…"}], "total": 1}
type State struct {
	Checkpoint []byte
	Next       uint64
	Range      []verify.Hash
	Runs       []string
	Findings   []Finding
	Total      uint64 // findings, including those not kept
}

type stateJSON struct {
	Checkpoint string        `json:"checkpoint"`
	Next       uint64        `json:"next"`
	Range      []verify.Hash `json:"range"`
	Runs       []string      `json:"runs"`
	Findings   []Finding     `json:"findings"`
	Total      uint64        `json:"total"`
}

var runName = regexp.MustCompile(`^dedup-[0-9]{6}\.run$`)

// Marshal returns the state's JSON.
func (s *State) Marshal() []byte {
	b, _ := json.Marshal(stateJSON{string(s.Checkpoint), s.Next, nonNil(s.Range), nonNil(s.Runs), nonNil(s.Findings), s.Total})
	return append(b, '\n')
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ParseState parses a state file strictly and checks that it is
// self-consistent; it does not verify the checkpoint's signature.
func ParseState(b []byte) (*State, error) {
	var j stateJSON
	if err := decodeStrict(b, &j); err != nil {
		return nil, err
	}
	s := &State{[]byte(j.Checkpoint), j.Next, j.Range, j.Runs, j.Findings, j.Total}
	n, err := verify.ParseNote(s.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("state checkpoint: %w: %w", ErrMalformedState, err)
	}
	cp, err := verify.ParseCheckpoint(n.Text)
	switch {
	case err != nil:
		return nil, fmt.Errorf("state checkpoint: %w: %w", ErrMalformedState, err)
	case s.Next > cp.Size || s.Next%verify.TileWidth != 0 && s.Next != cp.Size:
		return nil, fmt.Errorf("state next %d for size %d: %w", s.Next, cp.Size, ErrMalformedState)
	case len(s.Range) != compact.RangeSize(0, s.Next):
		return nil, fmt.Errorf("state range of %d hashes for %d entries: %w", len(s.Range), s.Next, ErrMalformedState)
	case len(s.Findings) > maxFindings || s.Total < uint64(len(s.Findings)):
		return nil, fmt.Errorf("state findings: %w", ErrMalformedState)
	}
	return s, checkRuns(s.Runs)
}

func checkRuns(runs []string) error {
	for i, r := range runs {
		if r != fmt.Sprintf("dedup-%06d.run", i) || !runName.MatchString(r) {
			return fmt.Errorf("state run %q: %w", r, ErrMalformedState)
		}
	}
	return nil
}

// decodeStrict decodes one JSON value with every member known, and
// nothing after it.
func decodeStrict(b []byte, v any) error {
	if len(b) > maxStateSize {
		return fmt.Errorf("%d bytes: %w", len(b), ErrMalformedState)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedState, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value: %w", ErrMalformedState)
	}
	return nil
}
