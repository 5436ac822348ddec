// Package postgres implements log.Storage on PostgreSQL, through pgx: the
// storage for a log served by several instances sharing one database.
//
// # Guarantees
//
// Commit writes an Update in one transaction. It starts by locking the
// single row of table checkpoint (SELECT … FOR UPDATE) and fails with
// log.ErrConflict, rolling back, unless that row holds u.Prev; it then
// writes everything in one pipelined batch of statements and ends by
// swapping the checkpoint row from u.Prev to u.Checkpoint. Two sequencers
// that overlap, in one process or in many, are therefore serialised on the
// row lock, and the second one to commit sees the first one's checkpoint
// and gets log.ErrConflict: the log cannot fork.
//
// Every connection runs with synchronous_commit = on, whatever the
// server's default, so that when Commit returns nil the transaction's WAL
// has been flushed (and, if the server names synchronous standbys, flushed
// by them too). Open logs a warning if the server runs with fsync off,
// which no setting of ours can make durable.
//
// Every read is a single statement, which PostgreSQL runs on one snapshot:
// readers see whole Updates or none of them.
//
// # Schema
//
// Open creates, if missing, a schema (Options.Schema, default "pledgelog")
// holding these tables, in one transaction serialised by an advisory lock,
// so that any number of instances may start at once. The tables are made
// by versioned migrations embedded in the package (directory migrations,
// see schema.go), whose numbers table schema_version records; Open refuses
// a schema of another version than SchemaVersion with a *SchemaError,
// unless Options.Migrate lets it migrate an older one. Tree sizes, tile and
// bundle numbers are bigints, and Commit refuses larger ones; a dedup idx
// holds the bits of its uint64 index, which is only ever read back.
//
//	checkpoint  (one bool PK, note bytea)            the latest signed checkpoint:
//	                                                 one row, note NULL until the
//	                                                 first Commit
//	checkpoints (size bigint PK, note bytea)         checkpoint of each tree size
//	tiles       (level smallint, n bigint,           widest version of each
//	             hashes bytea, PK (level, n))        hash tile
//	bundles     (n bigint, start int, full bool,     full entry bundles (start 0,
//	             data bytea, PK (n, start))          full) and chunks of open ones
//	dedup       (key bytea PK, idx bigint)           dedup key → entry index
//	rows        (tbl bytea, key bytea, value bytea,  derived rows
//	             PK (tbl, key))
//	queue       (id bigserial PK, seen bigint,       requests appended on any
//	             n int, entries, keys bytea[],       instance, not yet sequenced
//	             found bigint[])
//	answers     (id bigint PK, size bigint,          their outcomes, until the
//	             results bytea, err text,            instance that queued them
//	             err_entry int, at timestamptz)      reads them
//
// Table names of derived rows are bytea, not text, because a log.Row's
// Table is any string of bytes and PostgreSQL's text holds neither NUL nor
// invalid UTF-8. bytea compares bytewise, shorter first on a common prefix,
// so a scan of rows in key order is in bytewise order. A full bundle
// replaces its chunks: the transaction that writes it deletes them. Bundle
// data and tiles are stored out of line and uncompressed (STORAGE
// EXTERNAL): they are hashes and signed entries, which do not compress.
//
// # Sequencer lease
//
// Only one instance should sequence at a time. Storage.Lease takes a
// session advisory lock, keyed by the schema, on a connection of its own
// (never one of the pool), and Lease.Run watches that connection: the
// lease is lost, and Lost closed, the moment the connection fails, since
// the server then drops the lock and another instance may take it. An
// instance that waits for the lease waits in the server's queue of lock
// waiters, so the lease passes in the order asked, and at once.
//
// # Several instances
//
// Storage is a log.Shared, and a log.Log over it runs as one of several
// instances (see log/shared.go): Enqueue inserts a request into table
// queue and notifies the leader, in one statement; the leader (Lead, the
// lease) reads the queue in id order; its Commit also deletes the requests
// it sequenced, inserts their answers and notifies every instance, in the
// same transaction; Answers reads and deletes the answers an instance
// waits for, with the checkpoint of each (and deletes them at its next
// call, once they were received). Watch listens, on a connection of
// its own, to the schema's two channels (LISTEN/NOTIFY), and its callers
// poll besides, so that a notification lost while it reconnects delays an
// answer and loses nothing. Answers nobody came for are deleted after ten
// minutes.
//
// Once Lead took the lease, Commit checks, after locking the checkpoint
// row, that the lease's connection still holds the advisory lock (in
// pg_locks), and fails with log.ErrLeaseLost otherwise; Lead itself,
// having taken the lock, waits for the checkpoint row, so that any commit
// of the previous holder that passed that check has ended before the new
// leader reads the checkpoint. So a leader whose lease connection was cut
// commits nothing more, even before it notices, and the new leader
// extends the last commit of the old one. The compare-and-swap of Commit,
// not the lease, is what keeps the log from forking whatever happens; the
// lease keeps instances from wasting work on conflicts.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pledgelog/pledgelog/log"
)

