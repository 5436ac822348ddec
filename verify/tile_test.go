package verify_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
)

var tilePaths = []struct {
	tile verify.Tile
	path string
}{
	{verify.Tile{Level: 0, N: 0, Width: 256}, "tile/0/000"},
	{verify.Tile{Level: 0, N: 999, Width: 256}, "tile/0/999"},
	{verify.Tile{Level: 0, N: 1000, Width: 256}, "tile/0/x001/000"},
	{verify.Tile{Level: 0, N: 1234067, Width: 256}, "tile/0/x001/x234/067"},
	{verify.Tile{Level: 0, N: 1000000, Width: 256}, "tile/0/x001/x000/000"},
	{verify.Tile{Level: 3, N: 1234067, Width: 1}, "tile/3/x001/x234/067.p/1"},
	{verify.Tile{Level: 1, N: 1, Width: 17}, "tile/1/001.p/17"},
	{verify.Tile{Level: 0, N: 273, Width: 112}, "tile/0/273.p/112"},
	{verify.Tile{Level: 63, N: 5, Width: 255}, "tile/63/005.p/255"},
	{verify.Tile{Level: verify.EntriesLevel, N: 0, Width: 3}, "tile/entries/000.p/3"},
	{verify.Tile{Level: verify.EntriesLevel, N: 1234067, Width: 256}, "tile/entries/x001/x234/067"},
	{verify.Tile{Level: 2, N: 1<<64 - 1, Width: 256}, "tile/2/x018/x446/x744/x073/x709/x551/615"},
}

func TestTilePath(t *testing.T) {
	for _, tc := range tilePaths {
		if got := tc.tile.Path(); got != tc.path {
			t.Errorf("%+v.Path() = %q, want %q", tc.tile, got, tc.path)
		}
		if got, err := verify.ParseTilePath(tc.path); err != nil || got != tc.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v, want %+v", tc.path, got, err, tc.tile)
		}
	}
}

var badTilePaths = []string{
	"", "tile", "tile/", "tile/0", "tile/0/", "tiles/0/000", "/tile/0/000", "tile/0/000/",
	"tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000", "tile/+1/000", "tile/ 1/000",
	"tile/data/000", "tile/entry/000", "tile/8/0/000", "tile/0/0", "tile/0/00", "tile/0/0000",
	"tile/0/x000/001", "tile/0/x000/x001/001", "tile/0/1/000", "tile/0/x01/000", "tile/0/x0001/000",
	"tile/0/001/x000", "tile/0/x001", "tile/0/+01", "tile/0/-01", "tile/0/0x1", "tile/0/ab1",
	"tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.p",
	"tile/0/000.p/1/2", "tile/0/000.p/1.p/1", "tile/0/000.p/+1", "tile/0/000.p/1000", "tile/0/000p/1",
	"tile/entries/000.p/256", "tile/entries/000.p/0",
	"tile/0/x018/x446/x744/x073/x709/x551/616",
	"tile/0/x001/x018/x446/x744/x073/x709/x551/615",
}

func TestParseTilePathRejects(t *testing.T) {
	for _, path := range badTilePaths {
		if got, err := verify.ParseTilePath(path); !errors.Is(err, verify.ErrMalformedTilePath) {
			t.Errorf("ParseTilePath(%q) = %+v, %v, want ErrMalformedTilePath", path, got, err)
		}
	}
}

func toTlog(t verify.Tile) tlog.Tile {
	return tlog.Tile{H: 8, L: t.Level, N: int64(t.N), W: t.Width}
}

func fromTlog(t tlog.Tile) verify.Tile {
	return verify.Tile{Level: t.L, N: uint64(t.N), Width: t.W}
}

// TestTilePathReferences compares paths with torchwood and x/mod.
func TestTilePathReferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		tile := verify.Tile{Level: rng.IntN(9) - 1, N: rng.Uint64N(1 << (4 * (i%15 + 1))), Width: 1 + rng.IntN(256)}
		if i%3 == 0 {
			tile.Width = 256
		}
		path := tile.Path()
		if got := torchwood.TilePath(toTlog(tile)); got != path {
			t.Errorf("torchwood.TilePath(%+v) = %q, Path = %q", tile, got, path)
		}
		xmod := strings.Replace(strings.TrimPrefix(toTlog(tile).Path(), "tile/8/"), "data/", "entries/", 1)
		if xmod = "tile/" + xmod; xmod != path {
			t.Errorf("x/mod path of %+v = %q, Path = %q", tile, xmod, path)
		}
		tw, err := torchwood.ParseTilePath(path)
		if got, err2 := verify.ParseTilePath(path); err != nil || err2 != nil || got != tile || fromTlog(tw) != tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; torchwood %+v, %v", path, got, err2, tw, err)
		}
	}
}

