package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/consistency"
)

// runConsistency checks the log's checkpoint against the one saved by the
// last run (verify/consistency).
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
	res, err := consistency.Check(ctx, consistency.Config{
		Client: r.client,
		Open:   func(note []byte) (verify.Checkpoint, error) { return openCheckpoint(r.policy, note) },
		Path:   filepath.Join(d, originFile(r.policy.Origin, ".checkpoint")),
	})
	if err != nil {
		return err
	}
	if f.json {
		return cli.PrintJSONLine(stdout, res)
	}
	fmt.Fprintln(stdout, res.Message)
	return nil
}
