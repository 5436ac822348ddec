package log

import (
	"context"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

// Result is the outcome of appending one entry.
type Result struct {
	// Index is the entry's index: new, or the first index of an equal
	// entry (by DedupKey) when Duplicate is set.
	Index     uint64
	Duplicate bool
	// State is the committed state that includes the entry.
	State *State
}

// request is one Append or AppendBatch call waiting to be sequenced: its
// entries are admitted all or none.
type request struct {
	id      uint64 // its id in a Shared storage's queue
	entries []Entry
	keys    [][]byte // dedup key of each entry
	results []Result
	err     error

	// seen is the committed tree size before the precheck looked the keys
	// up in storage, and found what it found (see dedup.go).
	seen  uint64
	found []DedupResult

	done chan struct{} // closed when results or err are set
}

// pool collects requests for the next batch.
type pool struct {
	reqs  []*request
	n     int // entries in reqs
	first time.Time
}

func newPool() *pool { return &pool{} }

// Append appends entry to the log and returns once it is durably committed
// under a signed checkpoint, or is found to be a duplicate of a committed
// entry. It fails with ErrEntryTooLarge, ErrPushback, ErrStopped,
// ErrStorage, ErrDiskFull, the context's error, or the error of the Admit
// hook.
func (l *Log) Append(ctx context.Context, entry []byte) (Result, error) {
	res, err := l.AppendBatch(ctx, [][]byte{entry})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// AppendBatch appends entries as one unit: either all of them are admitted
// and committed in one batch, in order, or none is and the first error is
// returned. Equal entries within the batch share one index.
func (l *Log) AppendBatch(ctx context.Context, entries [][]byte) ([]Result, error) {
	es := make([]Entry, len(entries))
	for i, e := range entries {
		es[i] = Entry{Data: e}
	}
	return l.AppendEntries(ctx, es)
}

// AppendEntries is AppendBatch for entries that carry their dedup keys
// or values.
func (l *Log) AppendEntries(ctx context.Context, entries []Entry) ([]Result, error) {
	p, err := l.Prepare(ctx, entries)
	if err != nil {
		return nil, err
	}
	return p.Append(ctx)
}

// Prepared is a batch of entries that Prepare looked up, to be appended
// with Append. In between, the caller learns which entries are already in
// the log and can check only the others (the attestation log verifies
// signatures there, in parallel, before the sequencer admits them in
// order): each entry's dedup key is computed once and looked up in
// storage once.
type Prepared struct {
	l   *Log
	r   *request
	all bool // every entry is committed already: r.results holds them
}

// Prepare computes the dedup keys of entries that have none and looks
// them up. It fails with ErrEntryTooLarge, ErrStorage or the context's
// error.
func (l *Log) Prepare(ctx context.Context, entries []Entry) (*Prepared, error) {
	r := &request{
		entries: make([]Entry, len(entries)),
		keys:    make([][]byte, len(entries)),
		done:    make(chan struct{}),
	}
	for i, e := range entries {
		if len(e.Data) > verify.MaxEntrySize {
			return nil, ErrEntryTooLarge
		}
		e.LeafHash = verify.LeafHash(e.Data)
		r.entries[i] = e
		switch {
		case e.Key != nil:
			r.keys[i] = e.Key
		case l.cfg.DedupKey != nil:
			r.keys[i] = l.cfg.DedupKey(e.Data)
		default:
			r.keys[i] = r.entries[i].LeafHash[:]
		}
	}
	if len(entries) == 0 {
		return &Prepared{l: l, r: r, all: true}, nil
	}
	all, err := l.precheck(ctx, r)
	if err != nil {
		return nil, err
	}
	return &Prepared{l: l, r: r, all: all}, nil
}

// Duplicate reports whether entry i was found committed already: its
// append will return the stored entry's index.
func (p *Prepared) Duplicate(i int) bool { return p.r.found != nil && p.r.found[i].Found }

// Append appends the prepared entries, as AppendEntries does. Call it once.
func (p *Prepared) Append(ctx context.Context) ([]Result, error) {
	if p.all {
		return p.r.results, nil
	}
	if p.l.shared != nil {
		return p.l.appendShared(ctx, p.r)
	}
	if err := p.l.enqueue(p.r); err != nil {
		return nil, err
	}
	select {
	case <-p.r.done:
		return p.r.results, p.r.err
	case <-ctx.Done():
		// The entries may still be committed; resubmitting is safe.
		return nil, ctx.Err()
	}
}

func (l *Log) enqueue(r *request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stopped:
		return ErrStopped
	default:
	}
	if l.refusing != nil {
		return l.refusing
	}
	p := l.pool
	if p.n+len(r.entries) > l.cfg.MaxPending && p.n > 0 {
		return ErrPushback
	}
	if p.n == 0 {
		p.first = l.cfg.Now()
	}
	p.reqs = append(p.reqs, r)
	p.n += len(r.entries)
	if len(p.reqs) == 1 || p.n >= l.cfg.MaxBatchSize {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// take removes from the pool the requests of the next batch: whole
// requests, in arrival order, up to MaxBatchSize entries (or one request,
// if it alone is larger).
func (l *Log) take() *pool {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, i, n := l.pool, 0, 0
	for i < len(p.reqs) && (i == 0 || n+len(p.reqs[i].entries) <= l.cfg.MaxBatchSize) {
		n += len(p.reqs[i].entries)
		i++
	}
	if i == len(p.reqs) {
		l.pool = newPool()
		return p
	}
	rest := &pool{reqs: append([]*request(nil), p.reqs[i:]...), n: p.n - n, first: p.first}
	l.pool = rest
	return &pool{reqs: p.reqs[:i], n: n, first: p.first}
}

// poolState reports the pending entry count and the age of the oldest.
func (l *Log) poolState() (n int, age time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool.n == 0 {
		return 0, 0
	}
	return l.pool.n, l.cfg.Now().Sub(l.pool.first)
}
