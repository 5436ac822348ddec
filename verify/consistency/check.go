package consistency

import (
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
)

// A Status is what a Check that raised no alarm found.
type Status string

// Statuses.
const (
	FirstUse  Status = "first-use" // nothing was saved: the checkpoint is trusted and saved
	Unchanged Status = "unchanged" // the saved size and root
	Grew      Status = "grew"      // larger and proven consistent: saved
	Behind    Status = "behind"    // smaller and proven a prefix: the saved one is kept
)

// A Config says which log to check and where its last verified checkpoint
// is kept.
type Config struct {
	// Client fetches the log's checkpoint and tiles. Its URL is the one
	// an alarm names.
	Client *client.Client
	// Open verifies a signed checkpoint with the pinned keys (the log's
	// signature, and a witness quorum if one is required). It verifies the
	// served checkpoint and, again, the saved one.
	Open func(note []byte) (verify.Checkpoint, error)
	// Path is the file of the saved checkpoint, the signed note as the
	// log served it. Evidence files are written beside it.
	Path string
}

// A Result is what a Check found.
type Result struct {
	Origin   string      `json:"origin"`
	URL      string      `json:"url"`      // the log's prefix, that served the checkpoint
	Previous uint64      `json:"previous"` // the saved size, 0 on first use
	Size     uint64      `json:"size"`     // the served size
	Root     verify.Hash `json:"root"`     // the served root
	Status   Status      `json:"status"`
	Message  string      `json:"message"` // for people
}

// Check proves the log's checkpoint consistent with the saved one, and
// saves it if it is larger (see the package comment). It returns a
// *SplitViewError for an alarm, an error wrapping client.ErrFetch if the
// log could not be reached, and one wrapping ErrState if the saved
// checkpoint cannot be read or no longer verifies.
func Check(ctx context.Context, cfg Config) (*Result, error) {
	savedNote, saved, err := load(cfg)
	if err != nil {
		return nil, err
	}
	url := cfg.Client.URL()
	note, err := cfg.Client.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := cfg.Open(note)
	if err != nil {
		return nil, fmt.Errorf("checkpoint served by %s: %w", url, err)
	}
	res := &Result{Origin: cp.Origin, URL: url, Size: cp.Size, Root: cp.Root}
	if savedNote == nil {
		res.Status = FirstUse
		res.Message = fmt.Sprintf("first use: trusting %s at size %d, root %s", cp.Origin, cp.Size, cp.Root)
		return res, durable.WriteFile(cfg.Path, note, 0o600)
	}
	res.Previous = saved.Size
	proof, kind, err := prove(ctx, cfg.Client, saved, cp)
	if errors.Is(err, client.ErrFetch) && kind == "" {
		return nil, fmt.Errorf("consistency from %d to %d not proven, the tiles could not be fetched from %s: %w",
			saved.Size, cp.Size, url, err)
	}
	if err != nil {
		return nil, alarm(cfg.Path, Evidence{URL: url, Previous: string(savedNote), Latest: string(note),
			Kind: kind, Proof: proof, Error: err.Error()}, saved, cp)
	}
	return advance(cfg.Path, res, note)
}

// prove fetches and checks the consistency proof between the two trees,
// from the smaller to the larger, and says what kind of alarm an error is
// ("" for a failure to fetch).
func prove(ctx context.Context, c *client.Client, saved, cp verify.Checkpoint) ([]verify.Hash, Kind, error) {
	a, b := saved, cp
	if a.Size > b.Size {
		a, b = b, a
	}
	if a.Size == b.Size {
		if a.Root != b.Root {
			return nil, KindTwoRoots, fmt.Errorf("two roots for size %d: %s verified before, %s served now", a.Size, saved.Root, cp.Root)
		}
		return nil, "", nil
	}
	proof, err := verify.ProveConsistency(ctx, tiles{c}, a.Size, b.Size)
	switch {
	case errors.Is(err, errMissing):
		return nil, KindMissingTiles, err
	case errors.Is(err, client.ErrFetch):
		return nil, "", err
	case err == nil:
		err = verify.Consistency(a.Size, b.Size, proof, a.Root, b.Root)
	}
	if err != nil {
		return proof, KindInconsistent, err
	}
	return proof, "", nil
}

// advance says what a proven checkpoint means, and saves it if it is
// larger.
func advance(path string, res *Result, note []byte) (*Result, error) {
	switch {
	case res.Size == res.Previous:
		res.Status, res.Message = Unchanged, fmt.Sprintf("consistent: %s still at size %d", res.Origin, res.Size)
		return res, nil
	case res.Size < res.Previous:
		res.Status = Behind
		res.Message = fmt.Sprintf("warning: %s served size %d, behind the %d verified before (consistent: a cache behind the log?); kept %d",
			res.URL, res.Size, res.Previous, res.Previous)
		return res, nil
	}
	res.Status = Grew
	res.Message = fmt.Sprintf("consistent: %s grew from %d to %d, root %s", res.Origin, res.Previous, res.Size, res.Root)
	return res, durable.WriteFile(path, note, 0o600)
}
