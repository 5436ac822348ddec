package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"github.com/pledgelog/pledgelog/verify/client"
)

type bundleFlags struct {
	trustFlags
	json       bool
	auditState string
	refresh    string
	tlogProof  string
}

func runBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &bundleFlags{}
	fs := newFlags("bundle", "FILE [--audit-state FILE] [--refresh URL] [--tlog-proof OUT]", stderr)
	f.trustFlags.register(fs)
	fs.BoolVar(&f.json, "json", false, "print JSON for machines")
	fs.StringVar(&f.auditState, "audit-state", "", "an audit record `FILE` (pledge-verify audit --record) to prove non-revocation")
	fs.StringVar(&f.refresh, "refresh", "", "upgrade the bundle in place to the latest checkpoint of the log at `URL` (v2: fresh inclusion and map proofs there, consistency proven)")
	fs.StringVar(&f.tlogProof, "tlog-proof", "", "also write the entry's proof as a c2sp.org/tlog-proof `FILE`")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	data, err := readFile(pos[0])
	if err != nil {
		return err
	}
	if bytes.HasPrefix(data, []byte(bundle.TLogProofHeader+"\n")) {
		if err := verifyTLogProof(data, p, f.json, stdout); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		return nil
	}
	return f.verify(ctx, pos[0], data, p, stdout)
}

func (f *bundleFlags) verify(ctx context.Context, file string, data []byte, p *bundle.Policy, stdout io.Writer) error {
	b, err := bundle.Parse(data)
	if err != nil {
		return failed(fmt.Errorf("%s: %w", file, err))
	}
	if f.refresh != "" {
		if b, err = refresh(ctx, f.refresh, file, b, p); err != nil {
			return err
		}
	}
	if f.auditState != "" {
		if p.Audit, err = loadAudit(ctx, f.auditState, f.refresh, b, p); err != nil {
			return err
		}
	}
	res, err := bundle.Verify(b, *p)
	if errors.Is(err, bundle.ErrQuorum) {
		hint := "; add --refresh URL to move the bundle to the log's latest cosigned checkpoint"
		if f.refresh != "" {
			hint = ""
		}
		return failed(fmt.Errorf("%w%s%s", err, quorumShort(p, b.Checkpoint), hint))
	}
	if err != nil {
		return failed(fmt.Errorf("%w%s", err, unpinnedLogKeys(err, p, b.Checkpoint)))
	}
	if f.auditState != "" && p.Audit == nil {
		res.NonRevocation += " (the audit record is of another tree size than the bundle's checkpoint: add --refresh URL to link them)"
	}
	if f.tlogProof != "" {
		if err := durable.WriteFile(f.tlogProof, bundle.MarshalTLogProof(b), 0o644); err != nil {
			return err
		}
	}
	return printResult(stdout, res, f.json)
}

func printResult(w io.Writer, res *bundle.Result, asJSON bool) error {
	if asJSON {
		return cli.PrintJSONLine(w, res.JSON())
	}
	fmt.Fprintln(w, "verified:")
	for _, l := range res.Facts() {
		fmt.Fprintln(w, "  "+l)
	}
	return nil
}

// refresh upgrades b to the log's latest checkpoint, proven consistent
// from the tiles, and saves it over file. A v2 bundle is refreshed by
// refreshV2.
func refresh(ctx context.Context, url, file string, b *bundle.Bundle, p *bundle.Policy) (*bundle.Bundle, error) {
	c, err := client.New(client.Config{URL: url})
	if err != nil {
		return nil, usageError{Err: err}
	}
	if b.IsV2() {
		return refreshV2(ctx, c, file, b, p)
	}
	r := &remote{client: c, policy: p}
	note, cp, err := r.latest(ctx)
	if err != nil {
		return nil, err
	}
	old, err := bundleCheckpoint(b)
	if err != nil {
		return nil, failed(err)
	}
	if old.Size > cp.Size {
		return nil, failed(notPublished(b.Entry.Index, cp.Size, p))
	}
	proof, err := verify.ProveConsistency(ctx, c, old.Size, cp.Size)
	if err != nil {
		return nil, failed(fmt.Errorf("consistency proof from %d to %d: %w", old.Size, cp.Size, err))
	}
	nb, err := bundle.Upgrade(ctx, b, *p, note, proof, c)
	if err != nil {
		return nil, failed(fmt.Errorf("%w%s", err, unpinnedLogKeys(err, p, b.Checkpoint)))
	}
	return nb, durable.WriteFile(file, nb.Marshal(), 0o644)
}

