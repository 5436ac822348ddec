package attestlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// A MapLookup is a leaf of the registry map, or its absence, proven
// against the root that a signed checkpoint commits to.
type MapLookup struct {
	Checkpoint []byte   // the log's latest signed checkpoint
	Size       uint64   // its size
	Root       [32]byte // the map root it commits to
	Label      [32]byte
	Value      []byte // the leaf's encoded value; nil: not in the map
	Proof      attest.MapProof
}

// ErrMapUnavailable is returned by MapLookup when the map is not at the
// latest checkpoint within a short wait: the log is committing, a commit
// failed and the map waits to be rebuilt, or this instance has not yet
// followed the latest checkpoint. Asking again shortly succeeds.
var ErrMapUnavailable = errors.New("attestlog: the registry map is not at the latest checkpoint")

// MapLookup proves label's leaf of the registry map (attest.MapLabel), or
// its absence, against the latest checkpoint.
func (a *Log) MapLookup(ctx context.Context, label [32]byte) (*MapLookup, error) {
	for wait := time.Millisecond; ; wait *= 2 {
		s := a.log.Latest()
		value, root, proof, err := a.mapt.Prove(ctx, s.Size, label)
		switch {
		case err == nil:
			if err := checkCommitted(s.Checkpoint, root); err != nil {
				return nil, err
			}
			return &MapLookup{Checkpoint: s.Checkpoint, Size: s.Size, Root: root, Label: label, Value: value, Proof: proof}, nil
		case !errors.Is(err, attest.ErrMapBusy):
			return nil, err
		case wait > 64*time.Millisecond:
			return nil, ErrMapUnavailable
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// checkCommitted checks that the signed checkpoint commits to the map
// root root: a proof the log serves must verify against what it signed.
func checkCommitted(signed []byte, root [32]byte) error {
	n, err := verify.ParseNote(signed)
	if err != nil {
		return err
	}
	c, err := verify.ParseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	committed, ok, err := attest.ParseMapExtension(c.Extensions)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%w: the checkpoint of size %d commits to no map", ErrMapUnavailable, c.Size)
	case committed != root:
		return fmt.Errorf("attestlog: the map at size %d has root %x, the checkpoint commits to %x", c.Size, root, committed)
	}
	return nil
}

// ProveMap proves label's leaf of the registry map at log size size, one
// of the latest sizes (attest.MapTracker.Prove): its value (nil if
// absent), the root then and the proof. It fails with attest.ErrMapBusy
// if the map cannot prove at size; the caller's bundle checks the root
// against the checkpoint it is for.
func (a *Log) ProveMap(ctx context.Context, size uint64, label [32]byte) ([]byte, [32]byte, attest.MapProof, error) {
	return a.mapt.Prove(ctx, size, label)
}
