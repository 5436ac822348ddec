package log

import (
	"context"
	"fmt"
)

// Deduplication is strong: two appends of equal entries (by DedupKey) get
// one index, however they race. It costs the sequencer no storage read in
// the common case. Each appender looks its keys up in storage itself,
// concurrently with everyone else, after noting the committed size s: the
// lookup then sees every entry below s. The sequencer remembers the keys it
// committed from size recentFrom on, so for an appender with s ≥
// recentFrom it only needs that map. The map is bounded: when it grows past
// maxRecent keys it is dropped and recentFrom moves to the current size;
// the few appenders that looked up before that are looked up again by the
// sequencer, in storage.

// maxRecent bounds the sequencer's map of recently committed dedup keys
// (about 100 bytes each).
const maxRecent = 1 << 17

// recent is the sequencer's window of committed dedup keys.
type recent struct {
	from uint64            // keys of every entry at index ≥ from are in keys
	keys map[string]uint64 // dedup key → index
}

func newRecent(size uint64) *recent {
	return &recent{from: size, keys: make(map[string]uint64)}
}

// add records the keys of a committed batch, which ends at size.
func (r *recent) add(entries []DedupEntry, size uint64) {
	if len(r.keys)+len(entries) > maxRecent {
		*r = *newRecent(size)
		return
	}
	for _, e := range entries {
		r.keys[string(e.Key)] = e.Index
	}
}

// precheck looks r's entries up in storage, recording the committed size
// the lookup is complete for. It reports whether every entry was found.
func (l *Log) precheck(ctx context.Context, r *request) (bool, error) {
	r.seen = l.Latest().Size
	found, err := l.cfg.Storage.Dedup(ctx, r.keys)
	if err != nil {
		return false, fmt.Errorf("%w: dedup lookup: %w", ErrStorage, err)
	}
	if len(found) != len(r.keys) {
		return false, fmt.Errorf("log: storage answered %d dedup keys, want %d", len(found), len(r.keys))
	}
	r.found = found
	s := l.Latest()
	r.results = make([]Result, len(r.entries))
	for i, f := range found {
		// An index at or beyond the size we know was committed a moment
		// ago: let the sequencer answer it, with a state that covers it.
		if !f.Found || f.Index >= s.Size {
			return false, nil
		}
		r.results[i] = Result{Index: f.Index, Duplicate: true, State: s}
	}
	return true, nil
}

// relookup looks up again, in storage, the requests whose precheck is older
// than the sequencer's window.
func (l *Log) relookup(ctx context.Context, p *pool) error {
	for _, r := range p.reqs {
		if r.seen >= l.recent.from {
			continue
		}
		found, err := l.cfg.Storage.Dedup(ctx, r.keys)
		if err != nil {
			return fmt.Errorf("log: dedup lookup: %w", err)
		}
		if len(found) != len(r.keys) {
			return fmt.Errorf("log: storage answered %d dedup keys, want %d", len(found), len(r.keys))
		}
		r.found, r.seen = found, l.recent.from
	}
	return nil
}

// committed returns the index of an entry committed before the batch with
// dedup key k, for a request whose precheck found found.
func (l *Log) committed(found DedupResult, k string) (uint64, bool) {
	if found.Found {
		return found.Index, true
	}
	idx, ok := l.recent.keys[k]
	return idx, ok
}
