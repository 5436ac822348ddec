// Package pgtest gives tests the PostgreSQL server they run against, and
// databases of their own on it.
//
// The server is the one named by $PLEDGELOG_TEST_POSTGRES, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (trust
// authentication). Without a server, tests that need it are skipped with
// a message that says so, unless CI=true, which makes them fail: CI must
// not pass by skipping them.
package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server's connection string when
// $PLEDGELOG_TEST_POSTGRES is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server returns the test server's connection string, and why it cannot
// be used.
var server = sync.OnceValues(func() (string, error) {
	dsn := cmp.Or(os.Getenv("PLEDGELOG_TEST_POSTGRES"), DefaultDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return dsn, err
	}
	defer conn.Close(ctx)
	return dsn, conn.Ping(ctx)
})

// Banner prints to stderr, if the server cannot be reached and CI is not
// true, that the package's PostgreSQL tests will be skipped: call it from
// TestMain, so the skip shows even without -v.
func Banner() {
	if dsn, err := server(); err != nil && os.Getenv("CI") != "true" {
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING PostgreSQL tests: no server at %s: %v\n*** set PLEDGELOG_TEST_POSTGRES, or CI=true to make this fatal\n\n", Redacted(dsn), err)
	}
}

// DSN returns the test server's connection string, or skips the test
// with a message, or under CI=true fails it.
func DSN(t testing.TB) string {
	t.Helper()
	dsn, err := server()
	switch {
	case err == nil:
		return dsn
	case os.Getenv("CI") == "true":
		t.Fatalf("no PostgreSQL server at %s: %v (CI=true: the PostgreSQL tests must run)", Redacted(dsn), err)
	}
	t.Skipf("SKIPPING PostgreSQL tests: no server at %s: %v; set PLEDGELOG_TEST_POSTGRES, or CI=true to make this fatal", Redacted(dsn), err)
	return ""
}

// NewDatabase creates a database of the test's own on the test server and
// returns its connection string; the database is dropped, with whatever
// connections are left to it, when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := DSN(t)
	name := "pledgelog_test_" + strings.ToLower(rand.Text()[:12])
	exec(t, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	return WithDatabase(admin, name)
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// WithDatabase returns dsn with its database replaced by name.
func WithDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value: the last setting wins
}

// Redacted hides the password of a URL connection string, and all of a
// key=value one.
func Redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(a key=value connection string)"
}
