package log

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Run sequences appended entries until ctx is done or the log must stop,
// and publishes checkpoints. Exactly one goroutine must run it, for the
// life of the Log; Append blocks until Run integrates the entry. A failed
// commit does not stop Run: it learns from storage what was stored and
// resumes when storage answers again (see recover.go). Run stops, with an
// error, when another sequencer committed to the storage or the storage
// contradicts itself. When Run returns, pending and later appends fail
// with ErrStopped, and the Log only serves reads: open it again to resume.
func (l *Log) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("log: Run called twice")
	}
	defer l.stop()
	if l.shared != nil {
		return l.runShared(ctx)
	}
	publish := time.NewTicker(l.cfg.PublishInterval)
	defer publish.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Under sustained load a batch is always ready: stopping and
		// publishing must not wait for a lull.
		select {
		case <-ctx.Done():
			return nil
		case <-publish.C:
			l.tick()
		default:
		}
		n, age := l.poolState()
		ready := n >= l.cfg.MaxBatchSize || (n > 0 && age >= l.cfg.MaxBatchAge)
		if ready {
			l.sequencing.Lock()
			err := l.sequence(ctx, l.take())
			l.sequencing.Unlock()
			if err != nil {
				return err
			}
			continue
		}
		if n > 0 {
			timer.Reset(l.cfg.MaxBatchAge - age)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-timer.C:
		case <-publish.C:
			l.tick()
		}
	}
}

// stop refuses new appends and fails the pending ones.
func (l *Log) stop() {
	l.mu.Lock()
	close(l.stopped)
	p := l.pool
	l.pool = newPool()
	l.mu.Unlock()
	for _, r := range p.reqs {
		r.fail(ErrStopped)
	}
}

// tick publishes the latest committed state, unless witnesses publish.
func (l *Log) tick() {
	if !l.cfg.Witnessed {
		l.publish()
	}
}

// publish makes the latest committed state the published one.
func (l *Log) publish() {
	if s := l.latest.Load(); s != l.published.Load() {
		now := l.cfg.Now()
		l.published.Store(s)
		l.publishedAt.Store(&now)
		l.metrics.published.Set(float64(s.Size))
		l.cfg.Logger.Debug("published checkpoint", "size", s.Size)
	}
}

// checkSpace returns ErrDiskFull if the storage reports less free space
// than Config.MinFreeBytes. It logs when appends start and stop being
// refused, not on every call: readiness probes call it too.
func (l *Log) checkSpace() error {
	fs, ok := l.cfg.Storage.(interface{ FreeBytes() (uint64, error) })
	if !ok {
		return nil
	}
	free, err := fs.FreeBytes()
	if err != nil {
		// Unknown is not full: some file systems (in-memory ones) cannot
		// tell. Say so once rather than refuse every append.
		if l.freeUnknown.CompareAndSwap(false, true) {
			l.cfg.Logger.Warn("cannot read the storage's free space; not guarding against a full disk", "err", err)
		}
		return nil
	}
	if free < l.cfg.MinFreeBytes {
		if !l.diskFull.Swap(true) {
			l.cfg.Logger.Error("refusing appends: storage nearly full; free space or raise the disk (reads go on)", "free", free, "min", l.cfg.MinFreeBytes)
		}
		return fmt.Errorf("%w (%d MiB free, %d MiB required)", ErrDiskFull, free>>20, l.cfg.MinFreeBytes>>20)
	}
	if l.diskFull.Swap(false) {
		l.cfg.Logger.Info("free space above the minimum again; appends resume", "free", free, "min", l.cfg.MinFreeBytes)
	}
	return nil
}

// Refusing returns why the sequencer refuses appends at this moment, or
// nil if it takes them: ErrStopped once Run has returned, the ErrStorage
// error while it waits for storage to answer after a failed commit
// (recover.go), ErrDiskFull while the storage's free space is below
// Config.MinFreeBytes. It is what a readiness probe asks; it reads the
// free space anew on every call.
func (l *Log) Refusing() error {
	select {
	case <-l.stopped:
		return ErrStopped
	default:
	}
	l.mu.Lock()
	err := l.refusing
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.checkSpace()
}

func (r *request) fail(err error) {
	r.err = err
	close(r.done)
}

// batch is a pool being sequenced.
type batch struct {
	size  uint64            // the tree size before the batch
	seen  map[string]uint64 // dedup key → index, for entries new in this batch
	undos []func()
	rows  []Row
	dedup []DedupEntry
	added []Entry // the new entries, in index order
	reqs  []*request
	edit  *edit // what commit wrote, set by commit
	// answers, over a Shared storage, are committed with the batch.
	answers []Answer
}

