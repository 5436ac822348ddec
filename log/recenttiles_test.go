package log_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
)

// FuzzRecentTiles appends batches of the sizes the input says, some of
// them to a storage that refuses the commit (so that the same indexes are
// then appended with other entries) or fails it after it landed, and
// after each batch checks that every hash tile the log serves — the
// recent ones from memory (log/recenttiles.go) — is byte for byte the
// stored one, and that inclusion and consistency proofs from the log, and
// through a verify.NodeCache over the log, equal those computed afresh
// from the stored tiles, and verify.
func FuzzRecentTiles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 0x85, 200, 7})
	f.Add([]byte{255, 255, 0x90, 255, 255, 255, 0x41, 3, 255})
	f.Add(bytes.Repeat([]byte{0x7f}, 40)) // > recentTilesPerLevel level-0 tiles
	f.Add([]byte{0x3f, 0xbf, 0x01, 0x02}) // a refused batch, then shorter ones at its indexes
	f.Fuzz(func(t *testing.T, steps []byte) {
		if len(steps) > 64 {
			steps = steps[:64]
		}
		ctx := context.Background()
		inner := memory.New()
		st := faulty.New(inner)
		l, err := log.Create(ctx, testConfig(st))
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
		nodes := verify.NewNodeCache(512) // small: emptied often
		fresh := storedTiles{inner}
		var sizes []uint64 // committed sizes
		for step, b := range steps {
			n := 1 + int(b&0x3f)*5 // 1 to 316 entries
			entries := make([][]byte, n)
			for i := range entries {
				entries[i] = fmt.Appendf(nil, "step %d entry %d", step, i)
			}
			switch b >> 6 {
			case 2:
				st.FailCommits(faulty.Before, 0, false)
			case 3:
				st.FailCommits(faulty.After, 0, false)
			}
			_, err := l.AppendBatch(ctx, entries)
			st.Heal()
			if err != nil && !errors.Is(err, log.ErrStorage) {
				t.Fatalf("step %d: %v", step, err)
			}
			s := l.Latest()
			if len(sizes) == 0 || sizes[len(sizes)-1] != s.Size {
				sizes = append(sizes, s.Size)
			}
			checkStoredTiles(t, l, inner, s.Size)
			for _, size := range []uint64{s.Size, sizes[len(sizes)/2], sizes[(len(sizes)-1)*int(b&1)]} {
				if size == 0 {
					continue
				}
				root, err := verify.TreeRoot(ctx, fresh, size)
				if err != nil {
					t.Fatal(err)
				}
				for _, index := range []uint64{0, size - 1, size / 2, (size - 1) &^ 255, uint64(b) % size} {
					want, err := verify.ProveInclusion(ctx, fresh, index, size)
					if err != nil {
						t.Fatal(err)
					}
					// Asked twice: the second answer comes from the log's
					// proof cache, and a caller scribbling on the first
					// must not reach it.
					for try := range 2 {
						p, err := l.InclusionProof(ctx, index, size)
						if err != nil || !slices.Equal(p.Hashes, want) || p.LeafHash != verify.LeafHash(entryAt(t, l, index)) {
							t.Fatalf("step %d, try %d: InclusionProof(%d, %d) = %x, %v; afresh %x", step, try, index, size, p, err, want)
						}
						if len(p.Hashes) > 0 {
							p.Hashes[0][0] ^= 1
						}
					}
					got, err := nodes.ProveInclusion(ctx, l, index, size)
					if err != nil || !slices.Equal(got, want) {
						t.Fatalf("step %d: NodeCache.ProveInclusion(%d, %d) = %x, %v; afresh %x", step, index, size, got, err, want)
					}
					leaf, err := l.LeafHash(ctx, index)
					if err != nil {
						t.Fatal(err)
					}
					if err := verify.Inclusion(leaf, index, size, got, root); err != nil {
						t.Fatalf("step %d: proof of %d in %d: %v", step, index, size, err)
					}
				}
				if size < s.Size {
					want, err := verify.ProveConsistency(ctx, fresh, size, s.Size)
					if err != nil {
						t.Fatal(err)
					}
					for try := range 2 {
						p, err := l.ConsistencyProof(ctx, size, s.Size)
						if err != nil || !slices.Equal(p.Hashes, want) {
							t.Fatalf("step %d, try %d: ConsistencyProof(%d, %d) = %v, %v; afresh %x", step, try, size, s.Size, p, err, want)
						}
						if len(p.Hashes) > 0 {
							p.Hashes[0][0] ^= 1
						}
					}
				}
			}
		}
	})
}

// entryAt reads the entry at index of l.
func entryAt(t *testing.T, l *log.Log, index uint64) []byte {
	t.Helper()
	e, err := l.Entry(context.Background(), index)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkStoredTiles checks that every hash tile of the tree of size leaves, at
// every width, reads from l as it is stored in st.
func checkStoredTiles(t *testing.T, l *log.Log, st log.Storage, size uint64) {
	t.Helper()
	ctx := context.Background()
	for level := 0; size>>(8*level) > 0; level++ {
		c := size >> (8 * level)
		for n := uint64(0); n <= c/256; n++ {
			stored, err := st.HashTile(ctx, level, n)
			if errors.Is(err, log.ErrNotFound) && n == c/256 && c%256 == 0 {
				continue
			}
			if err != nil {
				t.Fatalf("stored tile %d/%d: %v", level, n, err)
			}
			w := 256
			if n == c/256 {
				w = int(c % 256)
			}
			for _, width := range []int{w, (w + 1) / 2, 1} {
				if width == 0 {
					continue
				}
				got, err := l.ReadTile(ctx, verify.Tile{Level: level, N: n, Width: width})
				if err != nil || !bytes.Equal(got, stored[:width*32]) {
					t.Fatalf("tile %d/%d.p/%d at size %d: read %d bytes (%v), stored %x…", level, n, width, size, len(got), err, stored[:min(len(stored), 8)])
				}
			}
		}
	}
}

// storedTiles reads hash tiles straight from a storage: the fresh
// computation the log's proofs are compared with.
type storedTiles struct{ s log.Storage }

func (r storedTiles) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	data, err := r.s.HashTile(ctx, t.Level, t.N)
	if err != nil {
		return nil, err
	}
	return data[:t.Width*32], nil
}
