package audit

import (
	"bytes"
	"context"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/transparency-dev/merkle/compact"
)

var rangeFactory = compact.RangeFactory{Hash: func(l, r []byte) []byte {
	h := verify.NodeHash(verify.Hash(l), verify.Hash(r))
	return h[:]
}}

// tree rebuilds the log's Merkle tree from its leaf hashes, in index
// order, and checks the hash tiles of levels 1 and up against the nodes it
// computes: hash i of tile (L, n) is the node of tree level 8L at index
// n*256+i. Level 0 tiles are checked by the fetch stage.
type tree struct {
	rng   *compact.Range
	tiles verify.TileReader
	size  uint64                // the size of the audited tree
	acc   map[int][]verify.Hash // nodes of the tile being filled, per level ≥ 1
	check bool                  // whether to fetch and compare tiles
	err   error                 // the first tile mismatch or fetch error
	ctx   context.Context
}

func newTree(ctx context.Context, tiles verify.TileReader, size uint64) *tree {
	return &tree{rng: rangeFactory.NewEmptyRange(0), tiles: tiles, size: size, acc: map[int][]verify.Hash{}, check: true, ctx: ctx}
}

// append adds the next leaf hash.
func (t *tree) append(h verify.Hash) error {
	if err := t.rng.Append(h[:], t.visit); err != nil {
		return err
	}
	return t.err
}

// visit collects the complete nodes of tree levels 8, 16, … as they are
// computed, which come in index order per level.
func (t *tree) visit(id compact.NodeID, hash []byte) {
	if id.Level == 0 || id.Level%verify.TileHeight != 0 || t.err != nil {
		return
	}
	L := int(id.Level / verify.TileHeight)
	t.acc[L] = append(t.acc[L], verify.Hash(hash))
	if len(t.acc[L]) == verify.TileWidth {
		t.err = t.compare(L, id.Index/verify.TileWidth, t.acc[L])
		t.acc[L] = t.acc[L][:0]
	}
}

// finish compares the partial tiles left and returns the root.
func (t *tree) finish() (verify.Hash, error) {
	for L, hs := range t.acc {
		if len(hs) > 0 && t.err == nil {
			c := t.size >> (verify.TileHeight * L)
			t.err = t.compare(L, c/verify.TileWidth, hs)
		}
	}
	if t.err != nil {
		return verify.Hash{}, t.err
	}
	root, err := t.rng.GetRootHash(nil)
	if err != nil {
		return verify.Hash{}, err
	}
	if root == nil {
		return verify.EmptyRoot, nil
	}
	return verify.Hash(root), nil
}

// compare fetches tile (L, n) of width len(hs) and compares it with hs.
func (t *tree) compare(L int, n uint64, hs []verify.Hash) error {
	if !t.check {
		return nil
	}
	tile := verify.Tile{Level: L, N: n, Width: len(hs)}
	b, err := t.tiles.ReadTile(t.ctx, tile)
	if err != nil {
		return err
	}
	return compareTile(tile, b, hs)
}

// compareTile checks that the served tile b holds the hashes hs.
func compareTile(tile verify.Tile, b []byte, hs []verify.Hash) error {
	for i, h := range hs {
		if len(b) < (i+1)*verify.HashSize || !bytes.Equal(b[i*verify.HashSize:(i+1)*verify.HashSize], h[:]) {
			return &TileError{Tile: tile, Hash: i}
		}
	}
	return nil
}

// rangeHashes returns the compact range's hashes, to save in a state.
func (t *tree) rangeHashes() []verify.Hash {
	var out []verify.Hash
	for _, h := range t.rng.Hashes() {
		out = append(out, verify.Hash(h))
	}
	return out
}
