package postgres

import (
	"context"
	"errors"
	"fmt"
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
	n := SchemaVersion()
	if from, to := s.Migrated(); from != 0 || to != n {
		t.Fatalf("Migrated() = %d, %d; want 0, %d", from, to, n)
	}
	if v := query[int](t, dsn, "SELECT max(version) FROM log.schema_version"); v != n {
		t.Fatalf("schema_version = %d, want %d", v, n)
	}

	// A build with one more migration refuses the schema until it is
	// migrated.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(migrations[:n:n], migration{version: n + 1, name: fmt.Sprintf("%04d_test.sql", n+1), sql: "CREATE TABLE extra (x int);"})
	_, err = open(Options{})
	var se *SchemaError
	if !errors.As(err, &se) || se.Have != n || se.Want != n+1 || !strings.Contains(err.Error(), fmt.Sprintf("version %d", n)) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", n+1)) {
		t.Fatalf("Open of an older schema = %v, want a SchemaError naming versions %d and %d", err, n, n+1)
	}
	if s, err = open(Options{Migrate: true}); err != nil {
		t.Fatal(err)
	}
	if from, to := s.Migrated(); from != n || to != n+1 {
		t.Fatalf("Migrated() = %d, %d; want %d, %d", from, to, n, n+1)
	}
	if c := query[int](t, dsn, "SELECT count(*) FROM log.extra"); c != 0 {
		t.Fatal("the added migration did not run")
	}
	if _, err := open(Options{MustExist: true}); err != nil {
		t.Fatalf("Open of the migrated schema = %v", err)
	}

	// The build without it refuses the migrated schema.
	migrations = saved
	_, err = open(Options{Migrate: true})
	if !errors.As(err, &se) || se.Have != n+1 || se.Want != n || !strings.Contains(err.Error(), "newer") {
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
