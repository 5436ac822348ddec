package main

import (
	"fmt"
	"io"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// verifyTLogProof verifies a c2sp.org/tlog-proof file, whose extra line
// carries the entry.
func verifyTLogProof(data []byte, p *bundle.Policy, asJSON bool, stdout io.Writer) error {
	index, proof, note, extra, err := bundle.ParseTLogProof(data)
	if err != nil {
		return failed(err)
	}
	cp, err := openCheckpoint(p, note)
	if err != nil {
		return err
	}
	if extra == nil {
		return failed(fmt.Errorf("tlog-proof: no extra line with the entry: nothing to prove"))
	}
	leaf := verify.LeafHash(extra)
	if err := verify.Inclusion(leaf, index, cp.Size, proof, cp.Root); err != nil {
		return failed(fmt.Errorf("tlog-proof: entry %d: %w", index, err))
	}
	facts := []string{
		fmt.Sprintf("checkpoint: %s size %d root %s signed by a pinned log key", cp.Origin, cp.Size, cp.Root),
		fmt.Sprintf("entry %d included, leaf hash %s", index, leaf),
		describeLeaf(extra),
		"signer: not proven (a tlog-proof carries no registry evidence; verify the bundle)",
	}
	return printFacts(stdout, facts, asJSON)
}

func printFacts(w io.Writer, facts []string, asJSON bool) error {
	if asJSON {
		return cli.PrintJSONLine(w, map[string]any{"verified": true, "facts": facts})
	}
	fmt.Fprintln(w, "verified:")
	for _, l := range facts {
		fmt.Fprintln(w, "  "+l)
	}
	return nil
}
