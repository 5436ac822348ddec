package verify_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// RFC 6962 vectors from transparency-dev/merkle (Apache-2.0):
// testonly/constants.go, testonly/reference_test.go, rfc6962/rfc6962_test.go
// and testdata/consistency/4/happy-path.json.
var rfcLeaves = []string{"", "00", "10", "2021", "3031", "40414243",
	"5051525354555657", "606162636465666768696a6b6c6d6e6f"}

var rfcLeafHashes = []string{
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
}

// rfcRoots[n] is the root of the first n leaves.
var rfcRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

var rfcInclusion = []struct {
	index, size uint64
	proof       []string
}{
	{0, 1, nil},
	{0, 2, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
	{1, 2, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
	{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{0, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, []string{
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
}

var rfcConsistency = []struct {
	size1, size2 uint64
	proof        []string
}{
	{1, 1, nil},
	{1, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{2, 5, []string{
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{6, 8, []string{
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	{6, 7, []string{
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
}

func hexHash(t testing.TB, s string) verify.Hash {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != verify.HashSize {
		t.Fatalf("bad test hash %q", s)
	}
	return verify.Hash(b)
}

func hexHashes(t testing.TB, ss []string) []verify.Hash {
	hs := make([]verify.Hash, len(ss))
	for i, s := range ss {
		hs[i] = hexHash(t, s)
	}
	return hs
}

func TestRFC6962Hashes(t *testing.T) {
	for i, leaf := range rfcLeaves {
		entry, _ := hex.DecodeString(leaf)
		if got, want := verify.LeafHash(entry), hexHash(t, rfcLeafHashes[i]); got != want {
			t.Errorf("LeafHash(%q) = %x, want %x", leaf, got, want)
		}
	}
	want := "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
	if got := verify.LeafHash([]byte("L123456")); got != hexHash(t, want) {
		t.Errorf("LeafHash(L123456) = %x, want %s", got, want)
	}
	if got := verify.NodeHash(hexHash(t, rfcLeafHashes[0]), hexHash(t, rfcLeafHashes[1])); got != hexHash(t, rfcRoots[2]) {
		t.Errorf("NodeHash(leaf 0, leaf 1) = %x, want %s", got, rfcRoots[2])
	}
	if got := verify.EmptyRoot; got != hexHash(t, rfcRoots[0]) {
		t.Errorf("EmptyRoot = %x, want %s", got, rfcRoots[0])
	}
	if got, want := verify.EmptyRoot.String(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; got != want {
		t.Errorf("EmptyRoot.String() = %s, want %s", got, want)
	}
}

// rfcTiles serves the one level-0 tile of the RFC 6962 test tree.
func rfcTiles(t *testing.T) verify.TileReader {
	var tile []byte
	for _, h := range hexHashes(t, rfcLeafHashes) {
		tile = append(tile, h[:]...)
	}
	return verify.TileReaderFunc(func(_ context.Context, tl verify.Tile) ([]byte, error) {
		if tl.Level != 0 || tl.N != 0 || tl.Width > len(rfcLeafHashes) {
			return nil, fmt.Errorf("no tile %s", tl.Path())
		}
		return tile, nil // possibly wider than asked: must be truncated
	})
}

func TestRFC6962Roots(t *testing.T) {
	r := rfcTiles(t)
	for size := range uint64(len(rfcRoots)) {
		got, err := verify.TreeRoot(t.Context(), r, size)
		if want := hexHash(t, rfcRoots[size]); err != nil || got != want {
			t.Errorf("TreeRoot(%d) = %x, %v, want %x", size, got, err, want)
		}
	}
}

func TestRFC6962Inclusion(t *testing.T) {
	r := rfcTiles(t)
	for _, tc := range rfcInclusion {
		t.Run(fmt.Sprintf("%d,%d", tc.index, tc.size), func(t *testing.T) {
			want := hexHashes(t, tc.proof)
			got, err := verify.ProveInclusion(t.Context(), r, tc.index, tc.size)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("ProveInclusion(%d, %d) = %x, %v, want %x", tc.index, tc.size, got, err, want)
			}
			leaf, root := hexHash(t, rfcLeafHashes[tc.index]), hexHash(t, rfcRoots[tc.size])
			if err := verify.Inclusion(leaf, tc.index, tc.size, want, root); err != nil {
				t.Errorf("Inclusion(%d, %d) = %v", tc.index, tc.size, err)
			}
			checkInclusionMutations(t, leaf, tc.index, tc.size, want, root)
		})
	}
}

// checkInclusionMutations checks that changing any part of a valid
// inclusion proof makes it fail.
func checkInclusionMutations(t *testing.T, leaf verify.Hash, index, size uint64, p []verify.Hash, root verify.Hash) {
	t.Helper()
	fail := func(what string, err error) {
		if !errors.Is(err, verify.ErrInvalidProof) {
			t.Errorf("%s: Inclusion = %v, want ErrInvalidProof", what, err)
		}
	}
	flip := func(h verify.Hash) verify.Hash { h[7] ^= 0x10; return h }
	fail("wrong leaf", verify.Inclusion(flip(leaf), index, size, p, root))
	fail("wrong root", verify.Inclusion(leaf, index, size, p, flip(root)))
	fail("index+1", verify.Inclusion(leaf, index+1, size, p, root))
	fail("extra hash", verify.Inclusion(leaf, index, size, append(slices.Clone(p), root), root))
	for i := range p {
		q := slices.Clone(p)
		q[i] = flip(q[i])
		fail(fmt.Sprintf("proof[%d] changed", i), verify.Inclusion(leaf, index, size, q, root))
		fail(fmt.Sprintf("proof[%d] dropped", i), verify.Inclusion(leaf, index, size, slices.Delete(slices.Clone(p), i, i+1), root))
	}
	var mismatch *verify.RootMismatchError
	if err := verify.Inclusion(leaf, index, size, p, flip(root)); !errors.As(err, &mismatch) || mismatch.Computed != root || mismatch.Expected != flip(root) {
		t.Errorf("wrong root: Inclusion = %#v, want RootMismatchError{Computed: %x}", err, root)
	}
}

func TestRFC6962Consistency(t *testing.T) {
	r := rfcTiles(t)
	for _, tc := range rfcConsistency {
		t.Run(fmt.Sprintf("%d,%d", tc.size1, tc.size2), func(t *testing.T) {
			want := hexHashes(t, tc.proof)
			got, err := verify.ProveConsistency(t.Context(), r, tc.size1, tc.size2)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("ProveConsistency(%d, %d) = %x, %v, want %x", tc.size1, tc.size2, got, err, want)
			}
			root1, root2 := hexHash(t, rfcRoots[tc.size1]), hexHash(t, rfcRoots[tc.size2])
			if err := verify.Consistency(tc.size1, tc.size2, want, root1, root2); err != nil {
				t.Errorf("Consistency(%d, %d) = %v", tc.size1, tc.size2, err)
			}
			checkConsistencyMutations(t, tc.size1, tc.size2, want, root1, root2)
		})
	}
}

func checkConsistencyMutations(t *testing.T, size1, size2 uint64, p []verify.Hash, root1, root2 verify.Hash) {
	t.Helper()
	fail := func(what string, err error) {
		if !errors.Is(err, verify.ErrInvalidProof) {
			t.Errorf("%s: Consistency = %v, want ErrInvalidProof", what, err)
		}
	}
	flip := func(h verify.Hash) verify.Hash { h[3] ^= 0x01; return h }
	fail("wrong root1", verify.Consistency(size1, size2, p, flip(root1), root2))
	fail("wrong root2", verify.Consistency(size1, size2, p, root1, flip(root2)))
	if root1 != root2 {
		fail("swapped roots", verify.Consistency(size1, size2, p, root2, root1))
	}
	fail("extra hash", verify.Consistency(size1, size2, append(slices.Clone(p), root1), root1, root2))
	for i := range p {
		q := slices.Clone(p)
		q[i] = flip(q[i])
		fail(fmt.Sprintf("proof[%d] changed", i), verify.Consistency(size1, size2, q, root1, root2))
	}
}

func TestConsistencyFromEmpty(t *testing.T) {
	some := verify.LeafHash([]byte("x"))
	for _, tc := range []struct {
		size1, size2 uint64
		proof        []verify.Hash
		root1, root2 verify.Hash
		ok           bool
	}{
		{0, 0, nil, verify.EmptyRoot, verify.EmptyRoot, true},
		{0, 5, nil, verify.EmptyRoot, some, true},
		{0, 0, nil, some, some, false},
		{0, 0, nil, verify.EmptyRoot, some, false},
		{0, 5, nil, some, some, false},
		{0, 5, []verify.Hash{some}, verify.EmptyRoot, some, false},
		{0, 0, []verify.Hash{verify.EmptyRoot}, verify.EmptyRoot, verify.EmptyRoot, false},
		{5, 0, nil, some, verify.EmptyRoot, false},
	} {
		err := verify.Consistency(tc.size1, tc.size2, tc.proof, tc.root1, tc.root2)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, verify.ErrInvalidProof)) {
			t.Errorf("Consistency(%d, %d, %x, %x, %x) = %v, want ok=%v", tc.size1, tc.size2, tc.proof, tc.root1, tc.root2, err, tc.ok)
		}
	}
}

// Probes of transparency-dev/merkle's testdata, copied in testdata/merkle.
type inclusionProbe struct {
	LeafIdx  uint64   `json:"leafIdx"`
	TreeSize uint64   `json:"treeSize"`
	Root     []byte   `json:"root"`
	LeafHash []byte   `json:"leafHash"`
	Proof    [][]byte `json:"proof"`
	Desc     string   `json:"desc"`
	WantErr  bool     `json:"wantErr"`
}

type consistencyProbe struct {
	Size1   uint64   `json:"size1"`
	Size2   uint64   `json:"size2"`
	Root1   []byte   `json:"root1"`
	Root2   []byte   `json:"root2"`
	Proof   [][]byte `json:"proof"`
	Desc    string   `json:"desc"`
	WantErr bool     `json:"wantErr"`
}

// toHashes converts probe hashes; hashes that are not 32 bytes cannot be
// given to verify at all, which counts as a rejection.
func toHashes(bs ...[]byte) ([]verify.Hash, error) {
	hs := make([]verify.Hash, len(bs))
	for i, b := range bs {
		if len(b) != verify.HashSize {
			return nil, fmt.Errorf("hash of %d bytes", len(b))
		}
		hs[i] = verify.Hash(b)
	}
	return hs, nil
}

func readProbes[P any](t *testing.T, dir string, min int) map[string]P {
	probes := make(map[string]P)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var p P
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		probes[path] = p
		return nil
	})
	if err != nil || len(probes) < min {
		t.Fatalf("reading %s: %d probes, %v", dir, len(probes), err)
	}
	return probes
}

func TestMerkleInclusionVectors(t *testing.T) {
	for path, p := range readProbes[inclusionProbe](t, "testdata/merkle/inclusion", 90) {
		err := func() error {
			hs, err := toHashes(append([][]byte{p.LeafHash, p.Root}, p.Proof...)...)
			if err != nil {
				return err
			}
			return verify.Inclusion(hs[0], p.LeafIdx, p.TreeSize, hs[2:], hs[1])
		}()
		if (err != nil) != p.WantErr {
			t.Errorf("%s (%s): Inclusion = %v, want error %v", path, p.Desc, err, p.WantErr)
		}
	}
}

// inexpressible lists the probes that expect success with hashes that are
// not 32 bytes long: verify's typed API cannot even be asked.
var inexpressible = map[string]bool{
	// Equal sizes and equal 12-byte "roots": merkle does not check lengths.
	"testdata/merkle/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": true,
}

func TestMerkleConsistencyVectors(t *testing.T) {
	for path, p := range readProbes[consistencyProbe](t, "testdata/merkle/consistency", 80) {
		if inexpressible[filepath.ToSlash(path)] {
			if _, err := toHashes(p.Root1, p.Root2); err == nil {
				t.Errorf("%s: listed as inexpressible but its roots are hashes", path)
			}
			continue
		}
		err := func() error {
			hs, err := toHashes(append([][]byte{p.Root1, p.Root2}, p.Proof...)...)
			if err != nil {
				return err
			}
			return verify.Consistency(p.Size1, p.Size2, hs[2:], hs[0], hs[1])
		}()
		if (err != nil) != p.WantErr {
			t.Errorf("%s (%s): Consistency = %v, want error %v", path, p.Desc, err, p.WantErr)
		}
	}
}