// sequence admits, integrates and commits one pool of requests. It returns
// an error only when the log must stop: another sequencer committed, or
// storage contradicts itself.
func (l *Log) sequence(ctx context.Context, p *pool) error {
	// A batch that started is finished even if ctx is cancelled meanwhile:
	// its appenders are waiting for it. Only the wait for failed storage
	// to answer again ends with ctx (stop).
	stop := ctx.Done()
	ctx = context.WithoutCancel(ctx)
	start := l.cfg.Now()
	if err := l.checkSpace(); err != nil {
		for _, r := range p.reqs {
			r.fail(err)
		}
		return nil
	}
	if err := l.relookup(ctx, p); err != nil {
		l.cfg.Logger.Error("dedup lookup failed", "err", err)
		for _, r := range p.reqs {
			r.fail(fmt.Errorf("%w: %w", ErrStorage, err))
		}
		return nil
	}
	b := &batch{size: l.tree.size(), seen: make(map[string]uint64)}
	for _, r := range p.reqs {
		l.admit(ctx, b, r)
	}
	if l.shared != nil {
		b.answers = answers(p, b)
		if len(b.added) == 0 {
			return l.commitAnswers(ctx, b)
		}
	}
	if len(b.added) == 0 {
		b.answer(l.latest.Load())
		return nil
	}
	s, err := l.commit(ctx, b)
	if err != nil {
		return l.commitFailed(ctx, stop, b, s, err)
	}
	l.integrated(b, s)
	b.answer(s)
	took := l.cfg.Now().Sub(start)
	l.metrics.batchSize.Observe(float64(len(b.added)))
	l.metrics.integration.Observe(took.Seconds())
	l.cfg.Logger.Debug("sequenced batch", "entries", len(b.added), "size", s.Size, "took", took)
	return nil
}

// admit assigns indexes to the new entries of r and admits them, all or
// none; on failure r is answered with the error and b is left as it was.
func (l *Log) admit(ctx context.Context, b *batch, r *request) {
	next := b.size + uint64(len(b.added))
	var undos []func()
	var rows []Row
	var added []Entry
	seen := make(map[string]uint64)
	r.results = make([]Result, len(r.entries))
	for i, e := range r.entries {
		k := string(r.keys[i])
		if idx, ok := l.committed(r.found[i], k); ok {
			r.results[i] = Result{Index: idx, Duplicate: true}
			continue
		}
		if idx, ok := b.seen[k]; ok {
			r.results[i] = Result{Index: idx, Duplicate: true}
			continue
		}
		if idx, ok := seen[k]; ok {
			r.results[i] = Result{Index: idx, Duplicate: true}
			continue
		}
		idx := next + uint64(len(added))
		if l.cfg.Admit != nil {
			undo, err := l.cfg.Admit(ctx, idx, e)
			if err != nil {
				for j := len(undos) - 1; j >= 0; j-- {
					undos[j]()
				}
				r.fail(&EntryError{Entry: i, Err: err})
				return
			}
			if undo != nil {
				undos = append(undos, undo)
			}
		}
		if l.cfg.Index != nil {
			rows = append(rows, l.cfg.Index(idx, e)...)
		}
		seen[k] = idx
		added = append(added, e)
		r.results[i] = Result{Index: idx}
	}
	for k, idx := range seen {
		b.seen[k] = idx
		b.dedup = append(b.dedup, DedupEntry{Key: []byte(k), Index: idx})
	}
	b.undos = append(b.undos, undos...)
	b.rows = append(b.rows, rows...)
	b.added = append(b.added, added...)
	b.reqs = append(b.reqs, r)
}

// commit integrates the batch's new entries into the tree, signs a
// checkpoint, and commits everything in one storage update. If the storage
// fails, commit returns the state it tried to commit (nil if it got no
// checkpoint signed) with the error; the tree holds the batch either way.
func (l *Log) commit(ctx context.Context, b *batch) (*State, error) {
	e := &edit{tiles: make(map[[2]uint64][]byte), start: l.tree.n}
	for _, entry := range b.added {
		l.tree.append(entry.Data, entry.LeafHash, e)
	}
	l.tree.finish(e)
	b.edit = e
	root := l.tree.root()
	signed, err := l.sign(ctx, l.tree.size(), root)
	if err != nil {
		return nil, err
	}
	u := &Update{
		Prev: l.latest.Load().Checkpoint, Checkpoint: signed, Size: l.tree.size(),
		Tiles: e.tileWrites(), Bundles: e.bundles, Dedup: b.dedup, Rows: b.rows,
		Answers: b.answers,
	}
	s := &State{Size: l.tree.size(), Root: root, Checkpoint: signed}
	if err := l.cfg.Storage.Commit(ctx, u); err != nil {
		return s, err
	}
	return s, nil
}

// integrated makes s, which committed b, the latest state.
func (l *Log) integrated(b *batch, s *State) {
	l.recentTiles.add(b.edit) // before readers can learn of s
	l.setLatest(s)
	l.recent.add(b.dedup, s.Size)
}

// answer releases the batch's requests with the state that includes them.
func (b *batch) answer(s *State) {
	for _, r := range b.reqs {
		for i := range r.results {
			r.results[i].State = s
		}
		close(r.done)
	}
}
