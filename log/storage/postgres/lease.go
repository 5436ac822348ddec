package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A Lease is the sequencer lease of a schema: a session advisory lock held
// on a connection of its own, outside the pool. The server drops the lock
// when that connection ends, so the lease is lost the moment the connection
// fails, and another instance may take it.
//
// Nothing watches the connection until the caller runs Run, typically
// under the same errgroup as the sequencer, which stops when Lost is
// closed:
//
//	lease, err := st.Lease(ctx)
//	if err != nil {
//		return err
//	}
//	defer lease.Release()
//	g.Go(func() error { return lease.Run(ctx) })
type Lease struct {
	conn   *pgx.Conn
	pid    uint32 // conn's server process
	retry  time.Duration
	logger *slog.Logger

	lost     chan struct{}
	lose     func()          // closes lost, once
	released context.Context // done once Release is called
	release  context.CancelFunc

	// mu is held by Run while it reads from conn, and by Release to
	// close it: a pgx.Conn is not safe for concurrent use.
	mu sync.Mutex
}

// Lease takes the sequencer lease of the schema, waiting for as long as
// another instance holds it, until ctx is done.
func (s *Storage) Lease(ctx context.Context) (*Lease, error) {
	conn, err := pgx.ConnectConfig(ctx, s.lease)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting for the sequencer lease: %w", err)
	}
	if err := s.acquire(ctx, conn); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	s.logger.Info("postgres: took the sequencer lease", "schema", s.schema, "pid", conn.PgConn().PID())
	l := &Lease{conn: conn, pid: conn.PgConn().PID(), retry: s.retry, logger: s.logger, lost: make(chan struct{})}
	l.lose = sync.OnceFunc(func() { close(l.lost) })
	l.released, l.release = context.WithCancel(context.Background())
	return l, nil
}

// acquire takes the advisory lock on conn: at once if it is free, else
// by waiting for it in the server's queue of waiters, which grants it in
// the order asked, so that an instance that just lost the lease does not
// take it back ahead of those waiting.
func (s *Storage) acquire(ctx context.Context, conn *pgx.Conn) error {
	key := lockKey("sequencer", s.schema)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		return fmt.Errorf("postgres: taking the sequencer lease: %w", err)
	}
	if ok {
		return nil
	}
	s.logger.Info("postgres: waiting for the sequencer lease, held by another instance", "schema", s.schema)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("postgres: waiting for the sequencer lease: %w", context.Cause(ctx))
		}
		return fmt.Errorf("postgres: waiting for the sequencer lease: %w", err)
	}
	return nil
}

// Lost returns a channel closed once the lease is no longer held: Run saw
// its connection fail, or Release was called.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Run watches the lease's connection until ctx is done or the lease is
// released, and then returns nil; or until the connection fails, when it
// closes Lost and returns an error. It notices at once a connection the
// server ends, and within two Options.LeaseRetry one that dies silently.
func (l *Lease) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.released, cancel)()
	l.mu.Lock()
	defer l.mu.Unlock()
	for ctx.Err() == nil {
		if err := l.check(ctx); err != nil {
			l.lose()
			l.logger.Error("postgres: lost the sequencer lease", "err", err)
			return fmt.Errorf("postgres: lost the sequencer lease: %w", err)
		}
	}
	return nil
}

// check waits, for up to l.retry, for the server to end the connection,
// which it announces; then it pings the connection, to notice one that
// died without a word. It returns nil if ctx is done meanwhile.
func (l *Lease) check(ctx context.Context) error {
	wait, cancel := context.WithTimeout(ctx, l.retry)
	defer cancel()
	err := l.conn.PgConn().WaitForNotification(wait)
	switch {
	case ctx.Err() != nil:
		return nil
	case wait.Err() == nil:
		return err // nil for a notification, which nobody sends
	}
	ping, cancel := context.WithTimeout(ctx, l.retry)
	defer cancel()
	if err := l.conn.Ping(ping); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// Release gives the lease up: it stops Run, closes Lost, and closes the
// lease's connection, which drops the lock. It may be called more than
// once.
func (l *Lease) Release() {
	l.release()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lose()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.conn.Close(ctx) // its only error is the connection's, which ends anyway
}
