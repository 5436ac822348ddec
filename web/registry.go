package web

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// TableLeaf maps the RFC 6962 leaf hash of every entry to its index (8
// bytes, big-endian). The log's dedup key is attest.DedupKey, not the leaf
// hash, so lookups by leaf hash need their own rows.
const TableLeaf = "leaf"

// DerivedTables are the tables of derived rows an attestation log has:
// attest's and TableLeaf. Reindex rebuilds exactly these.
var DerivedTables = []string{attest.TableSignatories, attest.TableAccords, attest.TableRegistry,
	attest.TablePledges, attest.TableLatest, attest.TableSearch, TableLeaf}

// Hooks sets cfg's DedupKey, Admit and Index hooks to those of reg, so
// that the log admits attestations by reg's rules and writes its derived
// rows, plus a TableLeaf row per entry.
func Hooks(cfg *log.Config, reg *attest.Registry) {
	cfg.DedupKey = attest.DedupKey
	cfg.Admit = func(ctx context.Context, index uint64, entry []byte) (func(), error) {
		undo, err := reg.Admit(ctx, index, entry)
		if err != nil {
			return nil, &admitError{leaf: verify.LeafHash(entry), err: err}
		}
		return undo, nil
	}
	cfg.Index = func(index uint64, entry []byte) []log.Row { return indexRows(reg, index, entry) }
}

func indexRows(reg *attest.Registry, index uint64, entry []byte) []log.Row {
	rows := reg.Index(index, entry)
	out := make([]log.Row, 0, len(rows)+1)
	for _, r := range rows {
		out = append(out, log.Row(r))
	}
	return append(out, leafRow(index, entry))
}

func leafRow(index uint64, entry []byte) log.Row {
	h := verify.LeafHash(entry)
	return log.Row{Table: TableLeaf, Key: h[:], Value: binary.BigEndian.AppendUint64(nil, index)}
}

// admitError is the error of the Admit hook: it names the entry, so that
// the batch API can point at it.
type admitError struct {
	leaf verify.Hash
	err  error
}

func (e *admitError) Error() string { return e.err.Error() }
func (e *admitError) Unwrap() error { return e.err }

// rowPage is how many rows a scan reads at a time.
const rowPage = 1024

// scanRows calls fn for every row of table from start on, in key order.
func scanRows(ctx context.Context, l *log.Log, table string, start []byte, fn func(log.Row) error) error {
	for {
		rows, err := l.Rows(ctx, table, start, nil, rowPage)
		if err != nil {
			return fmt.Errorf("reading table %s: %w", table, err)
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < rowPage {
			return nil
		}
		start = append(append([]byte(nil), rows[len(rows)-1].Key...), 0)
	}
}

// LoadRegistry rebuilds reg from the derived rows of l: it replays the
// entries listed in attest.TableRegistry in index order, then restores the
// pledges of attest.TablePledges. Call it after log.Open and before
// log.Log.Run, with the registry whose hooks the log has.
func LoadRegistry(ctx context.Context, l *log.Log, reg *attest.Registry, logger *slog.Logger) error {
	start := time.Now()
	events, pledges := 0, 0
	err := scanRows(ctx, l, attest.TableRegistry, nil, func(r log.Row) error {
		events++
		return replay(ctx, l, reg, r.Key)
	})
	if err != nil {
		return err
	}
	err = scanRows(ctx, l, attest.TablePledges, nil, func(r log.Row) error {
		pledges++
		return reg.RestorePledge(r.Key, r.Value)
	})
	if err != nil {
		return fmt.Errorf("restoring pledges: %w", err)
	}
	if logger != nil {
		logger.Info("registry loaded", "events", events, "pledges", pledges, "duration", time.Since(start))
	}
	return nil
}

func replay(ctx context.Context, l *log.Log, reg *attest.Registry, key []byte) error {
	index, err := attest.ParseIndexKey(key)
	if err != nil {
		return err
	}
	entry, err := l.Entry(ctx, index)
	if err != nil {
		return fmt.Errorf("reading registry entry %d: %w", index, err)
	}
	if _, err := reg.Replay(index, entry); err != nil {
		return fmt.Errorf("replaying entry %d: %w", index, err)
	}
	return nil
}
