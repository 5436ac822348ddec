package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The schema's tables are made by migrations: the files of directory
// migrations, named NNNN_what.sql, numbered from 0001 without gaps, each
// run once, in order, in the transaction that records its number in table
// schema_version. The schema's version is the largest number recorded
// there; SchemaVersion is the number of the last file, the version this
// build reads and writes. To change the schema, add the next file (never
// edit one that was released): Open then refuses a schema that lacks it
// until it is migrated (Options.Migrate, MigrateSchema), and a build that
// does not know it refuses the migrated schema.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations.
type migration struct {
	version int
	name    string // the file name
	sql     string
}

// migrations are the schema's migrations, in order.
var migrations = mustLoadMigrations(migrationFiles)

// mustLoadMigrations reads the migration files of fsys, panicking unless
// they are numbered 1, 2, … without gaps: a build with a misnumbered file
// must not run (every test of the package fails).
func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration // fs.Glob sorts the names
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("postgres: migration %s: want a name NNNN_what.sql", base)
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("postgres: migration %s: want number %04d (the files are numbered from 0001 without gaps)", base, len(ms)+1)
		}
		sql, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(sql)})
	}
	if len(ms) == 0 {
		return nil, errors.New("postgres: no migrations")
	}
	return ms, nil
}

// SchemaVersion is the version of the schema this build reads and writes:
// the number of its last migration.
func SchemaVersion() int { return len(migrations) }

// ErrNoSchema is returned by Open with Options.MustExist for a schema that
// holds no tables of ours: there is no log there.
var ErrNoSchema = errors.New("postgres: no pledgelog schema there")

// A SchemaError is returned by Open for a schema whose version is not
// SchemaVersion: newer (Have > Want), which this build must not write, or
// older, which it must not write before it is migrated.
type SchemaError struct {
	Schema     string
	Have, Want int
}

func (e *SchemaError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("postgres: schema %q is at version %d, newer than this build knows (version %d): run a newer build", e.Schema, e.Have, e.Want)
	}
	return fmt.Sprintf("postgres: schema %q is at version %d, this build needs version %d: migrate it first", e.Schema, e.Have, e.Want)
}

// prepare checks the schema's version and, as opts allow, creates the
// schema or migrates it, returning the version it found (0: no schema).
// It runs in one transaction that holds an advisory lock, so that
// instances starting together neither race to create the same tables nor
// migrate twice.
func (s *Storage) prepare(ctx context.Context, opts Options) (from int, err error) {
	want := SchemaVersion()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", s.schema)); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&known); err != nil {
			return err
		}
		if known {
			if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&from); err != nil {
				return err
			}
		}
		switch {
		case from == want:
			return nil
		case from > want:
			return &SchemaError{Schema: s.schema, Have: from, Want: want}
		case from == 0 && opts.MustExist:
			return fmt.Errorf("%w (schema %q)", ErrNoSchema, s.schema)
		case from > 0 && !opts.Migrate:
			return &SchemaError{Schema: s.schema, Have: from, Want: want}
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version integer PRIMARY KEY,
			name    text NOT NULL,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		for _, m := range migrations[from:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
			s.logger.Info("postgres: applied a schema migration", "schema", s.schema, "migration", m.name)
		}
		return nil
	})
	var se *SchemaError
	if err != nil && !errors.As(err, &se) && !errors.Is(err, ErrNoSchema) {
		err = fmt.Errorf("postgres: preparing schema %q: %w", s.schema, err)
	}
	return from, err
}

// lockKey returns the advisory lock key for purpose in schema. Advisory
// locks are per database, so the key names the schema.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "pledgelog %s\x00%s", purpose, schema)
	return int64(h.Sum64())
}
