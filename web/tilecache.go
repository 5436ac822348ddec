package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// bundleCache keeps recently read entry bundles in memory, parsed once
// into their entries and gzipped at most once, with the answers of
// GET /api/v1/entries/N encoded once: a bundle at a given width never
// changes, so the server need not read, parse or compress it again for
// every request (a full bundle of maximum-size entries is 16 MiB). It
// keeps the hash tiles it serves too (gzip does not shrink them: they are
// hashes), which also never change at a given width. It holds at most
// max bytes, raw, gzipped and encoded together, forgetting the least
// recently used bundles first; a bundle larger than max is not kept.
// Concurrent misses of one bundle read it once.
type bundleCache struct {
	max int64

	mu      sync.Mutex
	size    int64                    // raw and gzipped bytes held; guarded by mu
	order   *list.List               // of *cachedBundle, most recent first; guarded by mu
	byPath  map[string]*list.Element // guarded by mu
	loading map[string]*loadCall     // guarded by mu
}

// cachedBundle is one entry bundle: its bytes, its entries (slices of
// them) and, once a client asked for it, its gzip encoding. None may be
// modified.
type cachedBundle struct {
	path    string
	raw     []byte
	entries [][]byte

	gzOnce sync.Once
	gz     []byte // nil until gzipped; raw's length or more if gzip does not help

	// answers are the bodies of GET /api/v1/entries/N for its entries,
	// each encoded on the first request for it (entryAnswer).
	answers     []atomic.Pointer[[]byte]
	answerBytes atomic.Int64 // of the answers, counted in the cache's size
}

// loadCall is a read of a bundle that concurrent misses wait for.
type loadCall struct {
	done chan struct{}
	b    *cachedBundle
	err  error
}

func newBundleCache(max int64) *bundleCache {
	return &bundleCache{max: max, order: list.New(), byPath: map[string]*list.Element{},
		loading: map[string]*loadCall{}}
}

// get returns entry bundle or hash tile t of l, from the cache or read
// (and parsed).
func (bc *bundleCache) get(ctx context.Context, l *log.Log, t verify.Tile) (*cachedBundle, error) {
	path := t.Path()
	bc.mu.Lock()
	if e, ok := bc.byPath[path]; ok {
		bc.order.MoveToFront(e)
		bc.mu.Unlock()
		return e.Value.(*cachedBundle), nil
	}
	if call, ok := bc.loading[path]; ok {
		bc.mu.Unlock()
		select {
		case <-call.done:
			return call.b, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	call := &loadCall{done: make(chan struct{})}
	bc.loading[path] = call
	bc.mu.Unlock()

	call.b, call.err = readTile(ctx, l, t)
	bc.mu.Lock()
	delete(bc.loading, path)
	if call.err == nil {
		bc.add(call.b)
	}
	bc.mu.Unlock()
	close(call.done)
	return call.b, call.err
}

// readTile reads tile t of l: an entry bundle, parsed, or a hash tile.
func readTile(ctx context.Context, l *log.Log, t verify.Tile) (*cachedBundle, error) {
	data, err := l.ReadTile(ctx, t)
	if err != nil {
		return nil, err
	}
	if t.Level != verify.EntriesLevel {
		return &cachedBundle{path: t.Path(), raw: data}, nil
	}
	entries, err := verify.ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("log: %s: %w", t.Path(), log.ErrCorrupt)
	}
	return &cachedBundle{path: t.Path(), raw: data, entries: entries,
		answers: make([]atomic.Pointer[[]byte], len(entries))}, nil
}

// add holds b, unless it is larger than the whole cache. Called with mu
// held.
func (bc *bundleCache) add(b *cachedBundle) {
	if int64(len(b.raw)) > bc.max {
		return
	}
	bc.byPath[b.path] = bc.order.PushFront(b)
	bc.size += int64(len(b.raw))
	bc.evict()
}

// evict forgets the least recently used bundles beyond max. Called with
// mu held.
func (bc *bundleCache) evict() {
	for bc.size > bc.max && bc.order.Len() > 0 {
		old := bc.order.Remove(bc.order.Back()).(*cachedBundle)
		delete(bc.byPath, old.path)
		bc.size -= int64(len(old.raw)+len(old.gz)) + old.answerBytes.Load()
	}
}

// gzipped returns b gzipped, compressing it on the first call only, or
// nil if gzip does not make it smaller.
func (bc *bundleCache) gzipped(b *cachedBundle) []byte {
	b.gzOnce.Do(func() {
		var buf bytes.Buffer
		buf.Grow(len(b.raw) / 2)
		zw := gzip.NewWriter(&buf)
		zw.Write(b.raw) // a bytes.Buffer does not fail
		zw.Close()
		gz := buf.Bytes()
		if len(gz) >= len(b.raw) {
			gz = gz[:0:0]
		}
		bc.mu.Lock()
		defer bc.mu.Unlock()
		e, held := bc.byPath[b.path]
		b.gz = gz
		if held && e.Value == b {
			bc.size += int64(len(gz))
			bc.evict()
		}
	})
	if len(b.gz) == 0 {
		return nil
	}
	return b.gz
}

// answer returns the JSON body of GET /api/v1/entries/N for entry k of b
// at index, as echo's JSON encoder writes api.Entry (a trailing newline
// included), encoding it on the first call only.
func (bc *bundleCache) answer(b *cachedBundle, k int, index uint64) ([]byte, error) {
	if a := b.answers[k].Load(); a != nil {
		return *a, nil
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(api.Entry{Index: index, Entry: b.entries[k], LeafHash: verify.LeafHash(b.entries[k])}); err != nil {
		return nil, err
	}
	a := buf.Bytes()
	if !b.answers[k].CompareAndSwap(nil, &a) {
		return *b.answers[k].Load(), nil
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	b.answerBytes.Add(int64(len(a)))
	if e, held := bc.byPath[b.path]; held && e.Value == b {
		bc.size += int64(len(a))
		bc.evict()
	}
	return a, nil
}
