package consistency

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pledgelog/pledgelog/verify"
)

// ErrState means the saved checkpoint cannot be read, or no longer
// verifies with the pinned keys (pin the keys it was verified with too, or
// remove the file to trust the log anew). Nothing was checked.
var ErrState = errors.New("saved checkpoint unusable")

// maxNote bounds the saved checkpoint, as client bounds a served one.
const maxNote = 1 << 16

// load reads and verifies the saved checkpoint; a missing file is nil.
func load(cfg Config) ([]byte, verify.Checkpoint, error) {
	f, err := os.Open(cfg.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, verify.Checkpoint{}, nil
	}
	if err != nil {
		return nil, verify.Checkpoint{}, fmt.Errorf("%w: %w", ErrState, err)
	}
	defer f.Close()
	note, err := io.ReadAll(io.LimitReader(f, maxNote+1))
	if err == nil && len(note) > maxNote {
		err = fmt.Errorf("larger than %d bytes", maxNote)
	}
	if err != nil {
		return nil, verify.Checkpoint{}, fmt.Errorf("%w: %s: %w", ErrState, cfg.Path, err)
	}
	cp, err := cfg.Open(note)
	if err != nil {
		// The cause is not wrapped: whatever the verifier's errors mean for
		// a served checkpoint, here they mean an unusable file.
		return nil, verify.Checkpoint{}, fmt.Errorf("%w: %s: %v", ErrState, cfg.Path, err)
	}
	return note, cp, nil
}
