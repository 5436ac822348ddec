// Package attestlog is the attestation log: a Merkle log (package log)
// whose entries are canonical DSSE envelopes of in-toto Statements
// (package attest), with the registry that its entries build and the rows
// derived from them. It is where log and attest meet; the HTTP server,
// the UI, init, reindex and the load tool all go through it, and none of
// it knows of HTTP.
//
// # The submission pipeline
//
// A client's envelope is parsed once ([Canonicalize]). [Log.Submit] then
// computes its dedup key once (SHA-256 of the DSSE PAE) and hands it with
// the parsed envelope to the log ([log.Log.Prepare]), which looks the key
// up in storage once. Only envelopes not already in the log are verified
// against the registry as it is now, in parallel, and checked against the
// principal that the session token names. The sequencer then admits them
// in index order with the envelope as parsed ([attest.Registry.AdmitEnvelope]
// through the log's Admit hook), re-checking every rule as of its index,
// and commits the derived rows the registry computed with the entries.
// An error about one envelope of a batch is a [*log.EntryError] naming its
// position.
//
// # Derived state
//
// The derived rows ([DerivedTables]) are a function of the entries alone:
// [Reindex] rebuilds them from the entries of a stopped log, through the
// log's rows-only rewrite ([log.Log.RewriteRows]), and must reproduce
// them byte for byte. At start, [Open] rebuilds the registry from the
// rows (registry events replayed, pledges restored) rather than from
// every entry.
//
// # The read model
//
// Readers ask the Log, never the rows: [Log.Accords], [Log.Accord],
// [Log.Principals] and [Log.Signatories] (pages by id), [Log.AllSignatories],
// [Log.CountSignatories], [Log.Signatory], [Log.LatestBySignatory],
// [Log.LatestByAccord], [Log.Pledges], [Log.PledgeInfo],
// [Log.IndexByLeafHash] and [Log.Search]. They answer attest's types, or
// a [Doc]: a registry document's stored JSON, which a server answers as
// it is, and its Decode. A lookup that finds nothing is [ErrNotFound].
// A [Page] asks for up to Limit items after After, which is nil or the
// Next of the page before of the same query ([ErrCursor] otherwise): the
// last row key read, so that a page is a scan from it, exclusive, and a
// full page may be followed by an empty one. A search scans its most
// selective field's rows ([Query]) and checks the others for each entry,
// at most [SearchBudget] rows a page.
package attestlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// tableLeaf maps the RFC 6962 leaf hash of every entry to its index (8
// bytes, big-endian): the rows of Log.IndexByLeafHash. The log's dedup key
// is attest.DedupKey, not the leaf hash, so lookups by leaf hash need
// their own rows.
const tableLeaf = "leaf"

// DerivedTables are the tables of derived rows an attestation log has:
// attest's and the leaf-hash index (table "leaf"). Reindex rebuilds exactly these.
var DerivedTables = []string{attest.TableSignatories, attest.TableAccords, attest.TableRegistry,
	attest.TablePledges, attest.TableLatest, attest.TableSearch, tableLeaf}

// Log is an attestation log: the Merkle log and the registry whose hooks
// it has. The sequencer runs as the Merkle log's Run.
type Log struct {
	log  *log.Log
	reg  *attest.Registry
	mapt *attest.MapTracker
}

