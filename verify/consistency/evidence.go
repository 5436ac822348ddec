package consistency

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
)

// ErrSplitView means the log served a signed checkpoint that it cannot
// prove consistent with the one verified before: a split view, a rollback
// or a fork. The error is a *SplitViewError. Keep its evidence and report
// it; do not retry it away.
var ErrSplitView = errors.New("split view")

// A Kind says why a checkpoint is not proven consistent.
type Kind string

// Kinds of alarm.
const (
	KindTwoRoots     Kind = "two-roots"     // the saved size with another root
	KindMissingTiles Kind = "missing-tiles" // a tile the proof needs answered 404
	KindInconsistent Kind = "inconsistent"  // the proof from the served tiles fails, or a tile is malformed
)

// Evidence is what an alarm saves: enough for anyone with the log's key
// to see what the log signed and where.
type Evidence struct {
	Time     time.Time     `json:"time"`
	URL      string        `json:"url"`      // the log's prefix, that served Latest and the tiles
	Previous string        `json:"previous"` // the signed checkpoint verified before
	Latest   string        `json:"latest"`   // the signed checkpoint served now
	Kind     Kind          `json:"kind"`
	Proof    []verify.Hash `json:"proof"` // the consistency proof computed from the tiles, if any
	Error    string        `json:"error"` // what failed
}

// A SplitViewError is an alarm: its evidence, and the file it was saved
// in. It wraps ErrSplitView.
type SplitViewError struct {
	Evidence Evidence
	File     string // the evidence file; "" if it could not be written
	Previous uint64 // the sizes of the two checkpoints
	Size     uint64
}

func (e *SplitViewError) Error() string {
	var what string
	switch e.Evidence.Kind {
	case KindTwoRoots:
		what = fmt.Sprintf("%s by %s", e.Evidence.Error, e.Evidence.URL)
	case KindMissingTiles:
		what = fmt.Sprintf("%s served size %d but not the tiles to prove it consistent with the %d verified before (%s)",
			e.Evidence.URL, e.Size, e.Previous, e.Evidence.Error)
	default:
		what = fmt.Sprintf("%s served size %d, not consistent with the %d verified before: %s",
			e.Evidence.URL, e.Size, e.Previous, e.Evidence.Error)
	}
	if e.File == "" {
		return "split view: " + what
	}
	return fmt.Sprintf("split view: %s; evidence in %s", what, e.File)
}

// Unwrap returns ErrSplitView.
func (e *SplitViewError) Unwrap() error { return ErrSplitView }

// alarm writes the evidence beside the saved checkpoint at path and
// returns the *SplitViewError, joined with the error of writing it if
// that failed.
func alarm(path string, ev Evidence, saved, cp verify.Checkpoint) error {
	ev.Time = time.Now().UTC()
	if ev.Proof == nil {
		ev.Proof = []verify.Hash{}
	}
	e := &SplitViewError{Evidence: ev, Previous: saved.Size, Size: cp.Size}
	file := fmt.Sprintf("%s.evidence-%s.json", path, ev.Time.Format("20060102T150405.000000000Z"))
	b, err := json.MarshalIndent(ev, "", "  ")
	if err == nil {
		err = durable.WriteFile(file, append(b, '\n'), 0o600)
	}
	if err != nil {
		return errors.Join(e, fmt.Errorf("saving the evidence: %w", err))
	}
	e.File = file
	return e
}
