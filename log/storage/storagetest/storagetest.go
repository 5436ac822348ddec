// Package storagetest is the conformance suite for implementations of
// log.Storage. Every driver runs it from its tests:
//
//	func TestStorage(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) log.Storage { return memory.New() })
//	}
//
// Run pins down each promise of the log.Storage documentation: what an empty
// Storage returns, the compare-and-swap of Commit and that a refused Commit
// changes nothing, the history of checkpoints, hash tiles replaced by wider
// versions, entry bundles made of chunks and replaced by full bundles, the
// dedup index, derived rows and their tables, that no returned slice is
// aliased to the storage's own buffers nor any slice of a committed Update
// retained by it, and that concurrent readers never observe a partial Update.
// RunDurable adds, for drivers that keep their data in a directory, that
// everything committed survives Close and reopening.
//
// Stream, the deterministic sequence of log-shaped Updates the suite
// commits, is exported so that drivers can build their own crash and load
// tests on it.
package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// Run runs the conformance suite. open must return a new, empty Storage on
// each call; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) log.Storage) {
	tests := []struct {
		name string
		test func(t *testing.T, st log.Storage)
	}{
		{"Empty", testEmpty},
		{"Create", testCreate},
		{"Chain", testChain},
		{"Conflict", testConflict},
		{"CheckpointHistory", testCheckpointHistory},
		{"HashTiles", testHashTiles},
		{"EntryBundles", testEntryBundles},
		{"Dedup", testDedup},
		{"Rows", testRows},
		{"Tables", testTables},
		{"UpdateNotRetained", testUpdateNotRetained},
		{"ResultsNotAliased", testResultsNotAliased},
		{"ConcurrentReads", testConcurrentReads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, opened(t, open(t)))
		})
	}
}

// opened arranges for st to be closed at the end of the test.
func opened(t *testing.T, st log.Storage) log.Storage {
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return st
}

func commit(t *testing.T, st log.Storage, u *log.Update) {
	t.Helper()
	if err := st.Commit(t.Context(), u); err != nil {
		t.Fatalf("Commit(size %d) = %v", u.Size, err)
	}
}

// commitStream commits batches [from, to) of s.
func commitStream(t *testing.T, st log.Storage, s *Stream, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		commit(t, st, s.Update(i))
	}
}

func check(t *testing.T, st log.Storage, s *Stream, n int) {
	t.Helper()
	if err := s.Check(t.Context(), st, n); err != nil {
		t.Fatal(err)
	}
}

// A chain commits hand-made Updates, filling in Prev, Checkpoint and Size.
type chain struct {
	st   log.Storage
	prev []byte
	size uint64
}

// commit commits u at tree size size.
func (c *chain) commit(t *testing.T, size uint64, u log.Update) {
	t.Helper()
	u.Prev, u.Size = c.prev, size
	u.Checkpoint = checkpointFor(size)
	commit(t, c.st, &u)
	c.prev, c.size = u.Checkpoint, size
}

func checkpointFor(size uint64) []byte {
	return fmt.Appendf(nil, "checkpoint\n%d\n", size)
}

// wantBytes fails t unless a read returned want, or ErrNotFound for nil.
func wantBytes(t *testing.T, call string, got []byte, err error, want []byte) {
	t.Helper()
	if err := match(call, got, err, want); err != nil {
		t.Error(err)
	}
}

func wantConflict(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, log.ErrConflict) {
		t.Fatalf("%s = %v, want ErrConflict", call, err)
	}
}

// scribble overwrites b up to its capacity, as a careless caller might.
func scribble(b []byte) {
	b = b[:cap(b)]
	for i := range b {
		b[i] = 0xa5
	}
}
