package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log"
)

// Storage is a log.Shared: several instances of a log may share its
// schema (see the package comment, "Several instances").
var _ log.Shared = (*Storage)(nil)

// channel returns the name of the notification channel of purpose in the
// schema: an identifier that needs no quoting, whatever the schema's name.
func (s *Storage) channel(purpose string) string {
	return fmt.Sprintf("pledgelog_%s_%016x", purpose, uint64(lockKey(purpose, s.schema)))
}

// Enqueue implements log.Shared: one statement, which inserts the request
// and notifies the leader.
func (s *Storage) Enqueue(ctx context.Context, q *log.Queued) (uint64, error) {
	if !fits(q.Seen) {
		return 0, fmt.Errorf("postgres: tree size %d out of range", q.Seen)
	}
	n := len(q.Entries)
	entries, keys, found := make([][]byte, n), make([][]byte, n), make([]int64, n)
	for i, e := range q.Entries {
		entries[i], keys[i], found[i] = nonNil(e.Data), nonNil(e.Key), -1
		if e.Found {
			if !fits(e.Index) {
				return 0, fmt.Errorf("postgres: index %d out of range", e.Index)
			}
			found[i] = int64(e.Index)
		}
	}
	var id int64
	err := s.pool.QueryRow(ctx, `WITH q AS (
			INSERT INTO queue (seen, n, entries, keys, found) VALUES ($1, $2, $3, $4, $5) RETURNING id
		), n AS (SELECT pg_notify($6, ''))
		SELECT id FROM q, n`, int64(q.Seen), n, entries, keys, found, s.channel("queued")).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgres: queueing a request: %w", err)
	}
	return uint64(id), nil
}

