package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// A failed commit leaves the sequencer not knowing what is stored: the
// Storage contract lets a driver fail after the update landed. The
// sequencer never guesses. It reads the stored checkpoint back: the one it
// tried to commit means the batch landed, and the batch is answered as if
// Commit had returned nil; the checkpoint the batch extended means nothing
// landed, and the batch is undone and its tree edge reloaded from storage;
// any other is another sequencer's, and Run stops. While storage does not
// answer, the batch is undone and failed with ErrStorage, appends are
// refused with ErrStorage, and the sequencer asks again with a growing
// delay (up to maxRetryDelay) until it learns the outcome; a batch found
// to have landed then is admitted again, so that the caller's state
// (Config.Admit) holds exactly the committed entries. Then appends resume.
// No step needs an operator.

// maxRetryDelay bounds the wait between two attempts to read the outcome
// of a failed commit.
const maxRetryDelay = time.Second

// errMoved is returned by outcome for a stored checkpoint that is neither
// the batch's nor the one it extended.
var errMoved = fmt.Errorf("%w: stored checkpoint is neither the batch's nor its predecessor", ErrConflict)

// commitFailed handles a commit of b that failed with err; s is the state
// it tried to commit (nil if signing failed). It returns an error only if
// the log must stop, and gives up waiting for storage when stop is closed.
func (l *Log) commitFailed(ctx context.Context, stop <-chan struct{}, b *batch, s *State, err error) error {
	prev := l.latest.Load()
	if errors.Is(err, ErrConflict) {
		b.undo()
		b.fail(ErrStopped)
		return fmt.Errorf("log: committing batch at size %d: %w", b.size, err)
	}
	l.metrics.commitFailures.Inc()
	l.cfg.Logger.Error("commit failed; reading back what was stored", "size", b.size, "err", err)
	landed, rerr := l.outcome(ctx, prev, s)
	switch {
	case rerr == nil && landed:
		l.cfg.Logger.Warn("the failed commit had landed", "size", s.Size)
		l.integrated(b, s)
		b.answer(s)
		return nil
	case rerr == nil:
		b.undo()
		b.fail(fmt.Errorf("%w: %w", ErrStorage, err))
		return nil
	case errors.Is(rerr, ErrConflict), errors.Is(rerr, ErrCorrupt):
		b.undo()
		b.fail(ErrStopped)
		return fmt.Errorf("log: after a failed commit at size %d: %w", b.size, rerr)
	}
	// Refuse appends before answering the batch: a caller told ErrStorage
	// must find the log refusing (Refusing, /readyz) until it resumes.
	l.refuse(fmt.Errorf("%w: %w", ErrStorage, rerr))
	b.undo()
	b.fail(fmt.Errorf("%w: %w", ErrStorage, err))
	return l.awaitStorage(ctx, stop, b, prev, s)
}

// awaitStorage, with appends refused, waits until the outcome of b's
// commit is known and the sequencer's state matches it, asking storage
// again and again. It accepts appends again and returns nil when they
// resume or stop is closed (Run's context is done: ctx itself is never
// cancelled), and returns an error if the log must stop.
func (l *Log) awaitStorage(ctx context.Context, stop <-chan struct{}, b *batch, prev, s *State) error {
	defer l.refuse(nil)
	delay := 10 * time.Millisecond
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for attempt := 1; ; attempt++ {
		select {
		case <-stop:
			return nil
		case <-timer.C:
		}
		landed, err := l.outcome(ctx, prev, s)
		if err == nil && landed {
			if err := l.readmit(ctx, b); err != nil {
				return err
			}
			l.integrated(b, s)
		}
		switch {
		case err == nil:
			l.cfg.Logger.Info("storage answers again; appends resume", "landed", landed, "attempts", attempt)
			return nil
		case errors.Is(err, ErrConflict), errors.Is(err, ErrCorrupt):
			return fmt.Errorf("log: after a failed commit at size %d: %w", b.size, err)
		}
		if attempt == 1 || attempt%100 == 0 {
			l.cfg.Logger.Error("storage still failing; appends refused", "attempts", attempt, "err", err)
		}
		delay = min(2*delay, maxRetryDelay)
		timer.Reset(delay)
	}
}

// outcome reads the stored checkpoint and reports whether it is s's (the
// commit landed) or prev's (it did not); if it did not, it reloads the
// tree's edge at prev, which the failed batch had moved.
func (l *Log) outcome(ctx context.Context, prev, s *State) (landed bool, err error) {
	cp, err := l.cfg.Storage.Checkpoint(ctx)
	switch {
	case err != nil:
		return false, err
	case s != nil && bytes.Equal(cp, s.Checkpoint):
		return true, nil
	case !bytes.Equal(cp, prev.Checkpoint):
		return false, errMoved
	}
	t, err := loadTree(ctx, l.cfg.Storage, prev.Size, prev.Root)
	if err != nil {
		return false, err
	}
	l.tree = t
	return false, nil
}

// readmit admits again, in index order, the entries of b, which landed
// after all but had been undone.
func (l *Log) readmit(ctx context.Context, b *batch) error {
	if l.cfg.Admit == nil {
		return nil
	}
	for i, e := range b.added {
		if _, err := l.cfg.Admit(ctx, b.size+uint64(i), e); err != nil {
			return fmt.Errorf("log: admitting again entry %d, which landed: %w: %w", b.size+uint64(i), ErrCorrupt, err)
		}
	}
	return nil
}

// refuse makes enqueue fail with err (nil: accept appends again) and fails
// the pending requests with it.
func (l *Log) refuse(err error) {
	l.mu.Lock()
	l.refusing = err
	p := l.pool
	if err != nil {
		l.pool = newPool()
	}
	l.mu.Unlock()
	if err == nil {
		return
	}
	for _, r := range p.reqs {
		r.fail(err)
	}
}

// undo calls the undos of b's admitted entries, latest first.
func (b *batch) undo() {
	for i := len(b.undos) - 1; i >= 0; i-- {
		b.undos[i]()
	}
}

// fail answers every request of b with err.
func (b *batch) fail(err error) {
	for _, r := range b.reqs {
		r.fail(err)
	}
}
