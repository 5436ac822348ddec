package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

// Several instances of a log (processes, usually on several machines) can
// share one Storage that implements Shared, such as the PostgreSQL driver's.
// Every instance serves reads and takes appends; one at a time sequences.
//
//   - An append is durable before its instance waits for it: Prepared.Append
//     stores the request, with what its dedup lookup found, in the storage's
//     queue (Shared.Enqueue), and waits for its answer.
//   - The instance that holds the sequencer lease (Shared.Lead) takes
//     queued requests in order, sequences them as Run does alone, and
//     commits the batch's answers, and the removal of its requests from the
//     queue, in the batch's Commit. Commit refuses a batch once the lease
//     is lost, and its compare-and-swap refuses one that does not extend
//     the stored checkpoint, so two instances that both believe they lead
//     cannot fork the log.
//   - Every instance learns of commits (Shared.Watch), reads the answers of
//     its own waiting requests (Shared.Answers) and answers their callers;
//     one that does not lead follows the log: it checks the new checkpoint
//     with its keys, replays the new entries through Config.Follow, so that
//     its caller's state (a registry) keeps up, and makes it its latest.
//   - When the leader fails, its lease ends with its connection, another
//     instance takes it, reloads the tree from storage and sequences the
//     queue from where it stands. Waiting appends are not failed: their
//     requests are in the queue, and the new leader answers them.
//
// Run detects a Shared storage and runs this way by itself.

// Shared is a Storage that several instances share.
type Shared interface {
	Storage
	// Enqueue stores q durably in the queue and returns its id, larger
	// than any id it returned before. q.ID is ignored.
	Enqueue(ctx context.Context, q *Queued) (uint64, error)
	// Queued returns the oldest queued requests, in id order, holding at
	// most max entries together (but at least one request, if any).
	Queued(ctx context.Context, max int) ([]*Queued, error)
	// Answers returns the answers committed for the given ids (those
	// committed so far, with the checkpoint of their Size); the storage
	// forgets an answer once it was returned (it may do so at a later
	// call, never before the answer reached the caller), and the caller
	// asks again for none it got.
	Answers(ctx context.Context, ids []uint64) ([]Answer, error)
	// Lead waits until this instance holds the sequencer lease, until ctx
	// is done. While the lease is held, the Storage's Commit is refused
	// with ErrLeaseLost once the lease is lost.
	Lead(ctx context.Context) (Lease, error)
	// Watch calls committed after every Commit of any instance and
	// queued after every Enqueue of any instance, until ctx is done; and
	// both whenever it may have missed some (at start, after a reconnect).
	// It returns when ctx is done.
	Watch(ctx context.Context, committed, queued func()) error
}

// Lease is the sequencer lease of a Shared storage.
type Lease interface {
	// Run watches the lease until ctx is done or the lease is lost.
	Run(ctx context.Context) error
	// Lost is closed once the lease is not held.
	Lost() <-chan struct{}
	// Release gives the lease up.
	Release()
}

// Queued is a request in a Shared storage's queue: entries appended as one
// unit, with what the appender's dedup lookup found for each.
type Queued struct {
	ID      uint64
	Seen    uint64 // the committed tree size the lookup saw
	Entries []QueuedEntry
}

// QueuedEntry is one entry of a Queued request.
type QueuedEntry struct {
	Data, Key []byte
	// Found and Index are what the dedup lookup found.
	Found bool
	Index uint64
}

// Answer is the outcome of a Queued request, committed with the batch that
// sequenced it.
type Answer struct {
	ID uint64
	// Size is the tree size of the checkpoint that answers the request;
	// Checkpoint (filled by Shared.Answers) is that signed checkpoint.
	Size       uint64
	Checkpoint []byte
	// Results are the entries' indexes, and whether each is a duplicate,
	// unless the request was refused: then Err says why, and ErrEntry
	// names the entry refused.
	Results  []Result
	Err      string
	ErrEntry int
}

// ErrLeaseLost is returned by a Shared storage's Commit once the
// sequencer lease was lost: another instance may sequence.
var ErrLeaseLost = fmt.Errorf("%w: the sequencer lease was lost", ErrConflict)

// maxWaiting bounds the requests an instance waits for at once; beyond it
// appends fail with ErrPushback.
const maxWaiting = 1 << 14

// sharedState is the part of a Log that runs over a Shared storage.
type sharedState struct {
	st Shared

	mu      sync.Mutex
	waiters map[uint64]*request // guarded by mu
	done    bool                // Run returned; guarded by mu

	notes    atomic.Uint64 // commit notifications seen
	commits  chan struct{} // a commit was notified
	queued   chan struct{} // a request was queued
	leading  atomic.Bool
	answered *State // the state of the latest answers, owned by deliver
}

