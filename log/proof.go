package log

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pledgelog/pledgelog/verify"
)

// Proof is a Merkle proof with the signed checkpoint it leads to. The log
// checks every proof against that checkpoint's root before returning it.
type Proof struct {
	Hashes     []verify.Hash
	Checkpoint []byte
	// LeafHash is the hash of the entry an inclusion proof is of.
	LeafHash verify.Hash
}

// checkpointAt returns the signed checkpoint for size, which must be the
// end of a committed batch, and its root.
func (l *Log) checkpointAt(ctx context.Context, size uint64) ([]byte, verify.Hash, error) {
	if s := l.Latest(); size == s.Size {
		return s.Checkpoint, s.Root, nil
	} else if size > s.Size {
		return nil, verify.Hash{}, ErrBeyondSize
	}
	signed, err := l.cfg.Storage.CheckpointAt(ctx, size)
	if errors.Is(err, ErrNotFound) {
		return nil, verify.Hash{}, fmt.Errorf("log: size %d: %w", size, ErrUnknownSize)
	} else if err != nil {
		return nil, verify.Hash{}, fmt.Errorf("log: checkpoint at size %d: %w: %w", size, ErrStorage, err)
	}
	n, err := verify.ParseNote(signed)
	if err != nil {
		return nil, verify.Hash{}, fmt.Errorf("log: checkpoint at size %d: %w", size, corrupt(err))
	}
	c, err := verify.ParseCheckpoint(n.Text)
	if err != nil || c.Size != size {
		return nil, verify.Hash{}, fmt.Errorf("log: checkpoint at size %d: %w", size, corrupt(err))
	}
	return signed, c.Root, nil
}

// ErrUnknownSize is returned for a proof to a tree size that no batch ended
// at, so that the log has no signed checkpoint for it. Clients only ever
// hold checkpoints the log signed; the caller should answer "not found".
var ErrUnknownSize = errors.New("log: no checkpoint for this tree size")

// InclusionProof proves that the entry at index is in the tree of the given
// size, for which the log must have committed a checkpoint (ErrUnknownSize
// otherwise). The proof is read from stored tiles and checked against the
// signed root before it is returned.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) (*Proof, error) {
	if index >= size {
		return nil, fmt.Errorf("log: index %d is not below size %d: %w", index, size, ErrBeyondSize)
	}
	signed, root, err := l.checkpointAt(ctx, size)
	if err != nil {
		return nil, err
	}
	key := proofKey{a: index, b: size, root: root}
	if p, ok := l.proofs.get(key); ok {
		return &Proof{Hashes: slices.Clone(p.hashes), Checkpoint: signed, LeafHash: p.leaf}, nil
	}
	leaf, err := l.LeafHash(ctx, index)
	if err != nil {
		return nil, err
	}
	hashes, err := verify.ProveInclusion(ctx, hashTiles{l}, index, size)
	if err != nil {
		return nil, fmt.Errorf("log: proving inclusion: %w", err)
	}
	if err := verify.Inclusion(leaf, index, size, hashes, root); err != nil {
		return nil, fmt.Errorf("log: own inclusion proof of %d in %d fails: %w (%w)", index, size, ErrCorrupt, err)
	}
	l.proofs.put(&cachedProof{key: key, leaf: leaf, hashes: slices.Clone(hashes)})
	return &Proof{Hashes: hashes, Checkpoint: signed, LeafHash: leaf}, nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of size to, for which the log must have committed a checkpoint. The
// proof is checked against the signed root of to and the root of from
// rebuilt from stored tiles.
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) (*Proof, error) {
	if from > to {
		return nil, fmt.Errorf("log: consistency from %d to smaller %d: %w", from, to, ErrBeyondSize)
	}
	signed, root, err := l.checkpointAt(ctx, to)
	if err != nil {
		return nil, err
	}
	key := proofKey{consistency: true, a: from, b: to, root: root}
	if p, ok := l.proofs.get(key); ok {
		return &Proof{Hashes: slices.Clone(p.hashes), Checkpoint: signed}, nil
	}
	tiles := hashTiles{l}
	fromRoot, err := verify.TreeRoot(ctx, tiles, from)
	if err != nil {
		return nil, fmt.Errorf("log: root at %d: %w", from, err)
	}
	hashes, err := verify.ProveConsistency(ctx, tiles, from, to)
	if err != nil {
		return nil, fmt.Errorf("log: proving consistency: %w", err)
	}
	if err := verify.Consistency(from, to, hashes, fromRoot, root); err != nil {
		return nil, fmt.Errorf("log: own consistency proof %d→%d fails: %w (%w)", from, to, ErrCorrupt, err)
	}
	l.proofs.put(&cachedProof{key: key, hashes: slices.Clone(hashes)})
	return &Proof{Hashes: hashes, Checkpoint: signed}, nil
}
