package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pledgelog/pledgelog/log"
)

// Commit implements log.Storage. The transaction takes four round trips:
// BEGIN, the lock of the checkpoint row, one pipelined batch of every
// write ending with the compare-and-swap, the answers of queued requests,
// the notification of the commit and, once Lead was called, the check
// that the lease is still held; and COMMIT.
func (s *Storage) Commit(ctx context.Context, u *log.Update) error {
	fence := s.fence.Load()
	if fence != nil {
		select {
		case <-fence.Lost():
			return log.ErrLeaseLost
		default:
		}
	}
	b, err := writes(u)
	if err != nil {
		return err
	}
	s.queueAnswers(b, u)
	if fence != nil {
		s.queueFence(b, fence)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockCheckpoint(ctx, tx, u.Prev); err != nil {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	switch {
	case errors.Is(err, log.ErrLeaseLost):
		return log.ErrLeaseLost
	case errors.Is(err, log.ErrConflict):
		return log.ErrConflict
	case err != nil:
		return fmt.Errorf("postgres: committing size %d: %w", u.Size, err)
	}
	return nil
}

// lockCheckpoint locks the checkpoint row until the end of tx, and returns
// log.ErrConflict unless it holds prev.
func lockCheckpoint(ctx context.Context, tx pgx.Tx, prev []byte) error {
	var note []byte
	if err := tx.QueryRow(ctx, "SELECT note FROM checkpoint FOR UPDATE").Scan(&note); err != nil {
		return fmt.Errorf("locking the checkpoint: %w", err)
	}
	if !bytes.Equal(note, prev) {
		return log.ErrConflict
	}
	return nil
}

// writes returns the statements that write u, ending with the swap of the
// checkpoint row, which fails with log.ErrConflict if the row no longer
// holds u.Prev (it cannot, under the lock, but it costs nothing to say so).
func writes(u *log.Update) (*pgx.Batch, error) {
	if err := check(u); err != nil {
		return nil, err
	}
	b := new(pgx.Batch)
	b.Queue(`INSERT INTO checkpoints (size, note) VALUES ($1, $2)
		ON CONFLICT (size) DO UPDATE SET note = excluded.note`, int64(u.Size), u.Checkpoint)
	queueTiles(b, u.Tiles)
	queueBundles(b, u.Bundles)
	queueDedup(b, u.Dedup)
	queueRows(b, u.Rows)
	var prev []byte // NULL for none, even if u.Prev is empty but not nil
	if len(u.Prev) > 0 {
		prev = u.Prev
	}
	b.Queue(`UPDATE checkpoint SET note = $1 WHERE note IS NOT DISTINCT FROM $2`, u.Checkpoint, prev).
		Exec(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() != 1 {
				return log.ErrConflict
			}
			return nil
		})
	return b, nil
}

// check returns an error if a number of u does not fit its column.
func check(u *log.Update) error {
	if len(u.Checkpoint) == 0 {
		return fmt.Errorf("postgres: commit of size %d without a checkpoint", u.Size)
	}
	if !fits(u.Size) {
		return fmt.Errorf("postgres: tree size %d out of range", u.Size)
	}
	for _, t := range u.Tiles {
		if t.Level < 0 || t.Level > math.MaxInt16 || !fits(t.N) {
			return fmt.Errorf("postgres: tile (%d, %d) out of range", t.Level, t.N)
		}
	}
	for _, w := range u.Bundles {
		if w.Start < 0 || w.Start > math.MaxInt32 || !fits(w.N) {
			return fmt.Errorf("postgres: chunk of bundle %d at %d out of range", w.N, w.Start)
		}
	}
	return nil
}

// fits reports whether v fits in a bigint.
func fits(v uint64) bool { return v <= math.MaxInt64 }