func newShared(st Shared) *sharedState {
	return &sharedState{st: st, waiters: map[uint64]*request{},
		commits: make(chan struct{}, 1), queued: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Leading reports whether this instance sequences: always for a Log alone
// on its storage while Run runs, and for a Shared storage while it holds
// the sequencer lease.
func (l *Log) Leading() bool {
	if l.shared == nil {
		select {
		case <-l.stopped:
			return false
		default:
			return l.running.Load()
		}
	}
	return l.shared.leading.Load()
}

// appendShared stores r in the queue and waits for its answer.
func (l *Log) appendShared(ctx context.Context, r *request) ([]Result, error) {
	sh := l.shared
	q := &Queued{Seen: r.seen, Entries: make([]QueuedEntry, len(r.entries))}
	for i, e := range r.entries {
		q.Entries[i] = QueuedEntry{Data: e.Data, Key: r.keys[i]}
		if r.found != nil {
			q.Entries[i].Found, q.Entries[i].Index = r.found[i].Found, r.found[i].Index
		}
	}
	sh.mu.Lock()
	switch {
	case sh.done:
		sh.mu.Unlock()
		return nil, ErrStopped
	case len(sh.waiters) >= maxWaiting:
		sh.mu.Unlock()
		return nil, ErrPushback
	}
	sh.mu.Unlock()
	seen := sh.notes.Load()
	id, err := sh.st.Enqueue(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%w: queueing: %w", ErrStorage, err)
	}
	sh.mu.Lock()
	if sh.done {
		sh.mu.Unlock()
		return nil, ErrStopped // queued: the next leader sequences it
	}
	sh.waiters[id] = r
	sh.mu.Unlock()
	// A commit notified between the Enqueue and now may hold the answer:
	// look again (see deliver).
	if sh.notes.Load() != seen {
		signal(sh.commits)
	}
	select {
	case <-r.done:
		return r.results, r.err
	case <-ctx.Done():
		sh.mu.Lock()
		delete(sh.waiters, id)
		sh.mu.Unlock()
		// The entries may still be committed; resubmitting is safe.
		return nil, ctx.Err()
	}
}

// runShared is Run over a Shared storage.
func (l *Log) runShared(ctx context.Context) error {
	sh := l.shared
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		l.stopShared()
	}()
	fatal := make(chan error, 1)
	wg.Go(func() {
		sh.st.Watch(ctx, func() {
			sh.notes.Add(1)
			signal(sh.commits)
		}, func() { signal(sh.queued) })
	})
	wg.Go(func() {
		if err := l.follow(ctx); err != nil {
			fatal <- err
			cancel()
		}
	})
	wg.Go(func() {
		t := time.NewTicker(l.cfg.PublishInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.tick()
			}
		}
	})
	for ctx.Err() == nil {
		lease, err := sh.st.Lead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				l.cfg.Logger.Error("taking the sequencer lease failed; retrying", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		err = l.lead(ctx, lease)
		lease.Release()
		if errors.Is(err, ErrCorrupt) {
			cancel()
			return err
		}
		if ctx.Err() == nil {
			l.cfg.Logger.Warn("stopped sequencing; following the log and waiting for the lease", "err", err)
		}
	}
	select {
	case err := <-fatal:
		return err
	default:
		return nil
	}
}

// stopShared fails the waiting appends with ErrStopped: their requests are
// queued, and whoever sequences next answers them in storage.
func (l *Log) stopShared() {
	sh := l.shared
	sh.mu.Lock()
	sh.done = true
	ws := sh.waiters
	sh.waiters = map[uint64]*request{}
	sh.mu.Unlock()
	for _, r := range ws {
		r.fail(ErrStopped)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// lead sequences the queue while lease is held.
func (l *Log) lead(ctx context.Context, lease Lease) error {
	sh := l.shared
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		lease.Run(ctx)
		cancel()
	}()
	l.sequencing.Lock()
	err := l.catchUp(ctx, true)
	if err == nil {
		sh.leading.Store(true)
	}
	l.sequencing.Unlock()
	if err != nil {
		return err
	}
	defer sh.leading.Store(false)
	l.cfg.Logger.Info("sequencing", "size", l.Latest().Size)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-lease.Lost():
			return ErrLeaseLost
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		qs, err := sh.st.Queued(ctx, l.cfg.MaxBatchSize)
		if err != nil {
			if ctx.Err() == nil {
				l.cfg.Logger.Error("reading the queue failed", "err", err)
				sleep(ctx, 100*time.Millisecond)
			}
			continue
		}
		if len(qs) == 0 {
			poll.Reset(250 * time.Millisecond) // in case a notification is lost
			select {
			case <-ctx.Done():
			case <-lease.Lost():
			case <-sh.queued:
			case <-poll.C:
			}
			continue
		}
		p := &pool{first: l.cfg.Now()}
		for _, q := range qs {
			p.reqs = append(p.reqs, proxy(q))
			p.n += len(q.Entries)
		}
		l.sequencing.Lock()
		err = l.sequence(ctx, p)
		l.sequencing.Unlock()
		if err != nil {
			return err
		}
	}
}

// proxy is the request that the leader sequences for q; its answer goes to
// storage, with the batch.
func proxy(q *Queued) *request {
	r := &request{id: q.ID, seen: q.Seen, done: make(chan struct{}),
		entries: make([]Entry, len(q.Entries)), keys: make([][]byte, len(q.Entries)),
		found: make([]DedupResult, len(q.Entries))}
	for i, e := range q.Entries {
		r.entries[i] = Entry{Data: e.Data, Key: e.Key, LeafHash: verify.LeafHash(e.Data)}
		r.keys[i] = e.Key
		r.found[i] = DedupResult{Found: e.Found, Index: e.Index}
	}
	return r
}

// answers are the answers of the requests of p, which sequence is about to
// commit with b, for the update: those refused and those of b.
func answers(p *pool, b *batch) []Answer {
	var as []Answer
	size := b.size + uint64(len(b.added))
	for _, r := range p.reqs {
		a := Answer{ID: r.id, Size: size, ErrEntry: -1}
		var ee *EntryError
		switch {
		case errors.As(r.err, &ee):
			a.Err, a.ErrEntry = ee.Err.Error(), ee.Entry
		case r.err != nil:
			continue // not answered; stays queued
		default:
			a.Results = r.results
		}
		as = append(as, a)
	}
	return as
}

// catchUp makes the latest committed state the Log's: it replays the new
// entries through Config.Follow and, when the Log is about to sequence,
// reloads the tree. The caller holds l.sequencing.
func (l *Log) catchUp(ctx context.Context, leading bool) error {
	signed, err := l.cfg.Storage.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("%w: reading the checkpoint: %w", ErrStorage, err)
	}
	cur := l.latest.Load()
	var s *State
	var ext []string // the stored checkpoint's extension lines
	if cur != nil && string(signed) == string(cur.Checkpoint) {
		s = cur
	} else {
		c, _, err := verify.OpenCheckpoint(signed, l.cfg.Origin, l.vkeys, nil, 0)
		if err != nil {
			return fmt.Errorf("%w: the stored checkpoint does not verify: %w", ErrCorrupt, err)
		}
		s, ext = &State{Size: c.Size, Root: c.Root, Checkpoint: signed}, c.Extensions
	}
	switch {
	case s.Size < cur.Size:
		return fmt.Errorf("%w: the stored checkpoint (size %d) is behind ours (%d)", ErrCorrupt, s.Size, cur.Size)
	case s.Size == cur.Size && s.Root != cur.Root:
		return fmt.Errorf("%w: the stored checkpoint of size %d has another root", ErrCorrupt, s.Size)
	}
	if s.Size > cur.Size {
		if err := l.replay(ctx, cur.Size, s.Size); err != nil {
			return err
		}
		if err := l.checkExtensions(ctx, s.Size, ext); err != nil {
			return err
		}
	}
	if leading {
		t, err := loadTree(ctx, l.cfg.Storage, s.Size, s.Root)
		if err != nil {
			return fmt.Errorf("log: %w", err)
		}
		l.tree, l.recent = t, newRecent(s.Size)
	}
	if s != cur {
		l.setLatest(s)
	}
	return nil
}

