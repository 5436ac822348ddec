package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// The log of testdata/tessera, written by tessera v1.0.4 (see its README).
const (
	tesseraDir    = "testdata/tessera/log"
	tesseraOrigin = "example.com/log/testdata"
	tesseraVkey   = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
	tesseraSkey   = "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg"
	tesseraSize   = 15
)

var tesseraEntries = []string{"one", "two", "three", "four", "five", "six", "seven", "eit",
	"nain", "ten", "ileven", "twelf", "threeten", "fourten", "fivten"}

// tesseraTiles reads the tiles of the log as tessera wrote them.
var tesseraTiles = verify.TileReaderFunc(func(_ context.Context, t verify.Tile) ([]byte, error) {
	return os.ReadFile(filepath.Join(tesseraDir, filepath.FromSlash(t.Path())))
})

func TestTesseraLog(t *testing.T) {
	logKey := mustVerifier(t, tesseraVkey)
	signer := verify.NewEd25519Signer(tesseraOrigin, seedFromSkey(t, tesseraSkey))
	roots := make([]verify.Hash, tesseraSize+1)
	for size := range uint64(tesseraSize + 1) {
		msg, err := os.ReadFile(fmt.Sprintf("%s/checkpoint.%d", tesseraDir, size))
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := verify.OpenCheckpoint(msg, tesseraOrigin, []verify.Verifier{logKey}, nil, 0)
		if err != nil || c.Size != size {
			t.Fatalf("OpenCheckpoint(checkpoint.%d) = %+v, %v", size, c, err)
		}
		if again, err := verify.Sign(c.Text(), signer); err != nil || !bytes.Equal(again, msg) {
			t.Errorf("re-signing checkpoint.%d = %q, %v, want %q", size, again, err, msg)
		}
		root, err := verify.TreeRoot(t.Context(), tesseraTiles, size)
		if err != nil || root != c.Root {
			t.Errorf("TreeRoot(%d) = %v, %v, want %v", size, root, err, c.Root)
		}
		roots[size] = c.Root
	}
	for size2 := uint64(1); size2 <= tesseraSize; size2++ {
		for i := range size2 {
			p, err := verify.ProveInclusion(t.Context(), tesseraTiles, i, size2)
			leaf := verify.LeafHash([]byte(tesseraEntries[i]))
			if err != nil || verify.Inclusion(leaf, i, size2, p, roots[size2]) != nil {
				t.Errorf("inclusion of %d in %d: %v", i, size2, err)
			}
		}
		for size1 := range size2 + 1 {
			p, err := verify.ProveConsistency(t.Context(), tesseraTiles, size1, size2)
			if err != nil || verify.Consistency(size1, size2, p, roots[size1], roots[size2]) != nil {
				t.Errorf("consistency from %d to %d: %v", size1, size2, err)
			}
		}
	}
}

// TestTesseraTiles checks every tile path and entry bundle tessera wrote.
func TestTesseraTiles(t *testing.T) {
	var n int
	err := filepath.WalkDir(filepath.Join(tesseraDir, "tile"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tesseraDir, path)
		tile, err := verify.ParseTilePath(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		n++
		if tile.Level != verify.EntriesLevel {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		entries, err := verify.ParseBundle(data)
		if err != nil || len(entries) != tile.Width {
			return fmt.Errorf("%s: %d entries, %v", rel, len(entries), err)
		}
		hashes, err := tesseraTiles(t.Context(), verify.Tile{Level: 0, N: tile.N, Width: tile.Width})
		for i, e := range entries {
			if h := verify.LeafHash(e); err != nil || !bytes.Equal(h[:], hashes[32*i:32*i+32]) || string(e) != tesseraEntries[i] {
				return fmt.Errorf("%s: entry %d %q does not hash to its tile (%v)", rel, i, e, err)
			}
		}
		return nil
	})
	if err != nil || n != 2*tesseraSize {
		t.Errorf("walking tessera tiles: %d tiles, %v", n, err)
	}
}
