package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/client"
)

// remoteFlags are the flags of the commands that talk to a log.
type remoteFlags struct {
	trustFlags
	url     string
	json    bool
	timeout time.Duration
}

func (r *remoteFlags) register(fs *flag.FlagSet) {
	r.trustFlags.register(fs)
	fs.StringVar(&r.url, "url", "", "the log's `URL` prefix, where /checkpoint and /tile/ are served")
	fs.BoolVar(&r.json, "json", false, "print JSON for machines")
	fs.DurationVar(&r.timeout, "timeout", 30*time.Second, "the time one HTTP request may take")
}

// remote is a log to check: its client and the policy that pins it.
type remote struct {
	client *client.Client
	policy *bundle.Policy
}

func (r *remoteFlags) remote() (*remote, error) {
	if r.url == "" {
		return nil, usageError{Err: errors.New("--url is required")}
	}
	if r.timeout <= 0 {
		return nil, usageError{Err: fmt.Errorf("--timeout %v: must be positive", r.timeout)}
	}
	p, err := r.load()
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{URL: r.url, Timeout: r.timeout})
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("--url: %w", err)}
	}
	return &remote{client: c, policy: p}, nil
}

// latest fetches and verifies the log's published checkpoint.
func (r *remote) latest(ctx context.Context) ([]byte, verify.Checkpoint, error) {
	note, err := r.client.Checkpoint(ctx)
	if err != nil {
		return nil, verify.Checkpoint{}, err
	}
	cp, err := openCheckpoint(r.policy, note)
	return note, cp, err
}