// checkExtensions brings the caller's state to a checkpoint of size that
// another instance signed, through Config.Extensions, and checks that
// the lines it returns are the checkpoint's own, ext: an instance
// following the log recomputes what the leader committed to. A
// checkpoint without extension lines (signed by an instance of a version
// that added none, during an upgrade) is not compared.
func (l *Log) checkExtensions(ctx context.Context, size uint64, ext []string) error {
	if l.cfg.Extensions == nil {
		return nil
	}
	mine, err := l.cfg.Extensions(ctx, size)
	if err != nil {
		return fmt.Errorf("log: checkpoint extensions at size %d: %w", size, err)
	}
	if len(ext) > 0 && !slices.Equal(mine, ext) {
		return fmt.Errorf("%w: the stored checkpoint of size %d has extension lines %q, the entries build %q", ErrCorrupt, size, ext, mine)
	}
	return nil
}

// replay hands the entries from..to of a tree of size to, which another
// instance committed, to Config.Follow in index order.
func (l *Log) replay(ctx context.Context, from, to uint64) error {
	if l.cfg.Follow == nil {
		return nil
	}
	for i := from; i < to; {
		t := verify.TileForIndex(verify.EntriesLevel, i, to)
		data, err := l.cfg.Storage.EntryBundle(ctx, t.N)
		if err != nil {
			return fmt.Errorf("log: reading %s: %w", t.Path(), readFailed(err))
		}
		n, err := bundlePrefix(data, t.Width)
		if err != nil {
			return fmt.Errorf("log: reading %s: %w", t.Path(), corrupt(err))
		}
		entries, err := verify.ParseBundle(data[:n])
		if err != nil {
			return fmt.Errorf("log: %s: %w", t.Path(), corrupt(err))
		}
		for ; i < to && i/tileWidth == t.N; i++ {
			e := entries[i%tileWidth]
			if err := l.cfg.Follow(ctx, i, Entry{Data: e, LeafHash: verify.LeafHash(e)}); err != nil {
				return fmt.Errorf("log: following entry %d: %w: %w", i, ErrCorrupt, err)
			}
		}
	}
	return nil
}

