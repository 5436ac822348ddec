package log_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestTessera rebuilds Tessera's test log (verify/testdata/tessera) with the same
// key, one entry per batch, and compares every checkpoint, hash tile and
// entry bundle byte for byte.
func TestTessera(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "verify", "testdata", "tessera", "log")
	seed := mustB64(t, "AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg")[1:]
	cfg := log.Config{
		Origin:  "example.com/log/testdata",
		Signer:  ed25519Signer(t, ed25519.NewKeyFromSeed(seed)),
		Storage: memory.New(),
	}
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.VerifierKey(), "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"; got != want {
		t.Fatalf("VerifierKey() = %q, want %q", got, want)
	}
	run(t, l)
	words := strings.Fields("one two three four five six seven eit nain ten ileven twelf threeten fourten fivten")
	for size := 0; size <= len(words); size++ {
		if size > 0 {
			if _, err := l.Append(ctx, []byte(words[size-1])); err != nil {
				t.Fatal(err)
			}
		}
		want := readFile(t, filepath.Join(dir, fmt.Sprintf("checkpoint.%d", size)))
		if got := l.Latest().Checkpoint; !bytes.Equal(got, want) {
			t.Errorf("checkpoint at size %d =\n%s\nwant\n%s", size, got, want)
		}
		for _, tile := range verify.TilesForSize(uint64(size)) {
			want := readFile(t, filepath.Join(dir, tile.Path()))
			got, err := l.ReadTile(ctx, tile)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("ReadTile(%s) = %x, %v; want %x", tile.Path(), got, err, want)
			}
		}
	}
}

// refTree is an independent model of the log: x/mod's sumdb/tlog over
// an in-memory hash store.
type refTree struct {
	hashes  []tlog.Hash
	entries [][]byte
}

func (r *refTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = r.hashes[x]
	}
	return out, nil
}

func (r *refTree) add(entry []byte) {
	hs, err := tlog.StoredHashes(int64(len(r.entries)), entry, r)
	if err != nil {
		panic(err)
	}
	r.hashes = append(r.hashes, hs...)
	r.entries = append(r.entries, entry)
}

func (r *refTree) root(t *testing.T, size int64) tlog.Hash {
	h, err := tlog.TreeHash(size, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestReferences grows a log batch by batch through every size a batch
// ends on, to past 70,000 with sizes forced onto the tile boundaries, and
// checks checkpoints against x/mod's note, roots, hash tiles and proofs
// against x/mod's tlog, and entry bundles against torchwood.
func TestReferences(t *testing.T) {
	ctx := context.Background()
	l, vkey := newLog(t, memory.New())
	run(t, l)
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refTree{}
	rng := rand.New(rand.NewPCG(1, 2))
	targets := []int64{1, 2, 3, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 70000, 70001}
	var sizes []int64 // sizes of earlier checkpoints
	for size := int64(0); size < 70001; {
		n := min(int64(1+rng.IntN(700)), nextTarget(targets, size)-size)
		batch := make([][]byte, n)
		for i := range batch {
			batch[i] = fmt.Appendf(nil, "entry %d %x", size+int64(i), rng.Uint64())
			ref.add(batch[i])
		}
		if _, err := l.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		checkCheckpoint(t, l, verifier, size+n, ref.root(t, size+n))
		checkTiles(t, l, ref, size, size+n)
		if len(sizes) > 0 {
			checkProofs(t, l, ref, sizes[rng.IntN(len(sizes))], size+n, rng)
		}
		sizes = append(sizes, size+n)
		size += n
	}
}

func nextTarget(targets []int64, size int64) int64 {
	for _, x := range targets {
		if x > size {
			return x
		}
	}
	return size + 1
}

// checkCheckpoint opens the latest checkpoint with x/mod's note and checks
// its text.
func checkCheckpoint(t *testing.T, l *log.Log, v note.Verifier, size int64, root tlog.Hash) {
	t.Helper()
	n, err := note.Open(l.Latest().Checkpoint, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(checkpoint at %d): %v", size, err)
	}
	want := fmt.Sprintf("%s\n%d\n%s\n", l.Origin(), size, root)
	if n.Text != want {
		t.Fatalf("checkpoint text = %q, want %q", n.Text, want)
	}
}

// checkTiles compares every tile that changed from size old to size new
// with x/mod's, and the entry bundles' entries with torchwood's reading.
func checkTiles(t *testing.T, l *log.Log, ref *refTree, old, new int64) {
	t.Helper()
	ctx := context.Background()
	for _, tile := range tlog.NewTiles(8, old, new) {
		ours := verify.Tile{Level: tile.L, N: uint64(tile.N), Width: tile.W}
		got, err := l.ReadTile(ctx, ours)
		if err != nil {
			t.Fatalf("ReadTile(%s): %v", ours.Path(), err)
		}
		want, err := tlog.ReadTileData(tile, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("ReadTile(%s) = %x, want %x", ours.Path(), got, want)
		}
		if tile.L != 0 {
			continue
		}
		ours.Level = verify.EntriesLevel
		bundle, err := l.ReadTile(ctx, ours)
		if err != nil {
			t.Fatalf("ReadTile(%s): %v", ours.Path(), err)
		}
		for i := range tile.W {
			var entry []byte
			entry, bundle, err = torchwood.ReadTileEntry(bundle)
			if want := ref.entries[tile.N*256+int64(i)]; err != nil || !bytes.Equal(entry, want) {
				t.Fatalf("%s entry %d = %q, %v; want %q", ours.Path(), i, entry, err, want)
			}
		}
		if len(bundle) != 0 {
			t.Fatalf("%s has %d trailing bytes", ours.Path(), len(bundle))
		}
	}
}

// checkProofs compares an inclusion proof in the tree of size and a
// consistency proof from old to size with x/mod's.
func checkProofs(t *testing.T, l *log.Log, ref *refTree, old, size int64, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	index := rng.Int64N(size)
	p, err := l.InclusionProof(ctx, uint64(index), uint64(size))
	if err != nil {
		t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
	}
	want, err := tlog.ProveRecord(size, index, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !equalHashes(p.Hashes, want) {
		t.Fatalf("InclusionProof(%d, %d) = %v, want %v", index, size, p.Hashes, want)
	}
	c, err := l.ConsistencyProof(ctx, uint64(old), uint64(size))
	if err != nil {
		t.Fatalf("ConsistencyProof(%d, %d): %v", old, size, err)
	}
	if old == 0 {
		if len(c.Hashes) != 0 {
			t.Fatalf("ConsistencyProof(0, %d) = %v, want empty", size, c.Hashes)
		}
		return
	}
	tp, err := tlog.ProveTree(size, old, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !equalHashes(c.Hashes, tp) {
		t.Fatalf("ConsistencyProof(%d, %d) = %v, want %v", old, size, c.Hashes, tp)
	}
}

func equalHashes(ours []verify.Hash, theirs []tlog.Hash) bool {
	if len(ours) != len(theirs) {
		return false
	}
	for i := range ours {
		if ours[i] != verify.Hash(theirs[i]) {
			return false
		}
	}
	return true
}

func ed25519Signer(t testing.TB, key ed25519.PrivateKey) signature.Signer {
	s, err := signature.LoadED25519Signer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustB64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
