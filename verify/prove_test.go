package verify_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
)

// refTree is a tree built by x/mod's tlog: its stored hashes, from which
// tlog.ReadTileData makes tiles and tlog proves records and trees.
type refTree struct {
	hashes []tlog.Hash
	size   int64
}

func (r *refTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(r.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = r.hashes[x]
	}
	return out, nil
}

func newRefTree(t testing.TB, size int64) *refTree {
	t.Helper()
	r := &refTree{}
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	entry := make([]byte, 16)
	for ; r.size < size; r.size++ {
		for i := range entry {
			entry[i] = byte(rng.Uint32())
		}
		hs, err := tlog.StoredHashes(r.size, entry, r)
		if err != nil {
			t.Fatal(err)
		}
		r.hashes = append(r.hashes, hs...)
	}
	return r
}

// tiles returns a TileReader for the tree of size leaves. It fails the test
// if asked for a tile that x/mod says does not exist at that size, or for a
// tile twice. With wide, it returns the tile as wide as the whole tree has
// it, as a server that keeps only the widest version does.
func (r *refTree) tiles(t *testing.T, size uint64, wide bool) verify.TileReader {
	exists := make(map[tlog.Tile]bool)
	for _, xt := range tlog.NewTiles(8, 0, int64(size)) {
		exists[xt] = true
	}
	read := make(map[verify.Tile]bool)
	return verify.TileReaderFunc(func(_ context.Context, tile verify.Tile) ([]byte, error) {
		xt := toTlog(tile)
		if !exists[xt] {
			t.Errorf("size %d: read tile %s, which does not exist", size, tile.Path())
			return nil, errors.New("no such tile")
		}
		if read[tile] {
			t.Errorf("size %d: read tile %s twice", size, tile.Path())
		}
		read[tile] = true
		if wide {
			xt = toTlog(verify.TileForIndex(tile.Level, tile.N*256, uint64(r.size)))
		}
		return tlog.ReadTileData(xt, r)
	})
}

func toHashes2(hs []tlog.Hash) []verify.Hash {
	out := make([]verify.Hash, len(hs))
	for i, h := range hs {
		out[i] = verify.Hash(h)
	}
	return out
}

// checkProofs compares TreeRoot, ProveInclusion and ProveConsistency at one
// size with x/mod's TreeHash, ProveRecord and ProveTree, and verifies them.
func (r *refTree) checkProofs(t *testing.T, size uint64, rng *rand.Rand, samples int) {
	ctx := t.Context()
	want, err := tlog.TreeHash(int64(size), r)
	if err != nil {
		t.Fatal(err)
	}
	root, err := verify.TreeRoot(ctx, r.tiles(t, size, rng.IntN(2) == 0), size)
	if err != nil || root != verify.Hash(want) {
		t.Fatalf("TreeRoot(%d) = %x, %v, want %x", size, root, err, want)
	}
	for _, i := range sample(size, rng, samples) {
		p, err := verify.ProveInclusion(ctx, r.tiles(t, size, rng.IntN(2) == 0), i, size)
		xp, xerr := tlog.ProveRecord(int64(size), int64(i), r)
		if err != nil || xerr != nil || !slices.Equal(p, toHashes2(xp)) {
			t.Errorf("ProveInclusion(%d, %d) = %x, %v; x/mod %x, %v", i, size, p, err, xp, xerr)
			continue
		}
		if err := verify.Inclusion(verify.Hash(r.hashes[tlog.StoredHashIndex(0, int64(i))]), i, size, p, root); err != nil {
			t.Errorf("Inclusion(%d, %d) = %v", i, size, err)
		}
	}
	for _, old := range sample(size+1, rng, samples) {
		p, err := verify.ProveConsistency(ctx, r.tiles(t, size, rng.IntN(2) == 0), old, size)
		var xp tlog.TreeProof
		var xerr error
		if old > 0 {
			xp, xerr = tlog.ProveTree(int64(size), int64(old), r)
		}
		if err != nil || xerr != nil || !slices.Equal(p, toHashes2(xp)) {
			t.Errorf("ProveConsistency(%d, %d) = %x, %v; x/mod %x, %v", old, size, p, err, xp, xerr)
			continue
		}
		oldRoot, _ := tlog.TreeHash(int64(old), r)
		if err := verify.Consistency(old, size, p, verify.Hash(oldRoot), root); err != nil {
			t.Errorf("Consistency(%d, %d) = %v", old, size, err)
		}
	}
}

