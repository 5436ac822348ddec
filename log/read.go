package log

import (
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

// ErrBeyondSize is returned for a tile, entry or proof beyond the committed
// tree. The caller should answer "not found" (HTTP 404) and not cache it.
var ErrBeyondSize = errors.New("log: beyond the committed tree size")

// ReadTile returns tile t (a hash tile or an entry bundle, see verify.Tile)
// as a C2SP client would fetch it: exactly t.Width hashes or entries. It
// fails with ErrBeyondSize if the committed tree does not have that tile at
// that width yet.
func (l *Log) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	if !exists(t, l.Latest().Size) {
		return nil, ErrBeyondSize
	}
	if t.Level == verify.EntriesLevel {
		data, err := l.cfg.Storage.EntryBundle(ctx, t.N)
		if err != nil {
			return nil, fmt.Errorf("log: reading %s: %w", t.Path(), readFailed(err))
		}
		n, err := bundlePrefix(data, t.Width)
		if err != nil {
			return nil, fmt.Errorf("log: reading %s: %w", t.Path(), corrupt(err))
		}
		return data[:n], nil
	}
	return hashTiles{l}.ReadTile(ctx, t)
}

// exists reports whether tile t, at its width or wider, is part of a tree of
// the given size.
func exists(t verify.Tile, size uint64) bool {
	level := max(t.Level, 0)
	if level >= 8 || t.Width < 1 || t.Width > tileWidth {
		return false
	}
	c := size >> (tileHeight * level) // stored hashes at this level
	return t.N < c/tileWidth || (t.N == c/tileWidth && uint64(t.Width) <= c%tileWidth)
}

// Entry returns the entry at index.
func (l *Log) Entry(ctx context.Context, index uint64) ([]byte, error) {
	size := l.Latest().Size
	if index >= size {
		return nil, ErrBeyondSize
	}
	t := verify.TileForIndex(verify.EntriesLevel, index, size)
	data, err := l.ReadTile(ctx, t)
	if err != nil {
		return nil, err
	}
	entries, err := verify.ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("log: %s: %w", t.Path(), corrupt(err))
	}
	return entries[index%tileWidth], nil
}

// LeafHash returns the RFC 6962 leaf hash of the entry at index, as stored
// in the level-0 tile.
func (l *Log) LeafHash(ctx context.Context, index uint64) (verify.Hash, error) {
	size := l.Latest().Size
	if index >= size {
		return verify.Hash{}, ErrBeyondSize
	}
	data, err := l.ReadTile(ctx, verify.TileForIndex(0, index, size))
	if err != nil {
		return verify.Hash{}, err
	}
	off := (index % tileWidth) * 32
	return verify.Hash(data[off : off+32]), nil
}

// Lookup returns the index of the committed entry with the given dedup key.
func (l *Log) Lookup(ctx context.Context, key []byte) (uint64, bool, error) {
	res, err := l.cfg.Storage.Dedup(ctx, [][]byte{key})
	if err != nil {
		return 0, false, fmt.Errorf("log: dedup lookup: %w: %w", ErrStorage, err)
	}
	if len(res) != 1 {
		return 0, false, fmt.Errorf("log: storage answered %d dedup keys, want 1", len(res))
	}
	return res[0].Index, res[0].Found, nil
}

// Rows returns derived rows, as Storage.Rows does.
func (l *Log) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]Row, error) {
	rows, err := l.cfg.Storage.Rows(ctx, table, start, end, limit)
	if err != nil {
		return nil, fmt.Errorf("log: rows of %s: %w: %w", table, ErrStorage, err)
	}
	return rows, nil
}

// Checkpoints returns up to limit committed signed checkpoints with size
// below before, newest first.
func (l *Log) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	cps, err := l.cfg.Storage.Checkpoints(ctx, before, limit)
	if err != nil {
		return nil, fmt.Errorf("log: checkpoints: %w: %w", ErrStorage, err)
	}
	return cps, nil
}
