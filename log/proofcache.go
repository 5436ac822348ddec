package log

import (
	"container/list"
	"sync"

	"github.com/pledgelog/pledgelog/verify"
)

// proofCacheSize bounds the proofs a log keeps: each is at most 64 hashes
// (2 KiB) and usually about 20, so the cache holds a few MiB at most.
const proofCacheSize = 4096

// proofCache keeps the inclusion and consistency proofs a log computed
// last, so that a proof asked for again (a popular entry against the
// published checkpoint, every reader's consistency step from the
// previous checkpoint) is not recomputed from tiles and re-verified. A
// proof is keyed by its kind, its two numbers and the root of the tree
// it proves against: the tree at a size never changes, and a key with the
// root cannot meet a tree with another one. Only proofs the log checked
// against that root are kept.
type proofCache struct {
	mu    sync.Mutex
	order *list.List // of *cachedProof, most recent first
	byKey map[proofKey]*list.Element
}

type proofKey struct {
	consistency bool
	a, b        uint64 // index and size, or from and to
	root        verify.Hash
}

type cachedProof struct {
	key    proofKey
	leaf   verify.Hash // of an inclusion proof
	hashes []verify.Hash
}

func (c *proofCache) get(k proofKey) (*cachedProof, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedProof), true
}

func (c *proofCache) put(p *cachedProof) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.order, c.byKey = list.New(), map[proofKey]*list.Element{}
	}
	if e, ok := c.byKey[p.key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byKey[p.key] = c.order.PushFront(p)
	for c.order.Len() > proofCacheSize {
		old := c.order.Remove(c.order.Back()).(*cachedProof)
		delete(c.byKey, old.key)
	}
}
