package verify

import (
	"context"
	"fmt"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// A NodeCache remembers the hashes of complete subtrees that it read from
// a log's tiles. A complete subtree's hash never changes as the log grows,
// so proofs in trees of nearby sizes (the entries of one batch, or of
// batches close in time) share most of their nodes and read them once. It
// holds at most the number of nodes it was made with, and is emptied when
// full. It is safe for concurrent use.
//
// Like the tiles they come from, the remembered hashes are not
// authenticated: a proof built from them is checked against a signed root
// as any other ([Inclusion], [Consistency]). A wrong hash makes proofs
// fail, never pass; use one cache per log.
type NodeCache struct {
	max    int
	mu     sync.Mutex
	hashes map[compact.NodeID]Hash
}

// NewNodeCache returns a cache of at most max nodes (about 100 bytes each).
func NewNodeCache(max int) *NodeCache {
	return &NodeCache{max: max, hashes: make(map[compact.NodeID]Hash)}
}

// ProveInclusion is [ProveInclusion] with the cache.
func (c *NodeCache) ProveInclusion(ctx context.Context, r TileReader, index, size uint64) ([]Hash, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("index %d, size %d: %w", index, size, ErrOutOfRange)
	}
	return prove(ctx, r, size, nodes, c.ReadNodes)
}

// ReadNodes is [ReadNodes] with the cache: only the nodes it does not
// remember are read from the tiles.
func (c *NodeCache) ReadNodes(ctx context.Context, r TileReader, size uint64, ids []compact.NodeID) ([]Hash, error) {
	out := make([]Hash, len(ids))
	var missing []compact.NodeID
	var at []int
	c.mu.Lock()
	for i, id := range ids {
		if h, ok := c.hashes[id]; ok && id.Index < size>>min(id.Level, 63) {
			out[i] = h
		} else {
			missing, at = append(missing, id), append(at, i)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := ReadNodes(ctx, r, size, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hashes)+len(got) > c.max {
		c.hashes = make(map[compact.NodeID]Hash)
	}
	for k, h := range got {
		out[at[k]] = h
		c.hashes[missing[k]] = h
	}
	return out, nil
}
