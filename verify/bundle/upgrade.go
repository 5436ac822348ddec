package bundle

import (
	"context"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

// Upgrade returns a copy of b with a later checkpoint of the same log,
// such as one that witnesses have since cosigned (pledge-verify bundle
// --refresh). It verifies b against p without its quorum (the reason for
// an upgrade is often a missing quorum), opens newCheckpoint under p,
// checks the consistency proof from b's checkpoint to it, recomputes
// every inclusion proof for the new size from tiles (which need not be
// trusted: everything is checked), and verifies the new bundle under p
// before returning it.
func Upgrade(ctx context.Context, b *Bundle, p Policy, newCheckpoint []byte, consistency []verify.Hash, tiles verify.TileReader) (*Bundle, error) {
	old := p
	old.Quorum, old.Audit = nil, nil
	r, err := Verify(b, old)
	if err != nil {
		return nil, err
	}
	cp, _, err := verify.OpenCosigned(newCheckpoint, p.Origin, p.LogKeys, p.Quorum)
	if err != nil {
		return nil, checkpointErr(err, p.Origin)
	}
	if cp.Size < r.Size {
		return nil, fieldErr("checkpoint", ErrConsistency, fmt.Errorf("new size %d is below %d", cp.Size, r.Size))
	}
	if err := verify.Consistency(r.Size, cp.Size, consistency, r.Root, cp.Root); err != nil {
		return nil, fieldErr("consistency", ErrConsistency, err)
	}
	nb, err := reprove(ctx, b, newCheckpoint, cp.Size, tiles)
	if err != nil {
		return nil, err
	}
	if _, err := Verify(nb, p); err != nil {
		return nil, err
	}
	return nb, nil
}

// reprove copies b with every inclusion proof made for size.
func reprove(ctx context.Context, b *Bundle, checkpoint []byte, size uint64, tiles verify.TileReader) (*Bundle, error) {
	nb := &Bundle{Checkpoint: checkpoint, Evidence: make([]Entry, len(b.Evidence))}
	var err error
	if nb.Entry, err = reproveEntry(ctx, "entry", b.Entry, size, tiles); err != nil {
		return nil, err
	}
	for i, e := range b.Evidence {
		if nb.Evidence[i], err = reproveEntry(ctx, fmt.Sprintf("evidence[%d]", i), e, size, tiles); err != nil {
			return nil, err
		}
	}
	return nb, nil
}

func reproveEntry(ctx context.Context, field string, e Entry, size uint64, tiles verify.TileReader) (Entry, error) {
	proof, err := verify.ProveInclusion(ctx, tiles, e.Index, size)
	if err != nil {
		return Entry{}, fieldErr(field+".proof", ErrInclusion, fmt.Errorf("prove from tiles: %w", err))
	}
	return Entry{Index: e.Index, Leaf: e.Leaf, Proof: proof}, nil
}