// Create creates an empty attestation log in cfg.Storage (log.Create),
// with cfg's hooks set to a new registry's.
func Create(ctx context.Context, cfg log.Config) (*Log, error) {
	reg := attest.NewRegistry(cfg.Origin)
	m := hooks(&cfg, reg)
	l, err := log.Create(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Log{log: l, reg: reg, mapt: m}, nil
}

// Open opens the attestation log in cfg.Storage (log.Open), with cfg's
// hooks set to a new registry's, and loads the registry from the derived
// rows. Run the Merkle log's sequencer after it.
func Open(ctx context.Context, cfg log.Config) (*Log, error) {
	reg := attest.NewRegistry(cfg.Origin)
	m := hooks(&cfg, reg)
	l, err := log.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &Log{log: l, reg: reg, mapt: m}
	if err := a.loadRegistry(ctx, cfg.Logger); err != nil {
		return nil, fmt.Errorf("loading the registry (try pledgelog reindex): %w", err)
	}
	if err := a.loadMap(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Log returns the Merkle log underneath.
func (a *Log) Log() *log.Log { return a.log }

// Registry returns the registry, as of the latest committed entry.
func (a *Log) Registry() *attest.Registry { return a.reg }

// hooks sets cfg's DedupKey, Admit and Index hooks to those of reg, so
// that the log admits attestations by reg's rules and writes its derived
// rows, plus a tableLeaf row per entry, and its Follow hook to replay the
// entries other instances commit. An entry appended with its parsed
// envelope as the value is neither parsed nor hashed again; a raw one
// (log.Log.AppendBatch) is parsed by the hook.
//
// Every checkpoint commits to the registry map (attest.MapExtension):
// its Extensions hook brings the map to the registry as admitted up to the
// checkpoint's size. An entry undone after admission makes the map be
// rebuilt at the next checkpoint, since the tree never removes a leaf.
func hooks(cfg *log.Config, reg *attest.Registry) *attest.MapTracker {
	cfg.DedupKey = attest.DedupKey
	m := attest.NewMapTracker(reg)
	cfg.Admit = func(ctx context.Context, index uint64, e log.Entry) (func(), error) {
		var undo func()
		var err error
		if env, ok := e.Value.(*attest.Envelope); ok {
			undo, err = reg.AdmitEnvelope(index, env, e.LeafHash)
		} else {
			undo, err = reg.Admit(ctx, index, e.Data)
		}
		if err != nil || undo == nil {
			return undo, err
		}
		return func() { m.Invalidate(); undo() }, nil
	}
	cfg.Extensions = func(ctx context.Context, size uint64) ([]string, error) {
		root, err := m.Root(ctx, size)
		if err != nil {
			return nil, fmt.Errorf("registry map: %w", err)
		}
		return []string{attest.MapExtension(root)}, nil
	}
	cfg.Index = func(index uint64, e log.Entry) []log.Row { return indexRows(reg, index, e.LeafHash) }
	// On an instance that another one's commits reach (a shared
	// storage), the registry replays them: no rows, no signature work.
	cfg.Follow = func(_ context.Context, index uint64, e log.Entry) error {
		_, err := reg.Replay(index, e.Data)
		return err
	}
	return m
}

// loadMap builds the registry map of the registry just loaded and checks
// it against the root the stored checkpoint commits to, if it commits to
// one: a registry rebuilt wrong from its rows must not sign on.
func (a *Log) loadMap(ctx context.Context) error {
	s := a.log.Latest()
	root, err := a.mapt.Root(ctx, s.Size)
	if err != nil {
		return fmt.Errorf("building the registry map: %w", err)
	}
	if err := checkCommitted(s.Checkpoint, root); err != nil && !errors.Is(err, ErrMapUnavailable) {
		return fmt.Errorf("the registry loaded from the derived rows (try pledgelog reindex): %w", err)
	}
	return nil
}

// indexRows are the derived rows of the entry just admitted at index.
func indexRows(reg *attest.Registry, index uint64, leafHash verify.Hash) []log.Row {
	rows := reg.Index(index, nil)
	out := make([]log.Row, 0, len(rows)+1)
	for _, r := range rows {
		out = append(out, log.Row(r))
	}
	return append(out, log.Row{Table: tableLeaf, Key: leafHash[:], Value: binary.BigEndian.AppendUint64(nil, index)})
}

// loadRegistry rebuilds the registry from the derived rows: it replays
// the entries listed in attest.TableRegistry in index order, then
// restores the pledges of attest.TablePledges.
func (a *Log) loadRegistry(ctx context.Context, logger *slog.Logger) error {
	start := time.Now()
	events, pledges := 0, 0
	err := scanRows(ctx, a.log, attest.TableRegistry, nil, nil, func(r log.Row) error {
		events++
		return a.replay(ctx, r.Key)
	})
	if err != nil {
		return err
	}
	err = scanRows(ctx, a.log, attest.TablePledges, nil, nil, func(r log.Row) error {
		pledges++
		return a.reg.RestorePledge(r.Key, r.Value)
	})
	if err != nil {
		return fmt.Errorf("restoring pledges: %w", err)
	}
	if logger != nil {
		logger.Info("registry loaded", "events", events, "pledges", pledges, "duration", time.Since(start))
	}
	return nil
}

func (a *Log) replay(ctx context.Context, key []byte) error {
	index, err := attest.ParseIndexKey(key)
	if err != nil {
		return err
	}
	entry, err := a.log.Entry(ctx, index)
	if err != nil {
		return fmt.Errorf("reading registry entry %d: %w", index, err)
	}
	if _, err := a.reg.Replay(index, entry); err != nil {
		return fmt.Errorf("replaying entry %d: %w", index, err)
	}
	return nil
}