// minPoolConns is the least size of a Storage's pool, unless the
// connection string sets pool_max_conns.
const minPoolConns = 16

// Options configures a Storage. The zero value is ready to use.
type Options struct {
	// Logger receives warnings about the server's configuration and the
	// lease. Nil discards them.
	Logger *slog.Logger
	// Schema is the PostgreSQL schema holding the log's tables; "" means
	// "pledgelog". Several logs can share a database in several schemas.
	Schema string
	// LeaseRetry is how often Lease.Run checks that an idle lease
	// connection is still alive, and how long Watch waits before it
	// reconnects; 0 means one second.
	LeaseRetry time.Duration
	// MustExist makes Open fail with ErrNoSchema, creating nothing, if the
	// schema holds no tables of ours: a server must not create a log's
	// tables in a database it was pointed at by mistake.
	MustExist bool
	// Migrate lets Open apply the migrations that an existing schema of an
	// older version lacks. Without it, Open refuses such a schema.
	Migrate bool
}

// Storage is a log.Storage kept in a PostgreSQL schema.
type Storage struct {
	pool   *pgxpool.Pool
	lease  *pgx.ConnConfig // for the dedicated connection of a Lease
	schema string
	logger *slog.Logger
	retry  time.Duration
	from   int // the schema version Open found, 0 if it created the schema

	// fence is the lease that Lead took last: while it is set, Commit
	// requires it held.
	fence   atomic.Pointer[Lease]
	commits atomic.Uint64
	uses    atomic.Uint64 // of UseOnce

	// forget holds the ids of the answers that Answers returned, which
	// its next call deletes.
	forgetMu sync.Mutex
	forget   []int64
}

var _ log.Storage = (*Storage)(nil)

// Open connects to the database named by dsn (a URL or key=value string,
// as pgx parses them, including several hosts and target_session_attrs),
// creates the schema and its tables if missing (unless Options.MustExist),
// checks the schema's version (see Options.Migrate), and returns a Storage
// over a pool of connections. Whether the schema holds a log is for
// Checkpoint to say.
func Open(ctx context.Context, dsn string, opts Options) (*Storage, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parsing connection string: %w", err)
	}
	tune(&cfg.ConnConfig.Config)
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default, the number of CPUs but at least 4, is too
		// few for an instance whose every waiting write, sequencer and
		// follower share the pool: writes queued for a connection.
		cfg.MaxConns = max(cfg.MaxConns, minPoolConns)
	}
	params := cfg.ConnConfig.RuntimeParams
	params["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	params["synchronous_commit"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	s := &Storage{pool: pool, lease: cfg.ConnConfig.Copy(), schema: opts.Schema, logger: opts.Logger, retry: opts.LeaseRetry}
	if s.from, err = s.prepare(ctx, opts); err != nil {
		pool.Close()
		return nil, err
	}
	s.checkServer(ctx)
	return s, nil
}

// Migrated returns the schema version Open found (0 if it created the
// schema) and the one it left, SchemaVersion.
func (s *Storage) Migrated() (from, to int) { return s.from, SchemaVersion() }

// Schema returns the name of the storage's schema.
func (s *Storage) Schema() string { return s.schema }

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Schema == "" {
		o.Schema = "pledgelog"
	}
	if o.LeaseRetry <= 0 {
		o.LeaseRetry = time.Second
	}
	return o
}

// checkServer warns about server settings under which a committed Update
// is not durable.
func (s *Storage) checkServer(ctx context.Context) {
	var fsync string
	if err := s.pool.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		s.logger.Warn("postgres: cannot read the server's fsync setting", "err", err)
	} else if fsync != "on" {
		s.logger.Warn("postgres: the server runs with fsync off: committed entries may be lost in a crash", "fsync", fsync)
	}
}

// Close implements log.Storage. It waits for queries in progress and closes
// the pool's connections; leases have connections of their own.
func (s *Storage) Close() error {
	s.pool.Close()
	return nil
}
