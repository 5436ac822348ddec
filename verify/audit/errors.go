package audit

import (
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

var (
	// ErrRoot means the tree rebuilt from the entries has another root
	// than the signed checkpoint: the log's tiles are not the tree it
	// signed. Keep the checkpoint as evidence.
	ErrRoot = errors.New("rebuilt root does not match the checkpoint")

	// ErrMapRoot means the registry map rebuilt from the entries has
	// another root than the one the signed checkpoint commits to (or the
	// checkpoint's map line is malformed): the log committed to a
	// registry state its entries do not build, which lookups proven
	// against it would inherit. Keep the checkpoint as evidence.
	ErrMapRoot = errors.New("rebuilt registry map does not match the checkpoint")

	// ErrTile means a hash tile the log serves differs from the hashes
	// rebuilt from its entries: clients proving inclusion from it would
	// fail, or be lied to. The error is a *TileError.
	ErrTile = errors.New("hash tile does not match the entries")

	// ErrResume means the entries below a saved audit state no longer
	// rebuild the tree the state recorded: the log changed its history,
	// or the state file was corrupted.
	ErrResume = errors.New("log history differs from the saved audit state")

	// ErrMalformedState means a state or record file is not in the
	// format of this package.
	ErrMalformedState = errors.New("malformed audit state")
)

// A TileError reports a served hash tile whose hash at Hash differs from
// the one rebuilt from the entries.
type TileError struct {
	Tile verify.Tile
	Hash int
}

func (e *TileError) Error() string {
	return fmt.Sprintf("%s: hash %d differs from the entries", e.Tile.Path(), e.Hash)
}

// Unwrap returns ErrTile.
func (e *TileError) Unwrap() error { return ErrTile }

// Kinds of Finding.
const (
	KindMalformed    = "malformed"     // not a canonical attestation
	KindRejected     = "rejected"      // the registry would not have admitted it
	KindBadSignature = "bad-signature" // a signature fails under the key valid at its index
	KindDuplicate    = "duplicate"     // the same statement logged twice
)

// A Finding is an entry the log should not hold.
type Finding struct {
	Index  uint64 `json:"index"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("entry %d: %s: %s", f.Index, f.Kind, f.Detail)
}
