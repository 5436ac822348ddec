package verify

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// ErrInvalidProof means an inclusion or consistency proof does not verify:
// it has the wrong length for its sizes, the sizes are impossible, or it
// leads to another root (then the error is also a [*RootMismatchError]).
// A proof served by a log that fails is evidence the log misbehaves, or
// that the client was given another view of it than others.
var ErrInvalidProof = errors.New("invalid proof")

// A RootMismatchError reports a proof that leads to another root than the
// expected one for the tree of Size leaves. It is an [ErrInvalidProof].
type RootMismatchError struct {
	Size     uint64
	Computed Hash // the root the proof leads to
	Expected Hash
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("proof leads to root %v for size %d, want %v", e.Computed, e.Size, e.Expected)
}

// Unwrap returns ErrInvalidProof.
func (e *RootMismatchError) Unwrap() error { return ErrInvalidProof }

// Inclusion verifies that leaf is the hash of entry index in the tree of
// size leaves with the given root. The proof is RFC 6962 §2.1.1's audit
// path, the leaf's sibling first.
func Inclusion(leaf Hash, index, size uint64, p []Hash, root Hash) error {
	got, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, index, size, leaf[:], hashSlices(p))
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrInvalidProof)
	}
	return matchRoot(size, got, root)
}

// Consistency verifies that the tree of size2 leaves with root2 extends the
// tree of size1 leaves with root1. The proof is RFC 6962 §2.1.2's.
// Every tree extends the empty tree: if size1 is 0, the proof must be
// empty and root1 must be [EmptyRoot]. If the sizes are equal, the proof
// must be empty and the roots equal.
func Consistency(size1, size2 uint64, p []Hash, root1, root2 Hash) error {
	switch {
	case size1 > size2:
		return fmt.Errorf("size %d > %d: %w", size1, size2, ErrInvalidProof)
	case (size1 == 0 || size1 == size2) && len(p) > 0:
		return fmt.Errorf("non-empty proof from size %d to %d: %w", size1, size2, ErrInvalidProof)
	case size1 == 0:
		if err := matchRoot(0, EmptyRoot[:], root1); err != nil || size2 > 0 {
			return err
		}
		return matchRoot(0, EmptyRoot[:], root2)
	case size1 == size2:
		return matchRoot(size2, root1[:], root2)
	}
	got, err := proof.RootFromConsistencyProof(rfc6962.DefaultHasher, size1, size2, hashSlices(p), root1[:])
	var mismatch proof.RootMismatchError
	if errors.As(err, &mismatch) {
		return matchRoot(size1, mismatch.CalculatedRoot, root1)
	}
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrInvalidProof)
	}
	return matchRoot(size2, got, root2)
}

// matchRoot returns a *RootMismatchError unless computed is want.
func matchRoot(size uint64, computed []byte, want Hash) error {
	if len(computed) != HashSize {
		return fmt.Errorf("computed root of %d bytes: %w", len(computed), ErrInvalidProof)
	}
	if got := Hash(computed); got != want {
		return &RootMismatchError{Size: size, Computed: got, Expected: want}
	}
	return nil
}

func hashSlices(hashes []Hash) [][]byte {
	b := make([][]byte, len(hashes))
	for i := range hashes {
		b[i] = hashes[i][:]
	}
	return b
}