// refreshV2 moves a v2 bundle to the log's published checkpoint: it
// verifies b (without its quorum, often the reason to refresh), fetches
// the entry's bundle on the published checkpoint (GET
// /api/v1/entries/N/bundle: a fresh inclusion proof and fresh map proofs
// there) and the consistency proof from b's checkpoint to that one (GET
// /api/v1/proof/consistency), checks that the proof verifies between the
// two signed roots and that the new bundle is of the same entry, verifies
// the new bundle under p, and saves it over file. Nothing the log answers
// is trusted: a log that forked since b's checkpoint fails here (exit 1).
func refreshV2(ctx context.Context, c *client.Client, file string, b *bundle.Bundle, p *bundle.Policy) (*bundle.Bundle, error) {
	old := *p
	old.Quorum = nil
	or, err := bundle.Verify(b, old)
	if err != nil {
		return nil, failed(fmt.Errorf("%s: %w%s", file, err, unpinnedLogKeys(err, p, b.Checkpoint)))
	}
	data, err := c.Get(ctx, fmt.Sprintf("api/v1/entries/%d/bundle", b.Entry.Index), int64(bundle.MaxSizeV2))
	if err != nil {
		if latest, lerr := c.Checkpoint(ctx); lerr == nil {
			if cp, cerr := openCheckpoint(p, latest); cerr == nil && cp.Size <= b.Entry.Index {
				return nil, failed(notPublished(b.Entry.Index, cp.Size, p))
			}
		}
		return nil, fmt.Errorf("fetching the bundle of entry %d: %w", b.Entry.Index, err)
	}
	nb, err := bundle.Parse(data)
	if err != nil {
		return nil, failed(fmt.Errorf("the log's bundle of entry %d: %w", b.Entry.Index, err))
	}
	if !nb.IsV2() || nb.Entry.Index != b.Entry.Index || !bytes.Equal(nb.Entry.Leaf, b.Entry.Leaf) {
		return nil, failed(fmt.Errorf("the log answered another bundle for entry %d (not v2, or another leaf)", b.Entry.Index))
	}
	nr, err := bundle.Verify(nb, *p)
	if err != nil {
		return nil, failed(fmt.Errorf("the log's bundle of entry %d: %w%s%s", b.Entry.Index, err, quorumShort(p, nb.Checkpoint), unpinnedLogKeys(err, p, nb.Checkpoint)))
	}
	if nr.Size < or.Size {
		return nil, failed(fmt.Errorf("%w: the log's checkpoint has %d entries, the bundle's %d", bundle.ErrConsistency, nr.Size, or.Size))
	}
	proof, err := consistencyProof(ctx, c, or.Size, nr.Size)
	if err != nil {
		return nil, err
	}
	if err := verify.Consistency(or.Size, nr.Size, proof, or.Root, nr.Root); err != nil {
		return nil, failed(fmt.Errorf("%w from size %d to %d: the log's new checkpoint does not extend the bundle's (a fork, or a bad proof): %w",
			bundle.ErrConsistency, or.Size, nr.Size, err))
	}
	return nb, durable.WriteFile(file, nb.Marshal(), 0o644)
}

// consistencyProof fetches the log's consistency proof from size from to
// size to (GET /api/v1/proof/consistency), unverified.
func consistencyProof(ctx context.Context, c *client.Client, from, to uint64) ([]verify.Hash, error) {
	if from == to {
		return nil, nil
	}
	data, err := c.Get(ctx, fmt.Sprintf("api/v1/proof/consistency?from=%d&to=%d", from, to), 1<<16)
	if err != nil {
		return nil, fmt.Errorf("consistency proof from %d to %d: %w", from, to, err)
	}
	var cp struct {
		From   uint64        `json:"from"`
		To     uint64        `json:"to"`
		Hashes []verify.Hash `json:"hashes"`
	}
	if err := json.Unmarshal(data, &cp); err != nil || cp.From != from || cp.To != to || len(cp.Hashes) > 2*bundle.MaxProof {
		return nil, failed(fmt.Errorf("%w: the log's consistency proof from %d to %d is malformed", bundle.ErrConsistency, from, to))
	}
	return cp.Hashes, nil
}