// follow, on every commit notification, catches up with the log unless
// this instance leads, and answers the waiting appends whose answers were
// committed. It returns on ctx or a fatal error.
func (l *Log) follow(ctx context.Context) error {
	sh := l.shared
	poll := time.NewTicker(time.Second) // in case a notification is lost
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sh.commits:
		case <-poll.C:
		}
		if !sh.leading.Load() {
			l.sequencing.Lock()
			var err error
			if !sh.leading.Load() {
				err = l.catchUp(ctx, false)
			}
			l.sequencing.Unlock()
			switch {
			case errors.Is(err, ErrCorrupt):
				return err
			case err != nil && ctx.Err() == nil:
				l.cfg.Logger.Error("following the log failed", "err", err)
			}
		}
		if err := l.deliver(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Logger.Error("reading answers failed", "err", err)
		}
	}
}

// deliver reads the committed answers of the waiting appends and answers
// them.
func (l *Log) deliver(ctx context.Context) error {
	sh := l.shared
	sh.mu.Lock()
	ids := make([]uint64, 0, len(sh.waiters))
	for id := range sh.waiters {
		ids = append(ids, id)
	}
	sh.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	as, err := sh.st.Answers(ctx, ids)
	if err != nil {
		return err
	}
	// Answer with a state the Log serves: the leader may not have made
	// its commit the latest yet, a follower not have caught up.
	for _, a := range as {
		if a.Size > l.Latest().Size {
			l.sequencing.Lock()
			if !sh.leading.Load() {
				err = l.catchUp(ctx, false)
			}
			l.sequencing.Unlock()
			if err != nil {
				l.cfg.Logger.Error("following the log failed", "err", err)
			}
			break
		}
	}
	for _, a := range as {
		sh.mu.Lock()
		r := sh.waiters[a.ID]
		delete(sh.waiters, a.ID)
		sh.mu.Unlock()
		if r == nil {
			continue
		}
		if a.Err != "" {
			r.fail(&EntryError{Entry: a.ErrEntry, Err: errors.New(a.Err)})
			continue
		}
		s, err := l.answerState(a)
		if err != nil {
			r.fail(err)
			continue
		}
		if len(a.Results) != len(r.entries) {
			r.fail(fmt.Errorf("%w: answer %d has %d results for %d entries", ErrCorrupt, a.ID, len(a.Results), len(r.entries)))
			continue
		}
		r.results = a.Results
		for i := range r.results {
			r.results[i].State = s
		}
		close(r.done)
	}
	return nil
}

// answerState returns the state of a's checkpoint.
func (l *Log) answerState(a Answer) (*State, error) {
	sh := l.shared
	if s := sh.answered; s != nil && string(s.Checkpoint) == string(a.Checkpoint) {
		return s, nil
	}
	if s := l.latest.Load(); string(s.Checkpoint) == string(a.Checkpoint) {
		sh.answered = s
		return s, nil
	}
	c, _, err := verify.OpenCheckpoint(a.Checkpoint, l.cfg.Origin, l.vkeys, nil, 0)
	if err != nil || c.Size != a.Size {
		return nil, fmt.Errorf("%w: the checkpoint of answer %d does not verify: %v", ErrCorrupt, a.ID, err)
	}
	sh.answered = &State{Size: c.Size, Root: c.Root, Checkpoint: a.Checkpoint}
	return sh.answered, nil
}

// commitAnswers commits the answers of a batch that added no entry (each
// of its requests was refused or only held duplicates), the checkpoint
// unchanged. A failure leaves the requests queued, to be sequenced again.
func (l *Log) commitAnswers(ctx context.Context, b *batch) error {
	if len(b.answers) == 0 {
		return nil
	}
	s := l.latest.Load()
	err := l.cfg.Storage.Commit(ctx, &Update{Prev: s.Checkpoint, Checkpoint: s.Checkpoint, Size: s.Size, Answers: b.answers})
	switch {
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("log: committing answers at size %d: %w", s.Size, err)
	case err != nil:
		l.cfg.Logger.Error("committing answers failed; they stay queued", "err", err)
	}
	return nil
}
