package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// Policy fetches the log's witness policy (GET /api/v1/policy).
func (c *Client) Policy(ctx context.Context) ([]byte, error) {
	_, body, err := c.getBody(ctx, "/api/v1/policy")
	return body, err
}

// WaitWitnessed polls GET /api/v1/entries/{index}/bundle every interval
// until the log answers a bundle of the entry leaf whose checkpoint the
// log key vkey signed and the witnesses of pol cosigned to its quorum, and
// returns it with its verified result. It gives up when ctx is done.
func (c *Client) WaitWitnessed(ctx context.Context, index uint64, leaf []byte, origin, vkey string, pol *policy.Policy, interval time.Duration) ([]byte, *bundle.Result, error) {
	path := fmt.Sprintf("/api/v1/entries/%d/bundle", index)
	var last error
	for {
		_, data, err := c.getBody(ctx, path)
		if err == nil {
			res, verr := witnessedBundle(data, leaf, origin, vkey, pol)
			if verr == nil {
				return data, res, nil
			}
			last = verr
		} else if p := (*Problem)(nil); !errors.As(err, &p) || p.Status != http.StatusNotFound {
			last = err
		} else {
			last = errors.New("the entry is not in a cosigned checkpoint yet")
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("no witnessed bundle of entry %d in time: %w", index, last)
		case <-time.After(interval):
		}
	}
}

// witnessedBundle verifies data as the bundle of leaf on a checkpoint
// that meets pol's quorum.
func witnessedBundle(data, leaf []byte, origin, vkey string, pol *policy.Policy) (*bundle.Result, error) {
	res, err := Verify(data, origin, vkey)
	if err != nil {
		return nil, fmt.Errorf("the log answered a bundle that does not verify: %w", err)
	}
	b, _ := bundle.Parse(data)
	if !bytes.Equal(attest.DedupKey(b.Entry.Leaf), attest.DedupKey(leaf)) {
		return nil, fmt.Errorf("the log answered the bundle of entry %d, another statement", res.Index)
	}
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if _, _, err := verify.OpenCosigned(b.Checkpoint, origin, []verify.Verifier{v}, pol); err != nil {
		return nil, fmt.Errorf("the bundle's checkpoint does not meet the witness policy (%v): %w", pol, err)
	}
	return res, nil
}
