// Package faulty wraps a log.Storage in one that fails on demand, for
// tests of what the log engine and the server do when their storage fails.
//
// A Storage passes every call to the storage it wraps until a fault is set.
// A commit fault makes Commit fail in one of two ways: Before, without
// writing anything (a write the disk refused), or After, once the inner
// Commit succeeded (a write that landed but whose acknowledgement was
// lost), which is the case a caller can least tell from the first; with
// down set, each failed commit also makes every read fail from then on, as
// a disk that went away does. A read fault makes every read fail. Heal
// clears every fault. Each injected
// failure is counted, so that a test can say how many it survived.
//
// Failures wrap ErrInjected, which is neither log.ErrConflict nor
// log.ErrNotFound: to the log it is an I/O error of unknown extent.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/log"
)

// ErrInjected is the error every injected failure wraps.
var ErrInjected = errors.New("faulty: injected storage failure")

// Commit faults.
const (
	// None passes commits through.
	None CommitFault = iota
	// Before fails a commit without writing it.
	Before
	// After writes a commit, then fails it.
	After
)

// CommitFault says how Commit fails.
type CommitFault int

// Storage is a log.Storage that fails on demand. It is safe for concurrent
// use; faults may be set and cleared while the log runs.
type Storage struct {
	inner log.Storage

	mu     sync.Mutex
	commit CommitFault
	reads  bool
	every  int  // fail one commit in every, 0 meaning each
	down   bool // a failed commit sets reads
	calls  int  // commits seen while a fault with every > 0 is set

	commits  atomic.Int64 // commits attempted
	injected atomic.Int64 // commit failures injected
	landed   atomic.Int64 // of those, After failures whose write landed
	readErrs atomic.Int64 // read failures injected
}

var _ log.Storage = (*Storage)(nil)

// New wraps inner, passing everything through.
func New(inner log.Storage) *Storage { return &Storage{inner: inner} }

// FailCommits makes commits fail with f (None: succeed). With every > 1,
// only one commit in every fails, the others go through. With down, the
// first failed commit also makes every read fail, until Heal.
func (s *Storage) FailCommits(f CommitFault, every int, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commit, s.every, s.calls, s.down = f, every, 0, down
}

// FailReads makes every read fail, or none.
func (s *Storage) FailReads(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = fail
}

// Heal clears every fault.
func (s *Storage) Heal() {
	s.FailCommits(None, 0, false)
	s.FailReads(false)
}

// Stats counts what the Storage did.
type Stats struct {
	Commits  int64 // commits attempted
	Injected int64 // commits failed on purpose
	Landed   int64 // of those, the After failures: written, then failed
	Reads    int64 // reads failed on purpose
}

// Stats returns the counts so far.
func (s *Storage) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Injected: s.injected.Load(), Landed: s.landed.Load(), Reads: s.readErrs.Load()}
}

// commitFault returns the fault for the commit being made.
func (s *Storage) commitFault() CommitFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commit == None {
		return None
	}
	s.calls++
	if s.every > 1 && s.calls%s.every != 0 {
		return None
	}
	s.reads = s.reads || s.down
	return s.commit
}

func (s *Storage) readFault(what string) error {
	s.mu.Lock()
	fail := s.reads
	s.mu.Unlock()
	if !fail {
		return nil
	}
	s.readErrs.Add(1)
	return fmt.Errorf("%s: %w", what, ErrInjected)
}

// Commit implements log.Storage.
func (s *Storage) Commit(ctx context.Context, u *log.Update) error {
	s.commits.Add(1)
	switch s.commitFault() {
	case Before:
		s.injected.Add(1)
		return fmt.Errorf("commit of size %d refused: %w", u.Size, ErrInjected)
	case After:
		if err := s.inner.Commit(ctx, u); err != nil {
			return err
		}
		s.injected.Add(1)
		s.landed.Add(1)
		return fmt.Errorf("commit of size %d written, then: %w", u.Size, ErrInjected)
	}
	return s.inner.Commit(ctx, u)
}

// Checkpoint implements log.Storage.
func (s *Storage) Checkpoint(ctx context.Context) ([]byte, error) {
	if err := s.readFault("checkpoint"); err != nil {
		return nil, err
	}
	return s.inner.Checkpoint(ctx)
}

// CheckpointAt implements log.Storage.
func (s *Storage) CheckpointAt(ctx context.Context, size uint64) ([]byte, error) {
	if err := s.readFault("checkpoint"); err != nil {
		return nil, err
	}
	return s.inner.CheckpointAt(ctx, size)
}

// Checkpoints implements log.Storage.
func (s *Storage) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	if err := s.readFault("checkpoints"); err != nil {
		return nil, err
	}
	return s.inner.Checkpoints(ctx, before, limit)
}

// HashTile implements log.Storage.
func (s *Storage) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	if err := s.readFault("hash tile"); err != nil {
		return nil, err
	}
	return s.inner.HashTile(ctx, level, n)
}

// EntryBundle implements log.Storage.
func (s *Storage) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	if err := s.readFault("entry bundle"); err != nil {
		return nil, err
	}
	return s.inner.EntryBundle(ctx, n)
}

// Dedup implements log.Storage.
func (s *Storage) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	if err := s.readFault("dedup"); err != nil {
		return nil, err
	}
	return s.inner.Dedup(ctx, keys)
}

// Rows implements log.Storage.
func (s *Storage) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	if err := s.readFault("rows"); err != nil {
		return nil, err
	}
	return s.inner.Rows(ctx, table, start, end, limit)
}

// Close implements log.Storage.
func (s *Storage) Close() error { return s.inner.Close() }
