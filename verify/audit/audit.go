package audit

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// StateFile is the name of the state file in Config.Dir.
const StateFile = "audit-state.json"

// saveEvery is how many tiles are checked between two saved states.
const saveEvery = 256

// A Fetcher reads a log's tiles; *client.Client is one.
type Fetcher interface {
	verify.TileReader
	// Entries returns the first width entries of entry bundle n.
	Entries(ctx context.Context, n uint64, width int) ([][]byte, error)
}

// A Config says what to audit and how.
type Config struct {
	// Fetcher reads the log's tiles, which are not trusted.
	Fetcher Fetcher
	// Open verifies a signed checkpoint with the auditor's pinned keys.
	Open func(note []byte) (verify.Checkpoint, error)
	// Checkpoint is the signed checkpoint to audit, unless Dir holds the
	// state of an unfinished audit: that one is finished first.
	Checkpoint []byte
	// Dir keeps the state and the dedup runs; "" means a temporary
	// directory, and no resumption.
	Dir string
	// Fetchers is how many tiles are fetched at once; 0 means 8.
	Fetchers int
	// Verifiers is how many goroutines verify signatures; 0 means
	// GOMAXPROCS.
	Verifiers int
	// SaveEvery is how many tiles are checked between two saved states;
	// 0 means 256 (65,536 entries).
	SaveEvery int
	// StdlibEd25519 verifies Ed25519 signatures with crypto/ed25519, as
	// the log does, instead of the twice as fast curve25519-voi with the
	// same acceptance rules.
	StdlibEd25519 bool
	// Progress, if not nil, is called with the entries checked so far.
	Progress func(done, total uint64)
}

// A Report is what an audit found.
type Report struct {
	Checkpoint []byte // the signed checkpoint audited
	Tree       verify.Checkpoint
	Resumed    uint64    // entries checked by an earlier, interrupted run
	Signatures uint64    // signatures verified by this run
	Findings   []Finding // the first findings, by index
	Total      uint64    // findings, including those not kept
	Registry   *attest.Registry
	// Revocations are the log's revoke-key events.
	Revocations []bundle.Revocation
	// MapRoot is the root of the registry map rebuilt from the entries;
	// MapCommitted says whether the checkpoint committed to a map root,
	// which then equals it (a checkpoint signed before the log committed
	// to its map has none).
	MapRoot      [32]byte
	MapCommitted bool
}

// Record returns what bundle --audit-state needs.
func (r *Report) Record() *Record {
	return &Record{Checkpoint: r.Checkpoint, Revocations: r.Revocations}
}

// Run audits the log; see the package comment. Findings are in the
// Report; an error means the audit could not finish (a fetch failure,
// ctx done: the state is saved and Run may be called again) or that the
// log's tree itself is wrong (ErrRoot, ErrTile, ErrResume).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	a, err := newAuditor(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer a.cleanup()
	return a.run(ctx)
}

// auditor is one audit. The sequential stage (consume) owns every field
// but findings, which the verifiers share under mu.
type auditor struct {
	cfg     Config
	state   State
	cp      verify.Checkpoint
	dir     string
	tempDir bool
	parse   func(leaf []byte) (*attest.Envelope, error) // attest.ParseLeaf; tests watch it
	reg     *attest.Registry
	tree    *tree
	anchors anchors
	keys    keyring
	spill   spill
	revs    []bundle.Revocation
	sigs    chan []sigJob
	verWG   sync.WaitGroup // signature batches in flight
	mu      sync.Mutex
	found   []Finding
	total   uint64
	nsigs   uint64

	mapRoot      [32]byte // the registry map rebuilt (checkMap)
	mapCommitted bool     // whether the checkpoint commits to a map root
}

func newAuditor(ctx context.Context, cfg Config) (*auditor, error) {
	a := &auditor{cfg: cfg, dir: cfg.Dir, parse: attest.ParseLeaf, keys: keyring{m: map[string]*key{}, stdlib: cfg.StdlibEd25519}}
	if a.dir == "" {
		d, err := os.MkdirTemp("", "pledge-verify-audit-")
		if err != nil {
			return nil, err
		}
		a.dir, a.tempDir = d, true
	} else if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return nil, err
	}
	if err := a.load(); err != nil {
		a.cleanup()
		return nil, err
	}
	cp, err := cfg.Open(a.state.Checkpoint)
	if err != nil {
		a.cleanup()
		return nil, fmt.Errorf("audited checkpoint: %w", err)
	}
	// The registry keeps its pledge records in a file in the state
	// directory, so memory does not grow with the log.
	reg, err := attest.NewRegistryOnDisk(cp.Origin, a.dir)
	if err != nil {
		a.cleanup()
		return nil, err
	}
	a.cp, a.reg = cp, reg
	a.tree = newTree(ctx, cfg.Fetcher, cp.Size)
	a.spill = spill{dir: a.dir, runs: a.state.Runs}
	a.found, a.total = slices.Clone(a.state.Findings), a.state.Total
	return a, nil
}

// cleanup removes the registry's pledge file (the read models the Report
// returns still answer) and a temporary state directory.
func (a *auditor) cleanup() {
	if a.reg != nil {
		a.reg.Close()
	}
	if a.tempDir {
		os.RemoveAll(a.dir)
	}
}

func (a *auditor) run(ctx context.Context) (*Report, error) {
	if err := a.anchor(ctx); err != nil {
		return nil, err
	}
	if err := a.replay(ctx); err != nil {
		return nil, err
	}
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	root, err := a.tree.finish()
	if err != nil {
		return nil, err
	}
	if root != a.cp.Root {
		return nil, fmt.Errorf("size %d: rebuilt %s, signed %s: %w", a.cp.Size, root, a.cp.Root, ErrRoot)
	}
	if err := a.checkMap(ctx); err != nil {
		return nil, err
	}
	if err := a.spill.duplicates(a.duplicate); err != nil {
		return nil, err
	}
	a.removeState()
	return a.report(), nil
}

// checkMap recomputes the registry map from the registry the entries
// built and compares its root with the one the audited checkpoint commits
// to, if it commits to one (attest.MapExtension).
func (a *auditor) checkMap(ctx context.Context) error {
	signed, ok, err := attest.ParseMapExtension(a.cp.Extensions)
	if err != nil {
		return fmt.Errorf("size %d: %w: %w", a.cp.Size, ErrMapRoot, err)
	}
	root, err := attest.MapRoot(ctx, a.reg.MapLeaves())
	if err != nil {
		return err
	}
	a.mapRoot, a.mapCommitted = root, ok
	if ok && root != signed {
		return fmt.Errorf("size %d: rebuilt registry map %x, signed %x: %w", a.cp.Size, root, signed, ErrMapRoot)
	}
	return nil
}

func (a *auditor) duplicate(index, first uint64) {
	a.finding(Finding{index, KindDuplicate, fmt.Sprintf("the same statement as entry %d", first)})
}

func (a *auditor) report() *Report {
	slices.SortStableFunc(a.found, func(x, y Finding) int { return cmp.Compare(x.Index, y.Index) })
	return &Report{Checkpoint: a.state.Checkpoint, Tree: a.cp, Resumed: a.state.Next, Signatures: a.nsigs,
		Findings: a.found, Total: a.total, Registry: a.reg, Revocations: a.revs,
		MapRoot: a.mapRoot, MapCommitted: a.mapCommitted}
}

// finding records a finding; safe for concurrent use.
func (a *auditor) finding(f Finding) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total++
	if len(a.found) < maxFindings {
		a.found = append(a.found, f)
	}
}

func workers(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}
