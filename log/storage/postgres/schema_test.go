package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log/storage/postgres/pgtest"
)

// TestMigrationFiles checks the embedded migrations load, and that
// misnumbered files are refused.
func TestMigrationFiles(t *testing.T) {
	if SchemaVersion() < 1 || migrations[0].name != "0001_log.sql" {
		t.Fatalf("SchemaVersion() = %d, first migration %q", SchemaVersion(), migrations[0].name)
	}
	for _, tc := range []struct {
		files []string
		err   string
	}{
		{[]string{"0001_a.sql", "0002_b.sql"}, ""},
		{[]string{"0001_a.sql", "0003_b.sql"}, "want number 0002"},
		{[]string{"0002_a.sql"}, "want number 0001"},
		{[]string{"1_a.sql"}, "NNNN_what.sql"},
		{[]string{"0001a.sql"}, "NNNN_what.sql"},
		{nil, "no migrations"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		_, err := loadMigrations(fsys)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("loadMigrations(%v) = %v, want %q", tc.files, err, tc.err)
		}
	}
}

// TestSchemaVersions opens a schema at each relation of its version to
// this build's: created at the current version; refused, with both
// versions named, when older (until migrated) or newer; refused without
// being created under MustExist. A second migration is added to the
// build for the test, as a later one would be.
func TestSchemaVersions(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	open := func(opts Options) (*Storage, error) {
		opts.Schema = "log"
		s, err := Open(ctx, dsn, opts)
		if err == nil {
			t.Cleanup(func() { s.Close() })
		}
		return s, err
	}
	if _, err := open(Options{MustExist: true}); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("Open(MustExist) of no schema = %v, want ErrNoSchema", err)
	}
	if n := query[int](t, dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'log'"); n != 0 {
		t.Fatal("Open(MustExist) created the schema")
	}
	s, err := open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if from, to := s.Migrated(); from != 0 || to != 1 {
		t.Fatalf("Migrated() = %d, %d; want 0, 1", from, to)
	}
	if v := query[int](t, dsn, "SELECT max(version) FROM log.schema_version"); v != 1 {
		t.Fatalf("schema_version = %d, want 1", v)
	}

	// A build with migration 0002 refuses the schema until it is migrated.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(migrations[:1:1], migration{version: 2, name: "0002_test.sql", sql: "CREATE TABLE extra (x int);"})
	_, err = open(Options{})
	var se *SchemaError
	if !errors.As(err, &se) || se.Have != 1 || se.Want != 2 || !strings.Contains(err.Error(), "version 1") || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("Open of an older schema = %v, want a SchemaError naming versions 1 and 2", err)
	}
	if s, err = open(Options{Migrate: true}); err != nil {
		t.Fatal(err)
	}
	if from, to := s.Migrated(); from != 1 || to != 2 {
		t.Fatalf("Migrated() = %d, %d; want 1, 2", from, to)
	}
	if n := query[int](t, dsn, "SELECT count(*) FROM log.extra"); n != 0 {
		t.Fatal("migration 0002 did not run")
	}
	if _, err := open(Options{MustExist: true}); err != nil {
		t.Fatalf("Open of the migrated schema = %v", err)
	}

	// The build without 0002 refuses the migrated schema.
	migrations = saved
	_, err = open(Options{Migrate: true})
	if !errors.As(err, &se) || se.Have != 2 || se.Want != 1 || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v, want a SchemaError saying it is newer", err)
	}
}

// query returns the single value sql selects.
func query[T any](t *testing.T, dsn, sql string) T {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}
