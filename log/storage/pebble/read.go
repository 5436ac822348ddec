package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pledgelog/pledgelog/log"
)

// Checkpoint implements log.Storage.
func (s *Storage) Checkpoint(ctx context.Context) ([]byte, error) {
	return s.get(latestKey)
}

// CheckpointAt implements log.Storage.
func (s *Storage) CheckpointAt(ctx context.Context, size uint64) ([]byte, error) {
	return s.get(checkpointKey(size))
}

// HashTile implements log.Storage.
func (s *Storage) HashTile(ctx context.Context, level int, n uint64) ([]byte, error) {
	if level < 0 || level > maxLevel {
		return nil, log.ErrNotFound
	}
	return s.get(tileKey(level, n))
}

// get returns a copy of the value of key, or log.ErrNotFound.
func (s *Storage) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, log.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pebble: reading %q: %w", key[:1], err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// Checkpoints implements log.Storage.
func (s *Storage) Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error) {
	if limit <= 0 {
		return nil, nil
	}
	var cps [][]byte
	err := s.scan(ctx, []byte{kindCheckpoint}, checkpointKey(before), func(it *pebble.Iterator) {
		for ok := it.Last(); ok && len(cps) < limit; ok = it.Prev() {
			cps = append(cps, bytes.Clone(it.Value()))
		}
	})
	if err != nil {
		return nil, err
	}
	return cps, nil
}

// EntryBundle implements log.Storage. The full bundle, if stored, is the
// first key of the range; else the chunks follow in order of their start.
func (s *Storage) EntryBundle(ctx context.Context, n uint64) ([]byte, error) {
	key := bundleKey(n)
	var b []byte
	found := false
	err := s.scan(ctx, key, prefixEnd(key), func(it *pebble.Iterator) {
		for ok := it.First(); ok; ok = it.Next() {
			found = true
			b = append(b, it.Value()...)
			if len(it.Key()) == len(key) {
				break // a full bundle: any chunk left is stale
			}
		}
	})
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, log.ErrNotFound
	}
	return b, nil
}

// Dedup implements log.Storage. One iterator serves all the keys, so that
// they are read from one state of the store; SeekPrefixGE consults the
// Bloom filters as a point lookup does.
func (s *Storage) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	res := make([]log.DedupResult, len(keys))
	if len(keys) == 0 {
		return res, nil
	}
	var bad error
	err := s.scan(ctx, []byte{kindDedup}, []byte{kindDedup + 1}, func(it *pebble.Iterator) {
		var k []byte
		for i, key := range keys {
			k = appendDedupKey(k[:0], key)
			if !it.SeekPrefixGE(k) || !bytes.Equal(it.Key(), k) {
				continue
			}
			if v := it.Value(); len(v) == 8 {
				res[i] = log.DedupResult{Index: binary.BigEndian.Uint64(v), Found: true}
			} else {
				bad = fmt.Errorf("pebble: dedup key %x holds %d bytes, want 8", key, len(v))
			}
		}
	})
	if err = errors.Join(err, bad); err != nil {
		return nil, err
	}
	return res, nil
}

// Rows implements log.Storage.
func (s *Storage) Rows(ctx context.Context, table string, start, end []byte, limit int) ([]log.Row, error) {
	if limit <= 0 || len(table) > maxTableLen {
		return nil, nil
	}
	prefix := rowPrefix(table)
	lower := append(prefix[:len(prefix):len(prefix)], start...)
	upper := prefixEnd(prefix)
	if end != nil {
		upper = append(prefix[:len(prefix):len(prefix)], end...)
	}
	if bytes.Compare(lower, upper) >= 0 {
		return nil, nil
	}
	var rows []log.Row
	err := s.scan(ctx, lower, upper, func(it *pebble.Iterator) {
		for ok := it.First(); ok && len(rows) < limit; ok = it.Next() {
			key := bytes.Clone(it.Key()[len(prefix):])
			rows = append(rows, log.Row{Table: table, Key: key, Value: bytes.Clone(it.Value())})
		}
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// scan calls f with an iterator over keys in [lower, upper), and closes it.
func (s *Storage) scan(ctx context.Context, lower, upper []byte, f func(*pebble.Iterator)) error {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebble: reading %q: %w", lower[:1], err)
	}
	f(it)
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("pebble: reading %q: %w", lower[:1], err)
	}
	return nil
}
