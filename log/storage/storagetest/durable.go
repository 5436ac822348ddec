package storagetest

import (
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// RunDurable runs the conformance suite, each test on a Storage in a new
// directory, and then checks that what was committed survives Close and
// reopening. open must open the Storage kept in dir, creating an empty one
// if dir is empty; the suite closes it.
func RunDurable(t *testing.T, open func(t *testing.T, dir string) log.Storage) {
	Run(t, func(t *testing.T) log.Storage { return open(t, t.TempDir()) })
	tests := []struct {
		name string
		test func(t *testing.T, reopen func() log.Storage)
	}{
		{"ReopenEmpty", testReopenEmpty},
		{"Reopen", testReopen},
		{"ReopenAfterConflict", testReopenAfterConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.test(t, func() log.Storage { return open(t, dir) })
		})
	}
}

func closeStorage(t *testing.T, st log.Storage) {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
}

func testReopenEmpty(t *testing.T, reopen func() log.Storage) {
	s := new(Stream)
	closeStorage(t, reopen())
	st := reopen()
	check(t, st, s, 0)
	commit(t, st, s.Update(0))
	closeStorage(t, st)
	st = opened(t, reopen())
	check(t, st, s, 1)
}

// testReopen reopens the storage several times, each time after a bundle
// has filled up, and goes on committing.
func testReopen(t *testing.T, reopen func() log.Storage) {
	s, n := new(Stream), 0
	for range 3 {
		st := reopen()
		check(t, st, s, n)
		for from := n; n == from || s.Size(n)/bundleSize == s.Size(from)/bundleSize; n++ {
			commit(t, st, s.Update(n))
		}
		check(t, st, s, n)
		closeStorage(t, st)
	}
	check(t, opened(t, reopen()), s, n)
}

func testReopenAfterConflict(t *testing.T, reopen func() log.Storage) {
	s := new(Stream)
	st := reopen()
	commitStream(t, st, s, 0, 5)
	u := s.Update(5)
	u.Prev = s.Checkpoint(4)
	wantConflict(t, "Commit(stale Prev)", st.Commit(t.Context(), u))
	closeStorage(t, st)
	st = opened(t, reopen())
	check(t, st, s, 5)
	commit(t, st, s.Update(5))
	check(t, st, s, 6)
}
