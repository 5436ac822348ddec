package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log/storage/postgres"
)

// TestLeaseHandover checks that a second instance waits for the lease
// until the first releases it.
func TestLeaseHandover(t *testing.T) {
	schema := newSchema(t)
	first := lease(t, open(t, schema))
	done := make(chan error, 1)
	go func() { done <- first.Run(t.Context()) }()
	second := make(chan *postgres.Lease, 1)
	go func() { second <- lease(t, open(t, schema)) }()
	select {
	case <-second:
		t.Fatal("second Lease() returned while the first lease is held")
	case <-time.After(300 * time.Millisecond):
	}
	first.Release()
	if err := <-done; err != nil {
		t.Errorf("Run() after Release() = %v, want nil", err)
	}
	select {
	case <-first.Lost():
	default:
		t.Error("Lost() not closed after Release()")
	}
	select {
	case l := <-second:
		l.Release()
	case <-time.After(5 * time.Second):
		t.Fatal("second Lease() still waiting 5s after the first was released")
	}
}

// TestLeaseWait checks that Lease gives up when its context is done, and
// that a stopped Run leaves the lease held.
func TestLeaseWait(t *testing.T) {
	schema := newSchema(t)
	first := lease(t, open(t, schema))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := first.Run(ctx); err != nil {
		t.Errorf("Run(canceled) = %v, want nil", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if l, err := open(t, schema).Lease(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lease() while held = %v, %v; want DeadlineExceeded", l, err)
	}
	select {
	case <-first.Lost():
		t.Error("Lost() closed, but the lease is held")
	default:
	}
}

// TestLeaseLost kills the lease's connection on the server, and checks
// that Lost closes at once and that another instance takes the lease.
func TestLeaseLost(t *testing.T) {
	schema := newSchema(t)
	l := lease(t, open(t, schema))
	done := make(chan error, 1)
	go func() { done <- l.Run(t.Context()) }()
	time.Sleep(50 * time.Millisecond) // let Run start waiting
	killed := time.Now()
	terminate(t, l.PID())
	select {
	case <-l.Lost():
		t.Logf("Lost() closed %v after pg_terminate_backend", time.Since(killed))
	case <-time.After(5 * time.Second):
		t.Fatal("Lost() not closed 5s after pg_terminate_backend")
	}
	if err := <-done; err == nil {
		t.Error("Run() = nil after the connection was killed, want an error")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	next, err := open(t, schema).Lease(ctx)
	if err != nil {
		t.Fatalf("Lease() after the holder was killed = %v", err)
	}
	next.Release()
}

func lease(t *testing.T, st *postgres.Storage) *postgres.Lease {
	l, err := st.Lease(t.Context())
	if err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(l.Release)
	return l
}

// terminate ends server process pid, as an operator or a failover would.
func terminate(t *testing.T, pid uint32) {
	conn, err := pgx.Connect(t.Context(), dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var ok bool
	if err := conn.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
}
