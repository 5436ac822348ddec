package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
)

// errSplitView is a failed consistency check: the log showed two trees
// that are not one the prefix of the other.
var errSplitView = errors.New("split view: the log is not consistent with the checkpoint verified before")

func runConsistency(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &remoteFlags{}
	fs := newFlags("consistency", "--url URL [--state DIR]", stderr)
	f.register(fs)
	dir := fs.String("state", "", "the `DIR` keeping the last verified checkpoint of each log (default: <user config dir>/pledgelog/checkpoints)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	r, err := f.remote()
	if err != nil {
		return err
	}
	d, err := stateDir(*dir, "checkpoints")
	if err != nil {
		return err
	}
	res, err := r.consistency(ctx, filepath.Join(d, originFile(r.policy.Origin, ".checkpoint")))
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, res)
	}
	fmt.Fprintln(stdout, res.Message)
	return nil
}

// consistencyResult is what a consistency run found.
type consistencyResult struct {
	Origin   string `json:"origin"`
	Previous uint64 `json:"previous"`
	Size     uint64 `json:"size"`
	Root     string `json:"root"`
	Status   string `json:"status"` // first-use, unchanged, grew, behind
	Message  string `json:"message"`
}

// consistency proves the log's latest checkpoint consistent with the one
// saved at path, and only then replaces it.
func (r *remote) consistency(ctx context.Context, path string) (*consistencyResult, error) {
	note, cp, err := r.latest(ctx)
	if err != nil {
		return nil, err
	}
	res := &consistencyResult{Origin: cp.Origin, Size: cp.Size, Root: cp.Root.String()}
	oldNote, err := readState(path)
	if err != nil {
		return nil, err
	}
	if oldNote == nil {
		res.Status, res.Message = "first-use", fmt.Sprintf("first use: trusting %s at size %d, root %s", cp.Origin, cp.Size, cp.Root)
		return res, durable.WriteFile(path, note, 0o600)
	}
	old, _, err := verify.OpenCheckpoint(oldNote, r.policy.Origin, r.policy.LogKeys, nil, 0)
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("saved checkpoint %s: %w", path, err)}
	}
	res.Previous = old.Size
	proof, err := r.prove(ctx, old, cp)
	if cp.Size < old.Size && errors.Is(err, client.ErrNotFound) {
		res.Status = "behind"
		res.Message = fmt.Sprintf("warning: %s served size %d, behind the %d verified before, without the tiles to prove it consistent; kept %d",
			cp.Origin, cp.Size, old.Size, old.Size)
		return res, nil
	}
	if errors.Is(err, client.ErrFetch) {
		return nil, fmt.Errorf("consistency from %d to %d not proven, the tiles could not be fetched: %w", old.Size, cp.Size, err)
	}
	if err != nil {
		ev, werr := writeEvidence(path, oldNote, note, proof, err)
		return nil, failed(errors.Join(fmt.Errorf("%w: %w; evidence in %s", errSplitView, err, ev), werr))
	}
	return r.advance(path, res, old, cp, note)
}

// prove fetches and checks the consistency proof between the two trees,
// from the smaller to the larger.
func (r *remote) prove(ctx context.Context, old, cp verify.Checkpoint) ([]verify.Hash, error) {
	a, b := old, cp
	if a.Size > b.Size {
		a, b = b, a
	}
	if a.Size == b.Size {
		if a.Root != b.Root {
			return nil, fmt.Errorf("two roots for size %d: %s and %s", a.Size, old.Root, cp.Root)
		}
		return nil, nil
	}
	proof, err := verify.ProveConsistency(ctx, r.client, a.Size, b.Size)
	if err == nil {
		err = verify.Consistency(a.Size, b.Size, proof, a.Root, b.Root)
	}
	return proof, err
}

func (r *remote) advance(path string, res *consistencyResult, old, cp verify.Checkpoint, note []byte) (*consistencyResult, error) {
	switch {
	case cp.Size == old.Size:
		res.Status, res.Message = "unchanged", fmt.Sprintf("consistent: %s still at size %d", cp.Origin, cp.Size)
		return res, nil
	case cp.Size < old.Size:
		res.Status = "behind"
		res.Message = fmt.Sprintf("warning: %s served size %d, behind the %d verified before (consistent: a stale cache?); kept %d",
			cp.Origin, cp.Size, old.Size, old.Size)
		return res, nil
	}
	res.Status, res.Message = "grew", fmt.Sprintf("consistent: %s grew from %d to %d, root %s", cp.Origin, old.Size, cp.Size, cp.Root)
	return res, durable.WriteFile(path, note, 0o600)
}

// evidence is what a split-view alarm saves.
type evidence struct {
	Time     time.Time     `json:"time"`
	Previous string        `json:"previous"` // the checkpoint verified before
	Latest   string        `json:"latest"`   // the one the log served now
	Proof    []verify.Hash `json:"proof"`    // the consistency proof it served, if any
	Error    string        `json:"error"`
}

func writeEvidence(statePath string, old, latest []byte, proof []verify.Hash, cause error) (string, error) {
	now := time.Now().UTC()
	path := fmt.Sprintf("%s.evidence-%s.json", statePath, now.Format("20060102T150405.000000000Z"))
	ev := evidence{Time: now, Previous: string(old), Latest: string(latest), Proof: proof, Error: cause.Error()}
	if ev.Proof == nil {
		ev.Proof = []verify.Hash{}
	}
	b, err := jsonIndent(ev)
	if err != nil {
		return path, err
	}
	return path, durable.WriteFile(path, b, 0o600)
}
