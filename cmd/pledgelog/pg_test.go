package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log/storage/postgres"
	"github.com/pledgelog/pledgelog/log/storage/postgres/pgtest"
)

// pgInit makes a demo log on a new test database, with the connection
// string in the environment; it returns the data directory, the
// environment that names the database, the DSN and the log's vkey.
func pgInit(t *testing.T, seed string) (dataDir, []string, string, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	env := []string{dsnEnv + "=" + dsn}
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	code, stdout, stderr := pledgelog(t, env, "init", "--storage", "postgres", "--data", string(d),
		"--origin", pgOrigin, "--demo", "--demo-seed", seed)
	if code != 0 {
		t.Fatalf("init --storage postgres = %d: %s", code, stderr)
	}
	_, vkey, _ := strings.Cut(stdout, "vkey: ")
	return d, env, dsn, strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])
}

const pgOrigin = "example.com/pg-test"

// pgExec runs statements on the database of dsn.
func pgExec(t *testing.T, dsn string, sqls ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range sqls {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestPostgresInitServe makes a demo log on PostgreSQL and serves it, with
// the connection string from the environment, then from a file (through
// a multi-host DSN whose first host refuses connections); the data
// directory holds the keys and no store; a DSN file others can read, a
// missing DSN and a --storage that contradicts the data directory are
// refused.
func TestPostgresInitServe(t *testing.T) {
	d, env, dsn, vkey := pgInit(t, "pg init serve")
	if _, err := os.Stat(d.db()); err == nil {
		t.Errorf("init --storage postgres made %s", d.db())
	}
	if c, err := d.readStorage(); err != nil || c.kind != kindPostgres {
		t.Fatalf("storage file: %+v, %v", c, err)
	}
	s := startServeEnv(t, d, env)
	if size := checkpointSize(t, s.url, vkey); size != "172" {
		t.Errorf("served checkpoint size %s, want the demo's 172", size)
	}
	s.stop(t)

	// A multi-host DSN, passed to pgx unchanged: port 1 refuses, the
	// second host is the server.
	multi := strings.Replace(dsn, "127.0.0.1:5432", "127.0.0.1:1,127.0.0.1:5432", 1)
	if multi == dsn {
		t.Fatalf("cannot make a multi-host DSN of %s", pgtest.Redacted(dsn))
	}
	multi += "&target_session_attrs=read-write"
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(multi+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServeEnv(t, d, nil, "--postgres-dsn-file", dsnFile)
	if size := checkpointSize(t, s.url, vkey); size != "172" {
		t.Errorf("served through the multi-host DSN: checkpoint size %s, want 172", size)
	}
	s.stop(t)

	os.Chmod(dsnFile, 0o644)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"no DSN", nil, nil, 2, dsnEnv},
		{"readable DSN file", nil, []string{"--postgres-dsn-file", dsnFile}, 2, "chmod 600"},
		{"--storage pebble", env, []string{"--storage", "pebble"}, 2, "stored in postgres"},
		{"a database without a log", []string{dsnEnv + "=" + pgtest.NewDatabase(t)}, nil, 2, "holds no pledgelog log"},
	} {
		args := append([]string{"serve", "--data", string(d), "--listen", "127.0.0.1:0"}, tc.args...)
		code, _, stderr := pledgelog(t, tc.env, args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve, %s: exit %d, stderr %q; want %d and %q", tc.name, code, stderr, tc.code, tc.want)
		}
	}
	code, _, stderr := pledgelog(t, env, "backup", "--data", string(d), "--out", filepath.Join(t.TempDir(), "backup"))
	if code != 2 || !strings.Contains(stderr, "is on PostgreSQL") {
		t.Errorf("backup of a log on PostgreSQL: exit %d, %s; want 1 and a pointer to the database's tools", code, stderr)
	}
	code, _, stderr = pledgelog(t, env, "init", "--storage", "postgres", "--data", filepath.Join(t.TempDir(), "again"),
		"--origin", pgOrigin, "--demo")
	if code != 2 || !strings.Contains(stderr, "already holds a log") {
		t.Errorf("init on a database that holds a log: exit %d, %s", code, stderr)
	}
}

// TestPostgresSchemaVersion makes the log's schema as an older build left
// it (the last migration undone) and as a newer one would (a version
// recorded beyond this build's): serve refuses both, naming the versions
// and what to run; migrate-schema brings the older one to this build's
// version, and serve then serves it.
func TestPostgresSchemaVersion(t *testing.T) {
	d, env, dsn, vkey := pgInit(t, "pg schema version")
	want := postgres.SchemaVersion()
	if want != 3 {
		t.Fatalf("SchemaVersion %d: this test undoes migration 0003; update it", want)
	}
	serve := func() (int, string) {
		code, _, stderr := pledgelog(t, env, "serve", "--data", string(d), "--listen", "127.0.0.1:0")
		return code, stderr
	}
	pgExec(t, dsn, "INSERT INTO pledgelog.schema_version (version, name) VALUES (99, '0099_future.sql')")
	if code, stderr := serve(); code != 2 || !strings.Contains(stderr, fmt.Sprintf("version 99, newer than this pledgelog knows (versions 1 to %d)", want)) {
		t.Errorf("serve on a newer schema: exit %d, %s", code, stderr)
	}
	pgExec(t, dsn, "DELETE FROM pledgelog.schema_version WHERE version >= 3",
		"DROP TABLE pledgelog.once, pledgelog.buckets")
	if code, stderr := serve(); code != 2 || !strings.Contains(stderr, "at version 2, this pledgelog needs version 3") ||
		!strings.Contains(stderr, "pledgelog migrate-schema --data "+string(d)) {
		t.Errorf("serve on an older schema: exit %d, %s", code, stderr)
	}
	code, stdout, stderr := pledgelog(t, env, "migrate-schema", "--data", string(d))
	if code != 0 || !strings.Contains(stdout, "from version 2 to 3") {
		t.Fatalf("migrate-schema = %d: %s%s", code, stdout, stderr)
	}
	code, stdout, _ = pledgelog(t, env, "migrate-schema", "--data", string(d))
	if code != 0 || !strings.Contains(stdout, "nothing to do") {
		t.Errorf("migrate-schema again = %d: %s", code, stdout)
	}
	s := startServeEnv(t, d, env)
	if size := checkpointSize(t, s.url, vkey); size != "172" {
		t.Errorf("after migrate-schema: checkpoint size %s, want 172", size)
	}
	s.stop(t)
}
