package postgres_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
	"github.com/pledgelog/pledgelog/log/storage/postgres/pgtest"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// The tests run against the server pgtest names, each in a schema of its
// own that it drops at the end. Without a server they are skipped, loudly,
// unless CI=true, which makes them fail.
func TestMain(m *testing.M) {
	pgtest.Banner()
	os.Exit(m.Run())
}

// dsn returns the test server's connection string, or skips the test
// loudly, or under CI=true fails it.
func dsn(t testing.TB) string { t.Helper(); return pgtest.DSN(t) }

// newSchema returns the name of a new schema, dropped at the end of the
// test.
func newSchema(t testing.TB) string {
	schema := "pledgelog_test_" + strings.ToLower(rand.Text()[:12])
	dsn := dsn(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a Storage on schema, closed at the end of the test.
func open(t testing.TB, schema string) *postgres.Storage {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn(t), postgres.Options{Schema: schema, LeaseRetry: 250 * time.Millisecond}) // a ping must not time out on a loaded CI machine
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStorage runs the conformance suite, Run and the reopening tests of
// RunDurable, with a schema for each of RunDurable's directories.
func TestStorage(t *testing.T) {
	schemas := map[string]string{} // directory → schema
	storagetest.RunDurable(t, func(t *testing.T, dir string) log.Storage {
		if schemas[dir] == "" {
			schemas[dir] = newSchema(t)
		}
		return open(t, schemas[dir])
	})
}

// TestOpenTwice checks that opening an existing schema changes nothing,
// even from two instances at once.
func TestOpenTwice(t *testing.T) {
	schema := newSchema(t)
	s := new(storagetest.Stream)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { open(t, schema) })
	}
	wg.Wait()
	if err := open(t, schema).Commit(t.Context(), s.Update(0)); err != nil {
		t.Fatalf("Commit(first) = %v", err)
	}
	if err := s.Check(t.Context(), open(t, schema), 1); err != nil {
		t.Fatal(err)
	}
}