// Queued implements log.Shared.
func (s *Storage) Queued(ctx context.Context, max int) ([]*log.Queued, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, seen, entries, keys, found FROM queue JOIN (
			SELECT id, n, sum(n) OVER (ORDER BY id) AS total FROM (
				SELECT id, n FROM queue ORDER BY id LIMIT $1) f
		) w USING (id)
		WHERE total <= $1 OR total = w.n
		ORDER BY id`, max)
	qs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*log.Queued, error) {
		var id, seen int64
		var entries, keys [][]byte
		var found []int64
		if err := row.Scan(&id, &seen, &entries, &keys, &found); err != nil {
			return nil, err
		}
		if len(keys) != len(entries) || len(found) != len(entries) {
			return nil, fmt.Errorf("queued request %d: %d entries, %d keys, %d lookups", id, len(entries), len(keys), len(found))
		}
		q := &log.Queued{ID: uint64(id), Seen: uint64(seen), Entries: make([]log.QueuedEntry, len(entries))}
		for i := range entries {
			q.Entries[i] = log.QueuedEntry{Data: entries[i], Key: keys[i], Found: found[i] >= 0, Index: uint64(max64(found[i], 0))}
		}
		return q, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading the queue: %w", err)
	}
	return qs, nil
}

func max64(a, b int64) int64 { return max(a, b) }

// Answers implements log.Shared, in one round trip: it deletes the answers
// that earlier calls returned, in a transaction of its own that does not
// wait for the WAL flush (an answer left behind by a crash is deleted
// anyway, ten minutes later), and reads those of ids.
//
// An answer is deleted only after a call returned it: if Answers read and
// deleted in one statement, a connection that fails after the deletion
// committed but before the rows arrived would lose the answers, and their
// appenders would wait forever for entries that are in the log (as a
// failover of the database showed).
func (s *Storage) Answers(ctx context.Context, ids []uint64) ([]log.Answer, error) {
	args := make([]int64, len(ids))
	for i, id := range ids {
		args[i] = int64(id)
	}
	s.forgetMu.Lock()
	forget := s.forget
	s.forget = nil
	s.forgetMu.Unlock()
	b := new(pgx.Batch)
	if len(forget) > 0 {
		b.Queue("BEGIN")
		b.Queue("SET LOCAL synchronous_commit = off")
		b.Queue("DELETE FROM answers WHERE id = ANY($1)", forget)
		b.Queue("COMMIT")
	}
	var as []log.Answer
	b.Queue(`SELECT a.id, a.size, a.results, a.err, a.err_entry, c.note
		FROM answers a JOIN checkpoints c ON c.size = a.size
		WHERE a.id = ANY($1)`, args).Query(func(rows pgx.Rows) error {
		var err error
		as, err = pgx.CollectRows(rows, scanAnswer)
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		s.forgetMu.Lock()
		s.forget = append(s.forget, forget...)
		s.forgetMu.Unlock()
		return nil, fmt.Errorf("postgres: reading answers: %w", err)
	}
	s.forgetMu.Lock()
	for _, a := range as {
		s.forget = append(s.forget, int64(a.ID))
	}
	s.forgetMu.Unlock()
	return as, nil
}

func scanAnswer(row pgx.CollectableRow) (log.Answer, error) {
	var id, size int64
	var results []byte
	var a log.Answer
	if err := row.Scan(&id, &size, &results, &a.Err, &a.ErrEntry, &a.Checkpoint); err != nil {
		return a, err
	}
	a.ID, a.Size = uint64(id), uint64(size)
	if len(results)%9 != 0 {
		return a, fmt.Errorf("answer %d: %d bytes of results", id, len(results))
	}
	for r := results; len(r) > 0; r = r[9:] {
		a.Results = append(a.Results, log.Result{Index: binary.BigEndian.Uint64(r), Duplicate: r[8] == 1})
	}
	return a, nil
}

// queueAnswers stores the answers of u, removes their requests from the
// queue, and notifies the instances; now and then it forgets answers that
// nobody came for (their instance stopped) within ten minutes.
func (s *Storage) queueAnswers(b *pgx.Batch, u *log.Update) {
	if len(u.Answers) > 0 {
		n := len(u.Answers)
		ids, sizes, results, errs, entries := make([]int64, n), make([]int64, n), make([][]byte, n), make([]string, n), make([]int32, n)
		for i, a := range u.Answers {
			ids[i], sizes[i], errs[i], entries[i] = int64(a.ID), int64(a.Size), a.Err, int32(a.ErrEntry)
			r := make([]byte, 0, 9*len(a.Results))
			for _, res := range a.Results {
				r = binary.BigEndian.AppendUint64(r, res.Index)
				if res.Duplicate {
					r = append(r, 1)
				} else {
					r = append(r, 0)
				}
			}
			results[i] = r
		}
		b.Queue(`DELETE FROM queue WHERE id = ANY($1)`, ids)
		b.Queue(`INSERT INTO answers (id, size, results, err, err_entry)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::text[], $5::integer[])
			ON CONFLICT (id) DO NOTHING`, ids, sizes, results, errs, entries)
	}
	if s.commits.Add(1)%256 == 0 {
		b.Queue(`DELETE FROM answers WHERE at < now() - interval '10 minutes'`)
	}
	b.Queue(`SELECT pg_notify($1, '')`, s.channel("committed"))
}

// Lead implements log.Shared: it takes the lease (Storage.Lease), then
// waits for any commit of the previous holder still in flight (it holds
// the checkpoint row), so that the first commit of this one extends the
// latest checkpoint. From then on Commit checks, under the checkpoint
// row's lock, that this lease's connection still holds the advisory lock,
// and fails with log.ErrLeaseLost otherwise.
func (s *Storage) Lead(ctx context.Context) (log.Lease, error) {
	l, err := s.Lease(ctx)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	_, err = l.conn.Exec(ctx, "BEGIN; SELECT FROM checkpoint FOR UPDATE; COMMIT")
	l.mu.Unlock()
	if err != nil {
		l.Release()
		return nil, fmt.Errorf("postgres: waiting for the previous sequencer's commit: %w", err)
	}
	s.fence.Store(l)
	return l, nil
}

// queueFence adds to b the check that lease l still holds the sequencer's
// advisory lock: under the checkpoint row's lock, which every commit
// takes first, so that no commit passes it once another instance leads.
func (s *Storage) queueFence(b *pgx.Batch, l *Lease) {
	key := uint64(lockKey("sequencer", s.schema))
	b.Queue(`SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND pid = $1 AND classid::bigint = $2 AND objid::bigint = $3 AND objsubid = 1)`,
		int64(l.pid), int64(key>>32), int64(key&0xffffffff)).
		QueryRow(func(row pgx.Row) error {
			var held bool
			if err := row.Scan(&held); err != nil {
				return err
			}
			if !held {
				return log.ErrLeaseLost
			}
			return nil
		})
}

// Watch implements log.Shared, on a connection of its own that listens to
// the schema's two channels; it reconnects after a failure, every
// Options.LeaseRetry.
func (s *Storage) Watch(ctx context.Context, committed, queued func()) error {
	for ctx.Err() == nil {
		err := s.watch(ctx, committed, queued)
		if ctx.Err() != nil {
			break
		}
		s.logger.Warn("postgres: listening for commits failed; reconnecting", "err", err)
		t := time.NewTimer(s.retry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

func (s *Storage) watch(ctx context.Context, committed, queued func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.lease)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, ch := range []string{"committed", "queued"} {
		if _, err := conn.Exec(ctx, "LISTEN "+s.channel(ch)); err != nil {
			return err
		}
	}
	committed() // whatever happened before we listened
	queued()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch n.Channel {
		case s.channel("committed"):
			committed()
		case s.channel("queued"):
			queued()
		}
	}
}