// sample returns up to n indexes below size, including both ends.
func sample(size uint64, rng *rand.Rand, n int) []uint64 {
	if size <= uint64(n) {
		var all []uint64
		for i := range size {
			all = append(all, i)
		}
		return all
	}
	s := []uint64{0, 1, size / 2, size - 2, size - 1}
	for len(s) < n {
		s = append(s, rng.Uint64N(size))
	}
	return s
}

func TestProveSmallTrees(t *testing.T) {
	maxSize, samples := uint64(600), 40
	if testing.Short() {
		maxSize, samples = 600, 12
	}
	r := newRefTree(t, int64(maxSize))
	rng := rand.New(rand.NewPCG(8, 9))
	for size := uint64(1); size <= maxSize; size++ {
		r.checkProofs(t, size, rng, samples)
	}
}

func TestProveLargeTrees(t *testing.T) {
	sizes := []uint64{65535, 65536, 65537, 65536 + 255, 65536 + 256, 70000}
	r := newRefTree(t, 70000)
	rng := rand.New(rand.NewPCG(10, 11))
	for _, size := range sizes {
		r.checkProofs(t, size, rng, 30)
	}
}

func TestProveErrors(t *testing.T) {
	r := newRefTree(t, 300)
	ctx := t.Context()
	if _, err := verify.ProveInclusion(ctx, r.tiles(t, 300, false), 300, 300); !errors.Is(err, verify.ErrOutOfRange) {
		t.Errorf("ProveInclusion(300, 300) = %v, want ErrOutOfRange", err)
	}
	if _, err := verify.ProveConsistency(ctx, r.tiles(t, 300, false), 20, 10); !errors.Is(err, verify.ErrOutOfRange) {
		t.Errorf("ProveConsistency(20, 10) = %v, want ErrOutOfRange", err)
	}
	if p, err := verify.ProveConsistency(ctx, r.tiles(t, 300, false), 0, 300); err != nil || p == nil || len(p) != 0 {
		t.Errorf("ProveConsistency(0, 300) = %v, %v, want an empty proof", p, err)
	}
	incomplete := []compact.NodeID{compact.NewNodeID(2, 74)} // leaves 296..299 and 300..., beyond 300
	if _, err := verify.ReadNodes(ctx, r.tiles(t, 300, false), 299, incomplete); !errors.Is(err, verify.ErrOutOfRange) {
		t.Errorf("ReadNodes(incomplete node) = %v, want ErrOutOfRange", err)
	}
	if _, err := verify.ReadNodes(ctx, r.tiles(t, 300, false), 300, []compact.NodeID{compact.NewNodeID(64, 0)}); !errors.Is(err, verify.ErrOutOfRange) {
		t.Errorf("ReadNodes(level 64) = %v, want ErrOutOfRange", err)
	}

	short := verify.TileReaderFunc(func(context.Context, verify.Tile) ([]byte, error) { return make([]byte, 31), nil })
	if _, err := verify.TreeRoot(ctx, short, 300); !errors.Is(err, verify.ErrShortTile) {
		t.Errorf("TreeRoot(short tiles) = %v, want ErrShortTile", err)
	}
	errGone := errors.New("gone")
	failing := verify.TileReaderFunc(func(context.Context, verify.Tile) ([]byte, error) { return nil, errGone })
	if _, err := verify.ProveInclusion(ctx, failing, 3, 300); !errors.Is(err, errGone) {
		t.Errorf("ProveInclusion(failing reader) = %v, want %v", err, errGone)
	}
	if root, err := verify.TreeRoot(ctx, failing, 0); err != nil || root != verify.EmptyRoot {
		t.Errorf("TreeRoot(0) = %x, %v, want EmptyRoot", root, err)
	}
}

// TestReadNodes checks every complete node of a tree against x/mod.
func TestReadNodes(t *testing.T) {
	const size = 1000
	r := newRefTree(t, size)
	for level := uint(0); size>>level > 0; level++ {
		var ids []compact.NodeID
		var want []verify.Hash
		for i := uint64(0); i < size>>level; i++ {
			ids = append(ids, compact.NewNodeID(level, i))
			h := r.hashes[tlog.StoredHashIndex(int(level), int64(i))] // x/mod stores every complete node
			want = append(want, verify.Hash(h))
		}
		got, err := verify.ReadNodes(t.Context(), r.tiles(t, size, false), size, ids)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ReadNodes(level %d) = %v, mismatch or error", level, err)
		}
	}
}
