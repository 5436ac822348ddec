package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log"
)

// Checkpoint implements log.Storage.
func (s *Storage) Checkpoint(ctx context.Context) ([]byte, error) {
	note, err := s.one(ctx, "checkpoint", "SELECT note FROM checkpoint")
	if err == nil && note == nil { // the row of a log not yet created
		return nil, log.ErrNotFound
	}
	return note, err
}

// CheckpointAt implements log.Storage.
func (s *Storage) CheckpointAt(ctx context.Context, size uint64) ([]byte, error) {
	if !fits(size) {
		return nil, log.ErrNotFound
	}
	return s.one(ctx, "checkpoint", "SELECT note FROM checkpoints WHERE size = $1", int64(size))
}

// HashTile implements log.Storage.
func (s *Storage) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	if level < 0 || level > math.MaxInt16 || !fits(n) {
		return nil, log.ErrNotFound
	}
	return s.one(ctx, "tile", "SELECT hashes FROM tiles WHERE level = $1 AND n = $2", int16(level), int64(n))
}

// one returns the bytea that query selects, or log.ErrNotFound.
func (s *Storage) one(ctx context.Context, what, query string, args ...any) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, query, args...).Scan(&b)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, log.ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("postgres: reading %s: %w", what, err)
	}
	return b, nil
}

// Checkpoints implements log.Storage.
func (s *Storage) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	if limit <= 0 {
		return nil, nil
	}
	before = min(before, math.MaxInt64) // no size is larger
	rows, _ := s.pool.Query(ctx, `SELECT note FROM checkpoints WHERE size < $1
		ORDER BY size DESC LIMIT $2`, int64(before), limit)
	cps, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("postgres: reading checkpoints: %w", err)
	}
	return cps, nil
}

// EntryBundle implements log.Storage. The full bundle, if stored, comes
// first; else the chunks follow in order of their start.
func (s *Storage) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	if !fits(n) {
		return nil, log.ErrNotFound
	}
	rows, _ := s.pool.Query(ctx, `SELECT "full", data FROM bundles WHERE n = $1
		ORDER BY "full" DESC, start`, int64(n))
	defer rows.Close()
	var b, data []byte
	var full bool
	for found := false; rows.Next(); found = true {
		if err := rows.Scan(&full, &data); err != nil {
			return nil, fmt.Errorf("postgres: reading bundle %d: %w", n, err)
		}
		if full && !found {
			return data, nil // any chunk left is stale
		}
		b = append(b, data...)
	}
	switch err := rows.Err(); {
	case err != nil:
		return nil, fmt.Errorf("postgres: reading bundle %d: %w", n, err)
	case b == nil:
		return nil, log.ErrNotFound
	}
	return b, nil
}

// Dedup implements log.Storage, in one query.
func (s *Storage) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	res := make([]log.DedupResult, len(keys))
	if len(keys) == 0 {
		return res, nil
	}
	args := make([][]byte, len(keys))
	for i, k := range keys {
		args[i] = nonNil(k)
	}
	found := make(map[string]int64, len(keys))
	var key []byte
	var idx int64
	rows, _ := s.pool.Query(ctx, "SELECT key, idx FROM dedup WHERE key = ANY($1)", args)
	_, err := pgx.ForEachRow(rows, []any{&key, &idx}, func() error {
		found[string(key)] = idx
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading dedup keys: %w", err)
	}
	for i, k := range keys {
		idx, ok := found[string(k)]
		res[i] = log.DedupResult{Index: uint64(idx), Found: ok}
	}
	return res, nil
}

// Rows implements log.Storage.
func (s *Storage) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	if limit <= 0 {
		return nil, nil
	}
	query := `SELECT key, value FROM rows WHERE tbl = $1 AND key >= $2 ORDER BY key LIMIT $3`
	args := []any{nonNil([]byte(table)), nonNil(start), limit}
	if end != nil {
		query = `SELECT key, value FROM rows WHERE tbl = $1 AND key >= $2 AND key < $4 ORDER BY key LIMIT $3`
		args = append(args, end)
	}
	rows, _ := s.pool.Query(ctx, query, args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (log.Row, error) {
		r := log.Row{Table: table}
		return r, row.Scan(&r.Key, &r.Value)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading rows of %q: %w", table, err)
	}
	return out, nil
}
