package verify_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// countingTiles serves the hash tiles of a tree built with
// transparency-dev/merkle's compact ranges, counting the tiles read.
type countingTiles struct {
	levels [][]verify.Hash // levels[h][i]: node (h, i)
	reads  atomic.Int64
}

func newCountingTiles(n uint64) *countingTiles {
	t := &countingTiles{}
	f := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := f.NewEmptyRange(0)
	for i := range n {
		leaf := rfc6962.DefaultHasher.HashLeaf([]byte{byte(i), byte(i >> 8)})
		r.Append(leaf, func(id compact.NodeID, h []byte) {
			for uint(len(t.levels)) <= id.Level {
				t.levels = append(t.levels, nil)
			}
			t.levels[id.Level] = append(t.levels[id.Level], verify.Hash(h))
		})
	}
	return t
}

func (t *countingTiles) ReadTile(_ context.Context, tile verify.Tile) ([]byte, error) {
	t.reads.Add(1)
	level := t.levels[tile.Level*verify.TileHeight]
	var out []byte
	for _, h := range level[tile.N*verify.TileWidth : tile.N*verify.TileWidth+uint64(tile.Width)] {
		out = append(out, h[:]...)
	}
	return out, nil
}

// TestNodeCache checks that proofs through a NodeCache equal those read
// from the tiles alone and verify, that nodes read once are not read
// again for a nearby tree size, and that the cache stays bounded.
func TestNodeCache(t *testing.T) {
	ctx := context.Background()
	tiles := newCountingTiles(70_000)
	c := verify.NewNodeCache(64)
	for _, size := range []uint64{70_000, 69_999, 65_536, 300} {
		root, err := verify.TreeRoot(ctx, tiles, size)
		if err != nil {
			t.Fatal(err)
		}
		for _, index := range []uint64{0, 1, 255, 256, size / 2, size - 1} {
			want, err := verify.ProveInclusion(ctx, tiles, index, size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ProveInclusion(ctx, tiles, index, size)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("ProveInclusion(%d, %d) through the cache = %x, %v; want %x", index, size, got, err, want)
			}
			leaf := rfc6962.DefaultHasher.HashLeaf([]byte{byte(index), byte(index >> 8)})
			if err := verify.Inclusion(verify.Hash(leaf), index, size, got, root); err != nil {
				t.Fatalf("proof of %d in %d: %v", index, size, err)
			}
		}
	}
	fresh := verify.NewNodeCache(1 << 10)
	if _, err := fresh.ProveInclusion(ctx, tiles, 1000, 70_000); err != nil {
		t.Fatal(err)
	}
	before := tiles.reads.Load()
	if _, err := fresh.ProveInclusion(ctx, tiles, 1001, 70_000); err != nil {
		t.Fatal(err)
	}
	// The proofs of entries 1000 and 1001 share every node but their
	// leaf-level siblings: one tile (level 0) is read, not three.
	if n := tiles.reads.Load() - before; n != 1 {
		t.Errorf("the second proof read %d tiles, want 1 (the rest cached)", n)
	}
	if _, err := c.ReadNodes(ctx, tiles, 300, []compact.NodeID{compact.NewNodeID(9, 0)}); err == nil {
		t.Error("a node incomplete at size 300 was answered")
	}
}
