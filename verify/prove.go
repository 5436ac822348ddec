package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

var (
	// ErrOutOfRange means a proof or node was asked for beyond the tree: an
	// index not below the size, a first size above the second, or a node
	// that is not complete. An API answers 400.
	ErrOutOfRange = errors.New("out of range")

	// ErrShortTile means a TileReader returned fewer bytes than the tile's
	// width needs. The tile store or the server is broken.
	ErrShortTile = errors.New("short tile")
)

// A TileReader reads the hash tiles of one log.
type TileReader interface {
	// ReadTile returns the contents of hash tile t (t.Level ≥ 0): its
	// t.Width hashes, 32 bytes each. It may return more, such as a wider
	// version of a partial tile; only the first t.Width*32 bytes are used.
	// It must not modify the returned bytes afterwards.
	//
	// The tiles are not authenticated by the reader: the functions that
	// use it return hashes that callers check against a signed root, as
	// [Inclusion] and [Consistency] do.
	ReadTile(ctx context.Context, t Tile) ([]byte, error)
}

// A TileReaderFunc is a function that is a [TileReader].
type TileReaderFunc func(ctx context.Context, t Tile) ([]byte, error)

// ReadTile returns f(ctx, t).
func (f TileReaderFunc) ReadTile(ctx context.Context, t Tile) ([]byte, error) {
	return f(ctx, t)
}

// ProveInclusion returns the inclusion proof of entry index in the tree of
// size leaves, read from its tiles, for [Inclusion].
func ProveInclusion(ctx context.Context, r TileReader, index, size uint64) ([]Hash, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("index %d, size %d: %w", index, size, ErrOutOfRange)
	}
	return prove(ctx, r, size, nodes, ReadNodes)
}

// ProveConsistency returns the consistency proof from the tree of size1
// leaves to the tree of size2 leaves, read from the tiles of the latter,
// for [Consistency]. It is empty if size1 is 0 or size1 == size2.
func ProveConsistency(ctx context.Context, r TileReader, size1, size2 uint64) ([]Hash, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("size %d > %d: %w", size1, size2, ErrOutOfRange)
	}
	if size1 == 0 || size1 == size2 {
		return []Hash{}, nil
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("size %d to %d: %v: %w", size1, size2, err, ErrOutOfRange)
	}
	return prove(ctx, r, size2, nodes, ReadNodes)
}

// readNodes is ReadNodes or a NodeCache's.
type readNodes func(ctx context.Context, r TileReader, size uint64, ids []compact.NodeID) ([]Hash, error)

func prove(ctx context.Context, r TileReader, size uint64, nodes proof.Nodes, read readNodes) ([]Hash, error) {
	hashes, err := read(ctx, r, size, nodes.IDs)
	if err != nil {
		return nil, err
	}
	rehashed, err := nodes.Rehash(hashSlices(hashes), func(l, r []byte) []byte {
		h := NodeHash(Hash(l), Hash(r))
		return h[:]
	})
	if err != nil {
		return nil, err
	}
	p := make([]Hash, len(rehashed))
	for i, h := range rehashed {
		p[i] = Hash(h)
	}
	return p, nil
}

// TreeRoot returns the root of the tree of size leaves, computed from its
// tiles. Compare it with a signed root before trusting the tiles.
func TreeRoot(ctx context.Context, r TileReader, size uint64) (Hash, error) {
	if size == 0 {
		return EmptyRoot, nil
	}
	hashes, err := ReadNodes(ctx, r, size, compact.RangeNodes(0, size, nil))
	if err != nil {
		return Hash{}, err
	}
	root := hashes[len(hashes)-1]
	for i := len(hashes) - 2; i >= 0; i-- {
		root = NodeHash(hashes[i], root)
	}
	return root, nil
}

// ReadNodes returns the hashes of complete subtrees of the tree of size
// leaves, read from its tiles. Node (level h, index i) is the root of
// leaves i*2^h to (i+1)*2^h-1. Tile level L stores the nodes of tree level
// 8L, so the node is the root of the 2^(h%8) hashes from i*2^(h%8) of tile
// level h/8, all in one tile. Each tile is read at most once per call.
func ReadNodes(ctx context.Context, r TileReader, size uint64, ids []compact.NodeID) ([]Hash, error) {
	tiles := make(map[Tile][]byte)
	hashes := make([]Hash, len(ids))
	for i, id := range ids {
		t, first, n, err := nodeTile(id, size)
		if err != nil {
			return nil, err
		}
		data, ok := tiles[t]
		if !ok {
			if data, err = readTile(ctx, r, t); err != nil {
				return nil, err
			}
			tiles[t] = data
		}
		hashes[i] = subtreeRoot(data[first*HashSize : (first+n)*HashSize])
	}
	return hashes, nil
}

// nodeTile returns the tile holding the tile-level hashes under node id,
// the position of the first one in the tile, and their number.
func nodeTile(id compact.NodeID, size uint64) (t Tile, first, n int, err error) {
	if id.Level >= 64 || id.Index >= size>>id.Level {
		return Tile{}, 0, 0, fmt.Errorf("node (%d, %d) is not complete at size %d: %w", id.Level, id.Index, size, ErrOutOfRange)
	}
	shift := id.Level % TileHeight
	start := id.Index << shift
	t = TileForIndex(int(id.Level/TileHeight), start, size)
	return t, int(start % TileWidth), 1 << shift, nil
}

func readTile(ctx context.Context, r TileReader, t Tile) ([]byte, error) {
	data, err := r.ReadTile(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.Path(), err)
	}
	if len(data) < t.Width*HashSize {
		return nil, fmt.Errorf("%s has %d bytes: %w", t.Path(), len(data), ErrShortTile)
	}
	return data[:t.Width*HashSize], nil
}

// subtreeRoot returns the root of the perfect subtree whose 2^k (k < 8)
// lowest hashes are data.
func subtreeRoot(data []byte) Hash {
	var buf [TileWidth / 2]Hash
	n := len(data) / HashSize
	for i := range n {
		buf[i] = Hash(data[i*HashSize:])
	}
	for ; n > 1; n /= 2 {
		for i := range n / 2 {
			buf[i] = NodeHash(buf[2*i], buf[2*i+1])
		}
	}
	return buf[0]
}
