package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// PID returns the server process of the lease's connection.
func (l *Lease) PID() uint32 { return l.conn.PgConn().PID() }

// LeasePID returns the server process of the lease that s.Lead took last.
func LeasePID(s *Storage) uint32 {
	if l := s.fence.Load(); l != nil {
		return l.pid
	}
	return 0
}

// Setting returns a server setting as a connection of s's pool sees it.
func Setting(s *Storage, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// AnswerIDs returns the ids of the stored answers.
func AnswerIDs(s *Storage) ([]int64, error) {
	rows, _ := s.pool.Query(context.Background(), "SELECT id FROM answers ORDER BY id")
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
