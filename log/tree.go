package log

import (
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// tileHeight is the height of a C2SP tile: a tile at level L stores the
// nodes of level 8L of the Merkle tree, 256 to a tile.
const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
)

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// tree is the sequencer's in-memory view of the right edge of the log: the
// compact range that yields the root, the partial hash tile of every level,
// and the open entry bundle. Everything left of the edge is immutable and
// lives only in storage. A tree is owned by the sequencer goroutine.
type tree struct {
	rng *compact.Range
	// edge[L] holds the hashes of the rightmost tile of level L that is not
	// yet full (possibly none of them).
	edge [][]byte
	// bundle holds the encoded entries of the open entry bundle, n of them.
	bundle []byte
	n      int
}

// loadTree rebuilds the right edge of a tree of the given size from stored
// tiles and checks that it hashes to root.
func loadTree(ctx context.Context, s Storage, size uint64, root verify.Hash) (*tree, error) {
	r := storageTiles{s}
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := verify.ReadNodes(ctx, r, size, ids)
	if err != nil {
		return nil, fmt.Errorf("reading the tree's right edge: %w", err)
	}
	raw := make([][]byte, len(hashes))
	for i := range hashes {
		raw[i] = hashes[i][:]
	}
	rng, err := rangeFactory.NewRange(0, size, raw)
	if err != nil {
		return nil, err
	}
	t := &tree{rng: rng}
	if got := t.root(); got != root {
		return nil, fmt.Errorf("stored tiles hash to %v, the checkpoint says %v: %w", got, root, ErrCorrupt)
	}
	if err := t.loadEdge(ctx, s, size); err != nil {
		return nil, err
	}
	return t, nil
}

// loadEdge reads the partial tile of each level and the open bundle.
func (t *tree) loadEdge(ctx context.Context, s Storage, size uint64) error {
	for level := 0; size>>(tileHeight*level) > 0; level++ {
		c := size >> (tileHeight * level)
		w := int(c % tileWidth)
		var hashes []byte
		if w > 0 {
			data, err := s.HashTile(ctx, level, c/tileWidth)
			if err != nil {
				return fmt.Errorf("reading tile %d/%d: %w", level, c/tileWidth, readFailed(err))
			}
			if len(data) < w*32 {
				return fmt.Errorf("reading tile %d/%d: %w", level, c/tileWidth, corrupt(err))
			}
			hashes = append([]byte(nil), data[:w*32]...)
		}
		t.edge = append(t.edge, hashes)
	}
	w := int(size % tileWidth)
	if w == 0 {
		return nil
	}
	data, err := s.EntryBundle(ctx, size/tileWidth)
	if err != nil {
		return fmt.Errorf("reading entry bundle %d: %w", size/tileWidth, readFailed(err))
	}
	n, err := bundlePrefix(data, w)
	if err != nil {
		return fmt.Errorf("entry bundle %d: %w", size/tileWidth, corrupt(err))
	}
	t.bundle, t.n = append([]byte(nil), data[:n]...), w
	return nil
}

// readFailed returns the error of a failed storage read of something that
// must be stored: ErrCorrupt if the storage says it is not, else
// ErrStorage, for a read that may well succeed again.
func readFailed(err error) error {
	if errors.Is(err, ErrNotFound) {
		return corrupt(err)
	}
	return fmt.Errorf("%w: %w", ErrStorage, err)
}

func corrupt(err error) error {
	if err == nil {
		return ErrCorrupt
	}
	return fmt.Errorf("%w (%w)", ErrCorrupt, err)
}

// size is the number of leaves in the tree.
func (t *tree) size() uint64 { return t.rng.End() }

// root is the RFC 6962 root hash of the tree.
func (t *tree) root() verify.Hash {
	if t.size() == 0 {
		return verify.EmptyRoot
	}
	h, err := t.rng.GetRootHash(nil)
	if err != nil {
		panic(err) // a range built from 0 always has a root
	}
	return verify.Hash(h)
}

