package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/policy"
)

// wait waits for the witnessed bundle of the entry at index (submit
// --wait-witnessed) under the pinned policy, or the served one.
func (f *submitFlags) wait(ctx context.Context, c *client.Client, index uint64, leaf []byte, origin, vkey string, stderr io.Writer) ([]byte, *bundle.Result, error) {
	var raw []byte
	var err error
	if f.policy != "" {
		if raw, err = os.ReadFile(f.policy); err != nil {
			return nil, nil, fmt.Errorf("--policy: %w", err)
		}
	} else {
		if raw, err = c.Policy(ctx); err != nil {
			return nil, nil, fmt.Errorf("--wait-witnessed: the log serves no witness policy: %w", err)
		}
		fmt.Fprintf(stderr, "pledge: WARNING: no --policy given: requiring the witness policy the log serves\n")
	}
	pol, err := policy.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("--policy: %w", err)
	}
	fmt.Fprintf(stderr, "pledge: logged at index %d; waiting for a checkpoint cosigned by %v\n", index, pol)
	ctx, cancel := context.WithTimeout(ctx, f.waitTimeout)
	defer cancel()
	return c.WaitWitnessed(ctx, index, leaf, origin, vkey, pol, 500*time.Millisecond)
}
