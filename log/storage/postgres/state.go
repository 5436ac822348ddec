package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// UseOnce records id as used until exp, as of now (the caller's clock,
// which all instances should share within a second), and reports false
// if it was used before and has not expired: one statement, so that two
// instances using one id at once cannot both succeed. Now and then it
// forgets the ids that expired.
func (s *Storage) UseOnce(ctx context.Context, id string, exp, now time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `INSERT INTO once (id, until) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET until = excluded.until WHERE once.until <= $3
		RETURNING true`, id, exp, now).Scan(&ok)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("postgres: recording a used id: %w", err)
	}
	if s.uses.Add(1)%1024 == 0 {
		if _, err := s.pool.Exec(ctx, `DELETE FROM once WHERE until <= $1`, now); err != nil {
			s.logger.Warn("postgres: forgetting expired ids failed", "err", err)
		}
	}
	return true, nil
}

// Take takes a token from the bucket key, which fills at rate tokens per
// second up to burst, as of now, and reports whether it held one: one
// statement, so that instances sharing the bucket never take more than it
// holds together.
func (s *Storage) Take(ctx context.Context, key string, rate float64, burst int, now time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `INSERT INTO buckets AS b (key, tokens, at) VALUES ($1, $3::float8 - 1, $4)
		ON CONFLICT (key) DO UPDATE SET
			tokens = least($3::float8, b.tokens + $2::float8 * greatest(0, extract(epoch FROM $4 - b.at))) - 1,
			at = greatest(b.at, $4)
		WHERE least($3::float8, b.tokens + $2::float8 * greatest(0, extract(epoch FROM $4 - b.at))) >= 1
		RETURNING true`, key, rate, float64(burst), now).Scan(&ok)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("postgres: taking from bucket %s: %w", key, err)
	}
	return true, nil
}
