package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
)

type auditFlags struct {
	remoteFlags
	state, record string
	summary       bool
	fetchers      int
	verifiers     int
	saveEvery     int
	stdlib        bool
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &auditFlags{}
	fs := newFlags("audit", "--url URL [--state DIR] [--record FILE] [--summary]", stderr)
	f.register(fs)
	fs.StringVar(&f.state, "state", "", "the `DIR` keeping an unfinished audit's state, to resume it (default: <user config dir>/pledgelog/audit/<origin hash>)")
	fs.StringVar(&f.record, "record", "", "where to write the audit record for bundle --audit-state (default: <state dir>/record.json)")
	fs.BoolVar(&f.summary, "summary", false, "print the signatory × principle matrix rebuilt from the log")
	fs.IntVar(&f.fetchers, "fetchers", 8, "how many tiles to fetch at once")
	fs.IntVar(&f.verifiers, "verifiers", 0, "how many goroutines verify signatures (default GOMAXPROCS)")
	fs.IntVar(&f.saveEvery, "save-every", 256, "save the state every `N` tiles of 256 entries")
	fs.BoolVar(&f.stdlib, "stdlib-ed25519", false, "verify Ed25519 with Go's crypto/ed25519, the reference, instead of the twice as fast curve25519-voi (same acceptance rules)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case f.fetchers < 1:
		return usageError{Err: fmt.Errorf("--fetchers %d: want at least 1", f.fetchers)}
	case f.verifiers < 0:
		return usageError{Err: fmt.Errorf("--verifiers %d: want 0 (GOMAXPROCS) or more", f.verifiers)}
	case f.saveEvery < 1:
		return usageError{Err: fmt.Errorf("--save-every %d: want at least 1", f.saveEvery)}
	}
	r, err := f.remote()
	if err != nil {
		return err
	}
	note, _, err := r.latest(ctx)
	if err != nil {
		return err
	}
	dir, err := stateDir(f.state, filepath.Join("audit", originFile(r.policy.Origin, "")))
	if err != nil {
		return err
	}
	start := time.Now()
	p := newProgress(stderr, "audit")
	rep, err := audit.Run(ctx, audit.Config{Fetcher: r.client, Checkpoint: note, Dir: dir,
		Fetchers: f.fetchers, Verifiers: f.verifiers, SaveEvery: f.saveEvery, StdlibEd25519: f.stdlib, Progress: p.update,
		Open: func(n []byte) (verify.Checkpoint, error) { return openCheckpoint(r.policy, n) }})
	if errors.Is(err, audit.ErrMalformedState) {
		return usageError{Err: fmt.Errorf("--state %s (%s): %w", dir, audit.StateFile, err)}
	}
	if err != nil {
		return err
	}
	return f.finish(stdout, dir, rep, cosignedFacts(r.policy, note), time.Since(start))
}

// finish records and prints the report; cosigned says who cosigned the
// audited checkpoint.
func (f *auditFlags) finish(stdout io.Writer, dir string, rep *audit.Report, cosigned []string, took time.Duration) error {
	if f.record == "" {
		f.record = filepath.Join(dir, "record.json")
	}
	if err := durable.WriteFile(f.record, rep.Record().Marshal(), 0o600); err != nil {
		return err
	}
	if err := f.print(stdout, rep, cosigned, took); err != nil {
		return err
	}
	if rep.Total > 0 {
		return failed(fmt.Errorf("audit: %d finding(s)", rep.Total))
	}
	return nil
}

// auditJSON is the --json form of a report.
type auditJSON struct {
	Origin     string                `json:"origin"`
	Size       uint64                `json:"size"`
	Root       string                `json:"root"`
	Resumed    uint64                `json:"resumed"`
	Signatures uint64                `json:"signatures"`
	Findings   []audit.Finding       `json:"findings"`
	Total      uint64                `json:"total"`
	Record     string                `json:"record"`
	Seconds    float64               `json:"seconds"`
	Matrix     []attest.LatestPledge `json:"matrix,omitempty"`
	Cosigned   []string              `json:"cosigned"`      // who cosigned the checkpoint, when, and the quorum met
	MapRoot    string                `json:"map_root"`      // base64 of the registry map rebuilt from the entries
	MapSigned  bool                  `json:"map_committed"` // whether the checkpoint commits to it (it then matches)
}

func (f *auditFlags) print(w io.Writer, rep *audit.Report, cosigned []string, took time.Duration) error {
	var matrix []attest.LatestPledge
	if f.summary {
		matrix = rep.Registry.Latest("")
	}
	if f.json {
		return cli.PrintJSONLine(w, auditJSON{rep.Tree.Origin, rep.Tree.Size, rep.Tree.Root.String(), rep.Resumed, rep.Signatures,
			nonNil(rep.Findings), rep.Total, f.record, took.Seconds(), matrix, nonNil(cosigned),
			base64.StdEncoding.EncodeToString(rep.MapRoot[:]), rep.MapCommitted})
	}
	fmt.Fprintf(w, "audited %s: %d entries, root %s matches the signed checkpoint\n", rep.Tree.Origin, rep.Tree.Size, rep.Tree.Root)
	if rep.MapCommitted {
		fmt.Fprintf(w, "registry map rebuilt from the entries: root %s matches the checkpoint's\n", base64.StdEncoding.EncodeToString(rep.MapRoot[:]))
	} else {
		fmt.Fprintf(w, "registry map rebuilt from the entries: root %s; the checkpoint commits to none (signed before the log committed to its map)\n", base64.StdEncoding.EncodeToString(rep.MapRoot[:]))
	}
	for _, c := range cosigned {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintf(w, "verified %d signatures in %s (%d entries resumed from a saved state)\n", rep.Signatures, took.Round(time.Millisecond), rep.Resumed)
	fmt.Fprintf(w, "findings: %d\n", rep.Total)
	for _, fd := range rep.Findings {
		fmt.Fprintln(w, "  "+fd.String())
	}
	fmt.Fprintf(w, "record: %s\n", f.record)
	if f.summary {
		printMatrix(w, matrix)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printMatrix prints the latest status of each signatory and principle,
// one row per signatory.
func printMatrix(w io.Writer, cells []attest.LatestPledge) {
	var cols []string
	rows := map[string]map[string]string{}
	var names []string
	for _, c := range cells {
		col := c.Accord + "/" + c.Principle
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
		if rows[c.Signatory] == nil {
			rows[c.Signatory] = map[string]string{}
			names = append(names, c.Signatory)
		}
		rows[c.Signatory][col] = c.Status
	}
	slices.Sort(cols)
	fmt.Fprintf(w, "matrix: %d signatories × %d principles\n", len(names), len(cols))
	fmt.Fprintf(w, "signatory\t%s\n", strings.Join(cols, "\t"))
	for _, n := range names {
		line := []string{n}
		for _, c := range cols {
			line = append(line, cmpOr(rows[n][c], "-"))
		}
		fmt.Fprintln(w, strings.Join(line, "\t"))
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
