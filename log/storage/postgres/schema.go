package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// tables creates the schema's tables if missing, in the schema that
// search_path names. Running it again changes nothing.
const tables = `
CREATE TABLE IF NOT EXISTS checkpoint (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	note bytea
);
INSERT INTO checkpoint (one, note) VALUES (true, NULL) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS checkpoints (
	size bigint PRIMARY KEY,
	note bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS tiles (
	level  smallint,
	n      bigint,
	hashes bytea NOT NULL,
	PRIMARY KEY (level, n)
);
ALTER TABLE tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS bundles (
	n      bigint,
	start  integer,
	"full" boolean NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (n, start)
);
ALTER TABLE bundles ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE IF NOT EXISTS dedup (
	key bytea PRIMARY KEY,
	idx bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
	tbl   bytea,
	key   bytea,
	value bytea NOT NULL,
	PRIMARY KEY (tbl, key)
);
CREATE TABLE IF NOT EXISTS queue (
	id      bigserial PRIMARY KEY,
	seen    bigint NOT NULL,
	n       integer NOT NULL,
	entries bytea[] NOT NULL,
	keys    bytea[] NOT NULL,
	found   bigint[] NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
	id        bigint PRIMARY KEY,
	size      bigint NOT NULL,
	results   bytea NOT NULL,
	err       text NOT NULL,
	err_entry integer NOT NULL,
	at        timestamptz NOT NULL DEFAULT now()
);
`

// migrate creates the schema and its tables if missing, in one transaction
// that holds an advisory lock, so that instances starting together do not
// race to create the same tables.
func (s *Storage) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", s.schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, tables)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: creating schema %q: %w", s.schema, err)
	}
	return nil
}

// lockKey returns the advisory lock key for purpose in schema. Advisory
// locks are per database, so the key names the schema.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "pledgelog %s\x00%s", purpose, schema)
	return int64(h.Sum64())
}