// notPublished says why a log's latest checkpoint, of size, is older than
// the bundle's of entry index: under a quorum the log publishes only what
// its witnesses cosigned.
func notPublished(index, size uint64, p *bundle.Policy) error {
	if p.Quorum != nil {
		return fmt.Errorf("entry %d is not cosigned by a quorum of witnesses yet: the log's latest cosigned checkpoint has %d entries "+
			"(the log publishes a checkpoint once its witnesses cosigned it); try again later, or ask the log's operator whether its witnesses are down", index, size)
	}
	return fmt.Errorf("entry %d is not in the log's published checkpoint yet (size %d); try again later", index, size)
}

// unpinnedLogKeys explains a log signature error on a bundle's
// checkpoint note: which keys of the log signed it, none pinned. After a
// key rotation, a bundle of before it carries the old key's signature
// only; pinning both keys moves it (--refresh) to a checkpoint the new
// key signed, which then verifies with the new key alone.
func unpinnedLogKeys(err error, p *bundle.Policy, note []byte) string {
	if !errors.Is(err, bundle.ErrLogSignature) {
		return ""
	}
	return signedByHint(p, note, "the bundle's checkpoint")
}

// signedByHint says which keys of p's log signed note, which has no
// signature by a pinned one, and what to do after a key rotation.
func signedByHint(p *bundle.Policy, note []byte, what string) string {
	n, err := verify.ParseNote(note)
	if err != nil {
		return ""
	}
	var by []string
	for _, s := range n.Sigs {
		if s.Name == p.Origin {
			by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.KeyID))
		}
	}
	if len(by) == 0 {
		return ""
	}
	hint := "pin its new key too, from a source you trust"
	if what == "the bundle's checkpoint" {
		hint = "pin the key that signed it too, with --refresh URL to move the bundle to a checkpoint of the new key"
	}
	return fmt.Sprintf(" (%s is signed by %s, not a pinned log key; if the log rotated its key, %s)", what, strings.Join(by, ", "), hint)
}

func bundleCheckpoint(b *bundle.Bundle) (verify.Checkpoint, error) {
	n, err := verify.ParseNote(b.Checkpoint)
	if err != nil {
		return verify.Checkpoint{}, err
	}
	return verify.ParseCheckpoint(n.Text)
}

// loadAudit reads an audit record and links it to the bundle's
// checkpoint: directly at the same size, else with a consistency proof
// from the tiles of the log at url (if given).
func loadAudit(ctx context.Context, file, url string, b *bundle.Bundle, p *bundle.Policy) (*bundle.AuditState, error) {
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	rec, err := audit.ParseRecord(data)
	if err != nil {
		return nil, usageError{Err: fmt.Errorf("--audit-state %s: %w", file, err)}
	}
	acp, _, err := verify.OpenCheckpoint(rec.Checkpoint, p.Origin, p.LogKeys, nil, 0)
	if err != nil {
		return nil, failed(fmt.Errorf("--audit-state %s: checkpoint: %w", file, err))
	}
	bcp, err := bundleCheckpoint(b)
	if err != nil || acp.Size == bcp.Size {
		return rec.AuditState(acp, nil), nil // Verify reports a mismatch
	}
	if url == "" {
		return nil, nil // not linkable offline: non-revocation not proven
	}
	c, err := client.New(client.Config{URL: url})
	if err != nil {
		return nil, usageError{Err: err}
	}
	proof, err := verify.ProveConsistency(ctx, c, min(acp.Size, bcp.Size), max(acp.Size, bcp.Size))
	if err != nil {
		return nil, failed(fmt.Errorf("linking the audit state: %w", err))
	}
	return rec.AuditState(acp, proof), nil
}

// describeLeaf says what an entry claims, not verified.
func describeLeaf(leaf []byte) string {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return fmt.Sprintf("entry is not a canonical attestation: %v", err)
	}
	st := env.Statement
	return fmt.Sprintf("statement: %s for %s (signatures not checked here)", st.PredicateType, st.Signatory())
}
