package attestlog

import (
	"context"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// reindexChunk is how many rows one rows-only commit of Reindex writes.
const reindexChunk = 4096

// Reindex rebuilds every derived row (DerivedTables) of the stopped log l,
// whose storage is st, from its entries alone: it deletes the rows, then
// admits every entry, in index order, into a fresh registry and writes the
// rows the hooks would have written. Open it without hooks: log.Open. The rows are committed in chunks by rows-only
// updates (the checkpoint does not move); if Reindex fails midway, run it
// again. progress, if not nil, is called after each chunk with the entries
// done and the tree size.
func Reindex(ctx context.Context, l *log.Log, st log.Storage, progress func(done, size uint64)) error {
	cp := l.Latest()
	w := &rowWriter{ctx: ctx, st: st, cp: cp}
	for _, table := range DerivedTables {
		if err := w.deleteAll(table); err != nil {
			return err
		}
	}
	reg := attest.NewRegistry(l.Origin())
	err := forEntries(ctx, l, cp.Size, func(index uint64, entry []byte) error {
		env, err := attest.ParseLeaf(entry)
		h := verify.LeafHash(entry)
		if err == nil {
			_, err = reg.AdmitEnvelope(index, env, h)
		}
		if err != nil {
			return fmt.Errorf("reindex: entry %d is not admitted: %w", index, err)
		}
		if err := w.add(indexRows(reg, index, h)...); err != nil {
			return err
		}
		if progress != nil && (index+1)%reindexChunk == 0 {
			progress(index+1, cp.Size)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if progress != nil {
		defer progress(cp.Size, cp.Size)
	}
	return w.flush()
}

// forEntries calls fn for every entry below size, reading whole bundles.
func forEntries(ctx context.Context, l *log.Log, size uint64, fn func(uint64, []byte) error) error {
	for index := uint64(0); index < size; {
		data, err := l.ReadTile(ctx, verify.TileForIndex(verify.EntriesLevel, index, size))
		if err != nil {
			return err
		}
		entries, err := verify.ParseBundle(data)
		if err != nil {
			return fmt.Errorf("entry bundle at %d: %w", index, err)
		}
		for _, e := range entries[index%verify.TileWidth:] {
			if err := fn(index, e); err != nil {
				return err
			}
			index++
		}
	}
	return nil
}

// rowWriter commits rows in rows-only updates of the checkpoint cp.
type rowWriter struct {
	ctx  context.Context
	st   log.Storage
	cp   *log.State
	rows []log.Row
}

func (w *rowWriter) add(rows ...log.Row) error {
	w.rows = append(w.rows, rows...)
	if len(w.rows) < reindexChunk {
		return nil
	}
	return w.flush()
}

func (w *rowWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	u := &log.Update{Prev: w.cp.Checkpoint, Checkpoint: w.cp.Checkpoint, Size: w.cp.Size, Rows: w.rows}
	if err := w.st.Commit(w.ctx, u); err != nil {
		return fmt.Errorf("reindex: committing rows: %w", err)
	}
	w.rows = nil
	return nil
}

// deleteAll deletes every row of table.
func (w *rowWriter) deleteAll(table string) error {
	for {
		rows, err := w.st.Rows(w.ctx, table, nil, nil, reindexChunk)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, r := range rows {
			w.rows = append(w.rows, log.Row{Table: table, Key: r.Key, Delete: true})
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
}
