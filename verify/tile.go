package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	// TileHeight is the number of tree levels a hash tile spans.
	TileHeight = 8
	// TileWidth is the number of hashes in a full tile (or entries in a
	// full entry bundle).
	TileWidth = 1 << TileHeight
	// EntriesLevel is the Level of an entry bundle, served at
	// "tile/entries/...". Entry bundle N holds the entries whose leaf hashes
	// are in level 0 hash tile N.
	EntriesLevel = -1
	// MaxTileLevel is the highest level a tile path may name.
	MaxTileLevel = 63
)

// ErrMalformedTilePath means a path is not a canonical c2sp.org/tlog-tiles
// tile path. A server should answer 404.
var ErrMalformedTilePath = errors.New("malformed tile path")

// A Tile names a hash tile or an entry bundle of c2sp.org/tlog-tiles.
//
// Hash tile (Level L ≥ 0, N) holds the hashes of level 8L of the tree, from
// N*256 to N*256+Width-1: leaf hashes for L = 0, and for L ≥ 1 the roots of
// full tiles of level L-1. Width is 1 to 256; 256 is a full tile, and
// anything less is a partial tile, the first Width hashes of the full tile
// to come.
type Tile struct {
	Level int    // 0 to 63, or EntriesLevel
	N     uint64 // tile index within its level
	Width int    // 1 to TileWidth
}

// Path returns the tile's path, "tile/<L>/<N>" or "tile/entries/<N>",
// with N in 3-digit groups ("x001/x234/067") and ".p/<W>" for a partial
// tile. It is defined only for valid tiles (see [ParseTilePath]).
func (t Tile) Path() string {
	b := make([]byte, 0, 48)
	b = append(b, "tile/"...)
	if t.Level == EntriesLevel {
		b = append(b, "entries"...)
	} else {
		b = strconv.AppendInt(b, int64(t.Level), 10)
	}
	b = append(b, '/')
	b = appendTileIndex(b, t.N)
	if t.Width != TileWidth {
		b = append(b, ".p/"...)
		b = strconv.AppendInt(b, int64(t.Width), 10)
	}
	return string(b)
}

// appendTileIndex appends n in 3-digit groups, all but the last prefixed
// with 'x'.
func appendTileIndex(b []byte, n uint64) []byte {
	p := uint64(1)
	for n/p >= 1000 {
		p *= 1000
	}
	for ; p > 1; p /= 1000 {
		b = append(b, 'x')
		b = append3Digits(b, n/p%1000)
		b = append(b, '/')
	}
	return append3Digits(b, n%1000)
}

func append3Digits(b []byte, d uint64) []byte {
	return append(b, byte('0'+d/100), byte('0'+d/10%10), byte('0'+d%10))
}

// ParseTilePath parses a tile path. It accepts exactly the paths that
// [Tile.Path] returns for valid tiles: levels 0 to 63 or "entries" without
// leading zeros, index groups of three digits with no leading "x000" group,
// and ".p/<W>" only for 1 ≤ W ≤ 255, without leading zeros.
func ParseTilePath(path string) (Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	level, rest, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return Tile{}, fmt.Errorf("%q: %w", path, ErrMalformedTilePath)
	}
	t := Tile{Level: EntriesLevel, Width: TileWidth}
	if level != "entries" {
		l, err := parseDecimal(level)
		if err != nil || l > MaxTileLevel {
			return Tile{}, fmt.Errorf("%q: bad level: %w", path, ErrMalformedTilePath)
		}
		t.Level = int(l)
	}
	index, width, partial := strings.Cut(rest, ".p/")
	if partial {
		w, err := parseDecimal(width)
		if err != nil || w == 0 || w >= TileWidth {
			return Tile{}, fmt.Errorf("%q: bad width: %w", path, ErrMalformedTilePath)
		}
		t.Width = int(w)
	}
	n, err := parseTileIndex(index)
	if err != nil {
		return Tile{}, fmt.Errorf("%q: %v: %w", path, err, ErrMalformedTilePath)
	}
	t.N = n
	return t, nil
}

// parseTileIndex parses the groups "x001/x234/067" of a tile path.
func parseTileIndex(s string) (uint64, error) {
	groups := strings.Split(s, "/")
	var n uint64
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok || (i == 0 && g == "000") {
				return 0, errors.New("bad index group")
			}
		}
		d, err := strconv.ParseUint(g, 10, 64)
		if err != nil || len(g) != 3 {
			return 0, errors.New("bad index group")
		}
		if n > (1<<64-1-d)/1000 {
			return 0, errors.New("index out of range")
		}
		n = n*1000 + d
	}
	return n, nil
}

// TilesForSize returns every hash tile and entry bundle of a tree of size
// leaves: for each level with c = size/256^L > 0 hashes, the full tiles
// 0 to c/256-1 and, if c%256 > 0, the partial tile c/256 of width c%256;
// and the entry bundles mirroring level 0. Tiles come level by level, the
// entry bundles after level 0. The result has about size/255 elements.
func TilesForSize(size uint64) []Tile {
	return NewTiles(0, size)
}

// NewTiles returns the tiles of a tree of newSize leaves that a tree of
// oldSize leaves lacks, in the order of [TilesForSize]: those to write
// when the tree grows from oldSize to newSize. Partial tiles of the old
// tree that grow are included with their new width. It returns nil if
// oldSize ≥ newSize.
func NewTiles(oldSize, newSize uint64) []Tile {
	if oldSize >= newSize {
		return nil
	}
	var tiles []Tile
	for level := 0; newSize>>(TileHeight*level) > 0; level++ {
		oldN, newN := oldSize>>(TileHeight*level), newSize>>(TileHeight*level)
		tiles = appendNewTiles(tiles, level, oldN, newN)
		if level == 0 {
			tiles = appendNewTiles(tiles, EntriesLevel, oldN, newN)
		}
	}
	return tiles
}

// appendNewTiles appends the tiles of one level that change when it grows
// from oldN to newN hashes.
func appendNewTiles(tiles []Tile, level int, oldN, newN uint64) []Tile {
	if oldN == newN {
		return tiles
	}
	for n := oldN / TileWidth; n < newN/TileWidth; n++ {
		tiles = append(tiles, Tile{Level: level, N: n, Width: TileWidth})
	}
	if w := newN % TileWidth; w > 0 {
		tiles = append(tiles, Tile{Level: level, N: newN / TileWidth, Width: int(w)})
	}
	return tiles
}

// TileForIndex returns the tile of a tree of size leaves that holds hash
// index of the tile level (level 8*level of the tree; for EntriesLevel,
// entry index), with the width it has at that size. If the tree has no
// such hash, the returned tile has Width 0.
func TileForIndex(level int, index uint64, size uint64) Tile {
	count := hashesAtLevel(level, size)
	t := Tile{Level: level, N: index / TileWidth}
	if index < count {
		t.Width = int(min(count-t.N*TileWidth, TileWidth))
	}
	return t
}

// hashesAtLevel returns how many hashes tile level holds in a tree of size.
func hashesAtLevel(level int, size uint64) uint64 {
	if level <= 0 {
		return size
	}
	if level >= 8 {
		return 0
	}
	return size >> (TileHeight * level)
}