// xmodTiles converts tlog.NewTiles to our tiles: the same hash tiles, and
// entry bundles mirroring level 0, right after it.
func xmodTiles(oldSize, newSize uint64) []verify.Tile {
	var tiles []verify.Tile
	xtiles := tlog.NewTiles(8, int64(oldSize), int64(newSize))
	for i, xt := range xtiles {
		tiles = append(tiles, fromTlog(xt))
		if xt.L == 0 && (i+1 == len(xtiles) || xtiles[i+1].L != 0) {
			for _, e := range xtiles[:i+1] {
				tiles = append(tiles, verify.Tile{Level: verify.EntriesLevel, N: uint64(e.N), Width: e.W})
			}
		}
	}
	return tiles
}

func TestTilesForSize(t *testing.T) {
	sizes := []uint64{0, 1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 70000, 1<<24 - 1, 1 << 24, 1<<24 + 1}
	maxBits := 26
	if testing.Short() {
		sizes, maxBits = sizes[:13], 20
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		sizes = append(sizes, rng.Uint64N(1<<(1+rng.IntN(maxBits))))
	}
	for _, size := range sizes {
		if got, want := verify.TilesForSize(size), xmodTiles(0, size); !slices.Equal(got, want) {
			t.Errorf("TilesForSize(%d) = %v, want %v", size, got, want)
		}
		old := rng.Uint64N(size + 1)
		if got, want := verify.NewTiles(old, size), xmodTiles(old, size); !slices.Equal(got, want) {
			t.Errorf("NewTiles(%d, %d) = %v, want %v", old, size, got, want)
		}
	}
	if got := verify.NewTiles(10, 5); got != nil {
		t.Errorf("NewTiles(10, 5) = %v, want nil", got)
	}
}

func paths(tiles []verify.Tile) []string {
	var p []string
	for _, t := range tiles {
		p = append(p, t.Path())
	}
	return p
}

func rangePaths(prefix string, n int) []string {
	var p []string
	for i := range n {
		p = append(p, fmt.Sprintf("%s%03d", prefix, i))
	}
	return p
}

// TestTilesForSizeExamples checks worked examples of the tiles a tree of
// each size has, counted by hand from c2sp.org/tlog-tiles.
func TestTilesForSizeExamples(t *testing.T) {
	for _, tc := range []struct {
		size uint64
		want []string
	}{
		{0, nil},
		{1, []string{"tile/0/000.p/1", "tile/entries/000.p/1"}},
		{256, []string{"tile/0/000", "tile/entries/000", "tile/1/000.p/1"}},
		{257, []string{"tile/0/000", "tile/0/001.p/1", "tile/entries/000", "tile/entries/001.p/1", "tile/1/000.p/1"}},
		{65536, slices.Concat(rangePaths("tile/0/", 256), rangePaths("tile/entries/", 256), []string{"tile/1/000", "tile/2/000.p/1"})},
		{70000, slices.Concat(
			rangePaths("tile/0/", 273), []string{"tile/0/273.p/112"},
			rangePaths("tile/entries/", 273), []string{"tile/entries/273.p/112"},
			[]string{"tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"})},
	} {
		if got := paths(verify.TilesForSize(tc.size)); !slices.Equal(got, tc.want) {
			t.Errorf("TilesForSize(%d) = %v, want %v", tc.size, got, tc.want)
		}
	}
}

func TestTileForIndex(t *testing.T) {
	for _, tc := range []struct {
		level       int
		index, size uint64
		want        verify.Tile
	}{
		{0, 0, 1, verify.Tile{Level: 0, N: 0, Width: 1}},
		{0, 5, 70000, verify.Tile{Level: 0, N: 0, Width: 256}},
		{0, 69999, 70000, verify.Tile{Level: 0, N: 273, Width: 112}},
		{verify.EntriesLevel, 69999, 70000, verify.Tile{Level: verify.EntriesLevel, N: 273, Width: 112}},
		{0, 70000, 70000, verify.Tile{Level: 0, N: 273, Width: 0}},
		{1, 272, 70000, verify.Tile{Level: 1, N: 1, Width: 17}},
		{1, 273, 70000, verify.Tile{Level: 1, N: 1, Width: 0}},
		{2, 0, 70000, verify.Tile{Level: 2, N: 0, Width: 1}},
		{3, 0, 70000, verify.Tile{Level: 3, N: 0, Width: 0}},
		{7, 0, 1 << 56, verify.Tile{Level: 7, N: 0, Width: 1}},
		{8, 0, 1<<64 - 1, verify.Tile{Level: 8, N: 0, Width: 0}},
	} {
		if got := verify.TileForIndex(tc.level, tc.index, tc.size); got != tc.want {
			t.Errorf("TileForIndex(%d, %d, %d) = %+v, want %+v", tc.level, tc.index, tc.size, got, tc.want)
		}
	}
	// Every hash of every level lies in a tile that exists at that size.
	for _, size := range []uint64{1, 255, 256, 257, 600, 65537} {
		exists := make(map[verify.Tile]bool)
		for _, tile := range verify.TilesForSize(size) {
			exists[tile] = true
		}
		for level, count := 0, size; count > 0; level, count = level+1, count/256 {
			for i := uint64(0); i < count; i += 1 + i/7 {
				if tile := verify.TileForIndex(level, i, size); !exists[tile] {
					t.Errorf("TileForIndex(%d, %d, %d) = %+v, not in TilesForSize", level, i, size, tile)
				}
			}
		}
	}
}
