package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/lookup"
)

// runLookup proves one leaf of the log's registry map, or its absence,
// against the latest checkpoint (verify/lookup): exit 0 proven, 1 the
// answer does not verify, 2 usage or network.
func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &remoteFlags{}
	fs := newFlags("lookup", "--url URL (--signatory ID [--keyid KEYID | --accord ID --principle ID] | --accord ID)", stderr)
	f.register(fs)
	var q lookup.Query
	fs.StringVar(&q.Signatory, "signatory", "", "the signatory `ID` (or registrar) whose state, key or latest pledge to prove")
	fs.StringVar(&q.KeyID, "keyid", "", "with --signatory: the key `KEYID` whose state to prove")
	fs.StringVar(&q.Accord, "accord", "", "the accord `ID`: alone, the accord; with --signatory and --principle, the latest pledge")
	fs.StringVar(&q.Principle, "principle", "", "with --signatory and --accord: the principle `ID`")
	// What one run asks for is command line only.
	for _, n := range []string{"signatory", "keyid", "accord", "principle"} {
		cli.CommandLine(fs, n)
	}
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if _, _, err := q.Kind(); err != nil {
		return usageError{Err: fmt.Errorf("--signatory, --keyid, --accord, --principle: %w", err)}
	}
	r, err := f.remote()
	if err != nil {
		return err
	}
	v := &lookup.Verifier{Open: func(note []byte) (verify.Checkpoint, error) { return openCheckpoint(r.policy, note) }}
	res, err := v.Lookup(ctx, r.client, q)
	if errors.Is(err, lookup.ErrVerify) {
		return failed(err)
	}
	if err != nil {
		return err
	}
	facts := []string{
		fmt.Sprintf("checkpoint: %s size %d root %s signed by a pinned log key", res.Checkpoint.Origin, res.Checkpoint.Size, res.Checkpoint.Root),
	}
	facts = append(facts, cosignedFacts(r.policy, res.Note)...)
	facts = append(facts, fmt.Sprintf("map root %s, committed to by the checkpoint's %q line", res.JSON().MapRoot, strings.TrimSpace(attest.MapExtensionPrefix)), res.Fact())
	if f.json {
		return cli.PrintJSONLine(stdout, map[string]any{"verified": true, "facts": facts, "lookup": res.JSON()})
	}
	return printFacts(stdout, facts, false)
}