// edit records what a batch changes, for the storage update.
type edit struct {
	tiles   map[[2]uint64][]byte // (level, n) -> hashes; the latest version wins
	bundles []BundleWrite
	start   int // position in the open bundle of the batch's first entry
}

// append adds one entry with its leaf hash to the right edge, recording the
// tiles and bundles it changes in e.
func (t *tree) append(entry []byte, leaf verify.Hash, e *edit) {
	index := t.size()
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level%tileHeight == 0 {
			t.store(int(id.Level/tileHeight), id.Index, hash, e)
		}
	}
	if err := t.rng.Append(leaf[:], visit); err != nil {
		panic(err) // appending to a valid range cannot fail
	}
	t.bundle = appendEntry(t.bundle, entry)
	t.n++
	if t.n == tileWidth {
		e.bundles = append(e.bundles, BundleWrite{N: index / tileWidth, Full: true, Data: t.bundle})
		t.bundle, t.n, e.start = nil, 0, 0
	}
}

// store writes the hash of stored node index at tile level level.
func (t *tree) store(level int, index uint64, hash []byte, e *edit) {
	for len(t.edge) <= level {
		t.edge = append(t.edge, nil)
	}
	t.edge[level] = append(t.edge[level], hash...)
	key := [2]uint64{uint64(level), index / tileWidth}
	e.tiles[key] = t.edge[level]
	if len(t.edge[level]) == tileWidth*32 {
		t.edge[level] = nil
	}
}

// finish completes e with the chunk of the open bundle written by the batch.
func (t *tree) finish(e *edit) {
	if t.n > e.start {
		// The chunk is everything after the entries of the bundle that
		// earlier batches wrote.
		off, err := bundlePrefix(t.bundle, e.start)
		if err != nil {
			panic(err) // t.bundle is our own encoding
		}
		e.bundles = append(e.bundles, BundleWrite{
			N: t.size() / tileWidth, Start: e.start, Data: t.bundle[off:],
		})
	}
}

func (e *edit) tileWrites() []TileWrite {
	w := make([]TileWrite, 0, len(e.tiles))
	for k, hashes := range e.tiles {
		w = append(w, TileWrite{Level: int(k[0]), N: k[1], Hashes: hashes})
	}
	return w
}

// appendEntry appends a C2SP entry-bundle record; entry sizes were checked
// by Append.
func appendEntry(dst, entry []byte) []byte {
	dst = append(dst, byte(len(entry)>>8), byte(len(entry)))
	return append(dst, entry...)
}

// bundlePrefix returns the length in bytes of the first n entries of an
// entry bundle.
func bundlePrefix(data []byte, n int) (int, error) {
	off := 0
	for i := 0; i < n; i++ {
		if len(data)-off < 2 {
			return 0, fmt.Errorf("bundle has %d entries, want %d", i, n)
		}
		l := int(data[off])<<8 | int(data[off+1])
		if len(data)-off-2 < l {
			return 0, fmt.Errorf("entry %d is truncated", i)
		}
		off += 2 + l
	}
	return off, nil
}

// storageTiles reads tiles from storage for verify's tile-based provers.
type storageTiles struct{ s Storage }

func (r storageTiles) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	data, err := r.s.HashTile(ctx, t.Level, t.N)
	if errors.Is(err, ErrNotFound) {
		// Callers only read tiles of committed trees.
		return nil, fmt.Errorf("tile %s is missing: %w", t.Path(), ErrCorrupt)
	} else if err != nil {
		return nil, fmt.Errorf("tile %s: %w", t.Path(), readFailed(err))
	}
	if len(data) < t.Width*32 {
		return nil, fmt.Errorf("tile %s has %d hashes: %w", t.Path(), len(data)/32, ErrCorrupt)
	}
	return data[:t.Width*32], nil
}
