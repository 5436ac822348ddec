package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// rewriteBatch is the most rows one commit of RewriteRows writes.
const rewriteBatch = 4096

// ErrForeignRow is returned by RewriteRows for a row of a table it was
// not asked to rewrite.
var ErrForeignRow = errors.New("log: a rewrite's row of a table it does not rewrite")

// RewriteRows replaces every derived row of tables with the rows fill
// gives: it deletes the tables' rows, then calls fill, which hands rows,
// in order, to put. The rows are committed in rows-only updates of at
// most 4096 rows each: the checkpoint (Prev and Checkpoint both the
// latest), no entries, tiles or dedup keys. Rows of any other table are
// refused with ErrForeignRow before they are committed, and the other
// tables are never touched. A rewrite is not atomic: if RewriteRows
// fails, the tables hold part of the new rows; run it again.
//
// No batch is sequenced during a rewrite: if Run runs, appends wait
// until RewriteRows returns, so fill must not append to l. Another
// process's sequencer on the same storage makes the next commit fail
// with ErrConflict.
func (l *Log) RewriteRows(ctx context.Context, tables []string, fill func(put func(...Row) error) error) error {
	l.sequencing.Lock()
	defer l.sequencing.Unlock()
	w := &rowWriter{ctx: ctx, st: l.cfg.Storage, state: l.Latest(), tables: tables}
	for _, table := range tables {
		if err := w.deleteAll(table); err != nil {
			return err
		}
	}
	if err := fill(w.put); err != nil {
		return err
	}
	return w.flush()
}

// rowWriter commits rows in rows-only updates of state.
type rowWriter struct {
	ctx    context.Context
	st     Storage
	state  *State
	tables []string
	rows   []Row
}

func (w *rowWriter) put(rows ...Row) error {
	for _, r := range rows {
		if !slices.Contains(w.tables, r.Table) {
			return fmt.Errorf("%w: table %q", ErrForeignRow, r.Table)
		}
		w.rows = append(w.rows, r)
		if len(w.rows) == rewriteBatch {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *rowWriter) flush() error {
	if len(w.rows) == 0 {
		return nil
	}
	u := &Update{Prev: w.state.Checkpoint, Checkpoint: w.state.Checkpoint, Size: w.state.Size, Rows: w.rows}
	if err := w.st.Commit(w.ctx, u); err != nil {
		return fmt.Errorf("log: rewriting rows: %w", err)
	}
	w.rows = w.rows[:0]
	return nil
}

// deleteAll deletes every row of table.
func (w *rowWriter) deleteAll(table string) error {
	for {
		rows, err := w.st.Rows(w.ctx, table, nil, nil, rewriteBatch)
		if err != nil {
			return fmt.Errorf("log: rows of %s: %w: %w", table, ErrStorage, err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			w.rows = append(w.rows, Row{Table: table, Key: r.Key, Delete: true})
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
}
