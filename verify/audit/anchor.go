package audit

import (
	"context"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

// anchors are the hashes, tied to the signed checkpoint before any entry
// is parsed, that each entry bundle must hash to: the root of every full
// bundle (the level 1 tile hashes) and the leaf hashes of the partial
// bundle at the end (its level 0 tile). They cost 32 bytes per 256 entries (125 KiB a
// million). So a mirror that serves crafted bytes can make the auditor
// hash them, never parse them: a leaf is parsed only once its hash is
// proven to be in the audited tree.
type anchors struct {
	full    []verify.Hash // root of entry bundle n, for n < size/256
	partial []verify.Hash // leaf hashes of the last, partial bundle
}

// anchor reads the level 1 hash tiles and the last partial level 0 tile
// and checks that they make the checkpoint's root.
func (a *auditor) anchor(ctx context.Context) error {
	full, err := a.level1(ctx)
	if err != nil {
		return err
	}
	a.anchors.full = full
	k, rest := a.cp.Size/verify.TileWidth, int(a.cp.Size%verify.TileWidth)
	if rest == 0 {
		if treeRoot(full, nil, a.cp.Size) != a.cp.Root {
			return fmt.Errorf("size %d: the level 1 tiles do not make the signed root %s: %w", a.cp.Size, a.cp.Root, ErrRoot)
		}
		return nil
	}
	tile := verify.Tile{Level: 0, N: k, Width: rest}
	b, err := a.cfg.Fetcher.ReadTile(ctx, tile)
	if err != nil {
		return err
	}
	if hs := tileHashes(b, rest); hs != nil && treeRoot(full, hs, a.cp.Size) == a.cp.Root {
		a.anchors.partial = hs
		return nil
	}
	// Say whether the tile or the entries are at fault: if the entries
	// make the root, the served level 0 tile differs from them.
	entries, err := a.cfg.Fetcher.Entries(ctx, k, rest)
	if err != nil {
		return err
	}
	leaves := make([]verify.Hash, rest)
	for i, e := range entries {
		leaves[i] = verify.LeafHash(e)
	}
	if treeRoot(full, leaves, a.cp.Size) == a.cp.Root {
		return compareTile(tile, b, leaves)
	}
	return fmt.Errorf("size %d: the tiles and entries do not make the signed root %s: %w", a.cp.Size, a.cp.Root, ErrRoot)
}

// level1 reads the hashes of the level 1 tiles of the audited tree.
func (a *auditor) level1(ctx context.Context) ([]verify.Hash, error) {
	k := a.cp.Size / verify.TileWidth
	out := make([]verify.Hash, 0, k)
	for n := uint64(0); n*verify.TileWidth < k; n++ {
		tile := verify.Tile{Level: 1, N: n, Width: int(min(k-n*verify.TileWidth, verify.TileWidth))}
		b, err := a.cfg.Fetcher.ReadTile(ctx, tile)
		if err != nil {
			return nil, err
		}
		hs := tileHashes(b, tile.Width)
		if hs == nil {
			return nil, fmt.Errorf("%s has %d bytes: %w", tile.Path(), len(b), verify.ErrShortTile)
		}
		out = append(out, hs...)
	}
	return out, nil
}

// tileHashes returns the first width hashes of tile data b, or nil if it
// is too short.
func tileHashes(b []byte, width int) []verify.Hash {
	if len(b) < width*verify.HashSize {
		return nil
	}
	hs := make([]verify.Hash, width)
	for i := range hs {
		hs[i] = verify.Hash(b[i*verify.HashSize:])
	}
	return hs
}

// treeRoot returns the root of the tree of the given size whose full
// entry bundles have the roots full and whose last, partial bundle has
// the leaf hashes leaves: the RFC 6962 root folded from the perfect
// subtrees of both, largest first.
func treeRoot(full, leaves []verify.Hash, size uint64) verify.Hash {
	if size == 0 {
		return verify.EmptyRoot
	}
	upper := rangeFactory.NewEmptyRange(0)
	for _, h := range full {
		upper.Append(h[:], nil) // bundle roots are the leaves of a tree 8 levels up
	}
	lower := rangeFactory.NewEmptyRange(uint64(len(full)) * verify.TileWidth)
	for _, h := range leaves {
		lower.Append(h[:], nil)
	}
	subtrees := append(upper.Hashes(), lower.Hashes()...)
	root := verify.Hash(subtrees[len(subtrees)-1])
	for i := len(subtrees) - 2; i >= 0; i-- {
		root = verify.NodeHash(verify.Hash(subtrees[i]), root)
	}
	return root
}

// anchored checks that the leaf hashes of entry bundle n are those the
// checkpoint commits to.
func (a *auditor) anchored(n uint64, hashes []verify.Hash) error {
	if len(hashes) < verify.TileWidth {
		if n != uint64(len(a.anchors.full)) || len(hashes) != len(a.anchors.partial) {
			return fmt.Errorf("entry bundle %d of %d entries is not in the audited tree: %w", n, len(hashes), ErrRoot)
		}
		for i, h := range hashes {
			if h != a.anchors.partial[i] {
				return fmt.Errorf("entry %d changed between two reads: %w", n*verify.TileWidth+uint64(i), ErrRoot)
			}
		}
		return nil
	}
	if n >= uint64(len(a.anchors.full)) {
		return fmt.Errorf("entry bundle %d is beyond the audited tree: %w", n, ErrRoot)
	}
	if bundleRoot(hashes) != a.anchors.full[n] {
		return &TileError{Tile: verify.TileForIndex(1, n, a.cp.Size), Hash: int(n % verify.TileWidth)}
	}
	return nil
}

// bundleRoot returns the root of the perfect subtree of a full bundle's
// leaf hashes.
func bundleRoot(hashes []verify.Hash) verify.Hash {
	r := rangeFactory.NewEmptyRange(0)
	for _, h := range hashes {
		r.Append(h[:], nil)
	}
	return verify.Hash(r.Hashes()[0])
}
