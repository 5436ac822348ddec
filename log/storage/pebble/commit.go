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

// Commit implements log.Storage. It builds the batch first, then holds the
// mutex only to check the stored checkpoint and commit. After the disk
// filled and the disk-full hook used the ballast, it refuses, writing
// nothing, with an error wrapping log.ErrDiskFull until the ballast is in
// place again.
func (s *Storage) Commit(ctx context.Context, u *log.Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(u); err != nil {
		return err
	}
	if err := s.ballast.spent(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := fill(b, u); err != nil {
		return fmt.Errorf("pebble: building batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	latest, err := s.get(latestKey)
	if err != nil && !errors.Is(err, log.ErrNotFound) {
		return fmt.Errorf("pebble: reading checkpoint: %w", err)
	}
	if !bytes.Equal(latest, u.Prev) {
		return log.ErrConflict
	}
	if err := b.Commit(s.sync); err != nil {
		return fmt.Errorf("pebble: committing: %w", err)
	}
	return nil
}

// check returns an error if u does not fit the key layout.
func check(u *log.Update) error {
	if len(u.Checkpoint) == 0 {
		return fmt.Errorf("pebble: commit of size %d without a checkpoint", u.Size)
	}
	for _, t := range u.Tiles {
		if t.Level < 0 || t.Level > maxLevel {
			return fmt.Errorf("pebble: tile level %d out of range", t.Level)
		}
	}
	for _, w := range u.Bundles {
		if !w.Full && (w.Start < 0 || w.Start > maxChunkStart) {
			return fmt.Errorf("pebble: chunk of bundle %d starts at %d", w.N, w.Start)
		}
	}
	for _, r := range u.Rows {
		if len(r.Table) > maxTableLen {
			return fmt.Errorf("pebble: table name of %d bytes", len(r.Table))
		}
	}
	return nil
}

// fill writes u into b. Pebble copies keys and values into the batch, so
// one key buffer serves for the many dedup keys and rows.
func fill(b *pebble.Batch, u *log.Update) error {
	err := errors.Join(
		b.Set(latestKey, u.Checkpoint, nil),
		b.Set(checkpointKey(u.Size), u.Checkpoint, nil),
	)
	for _, t := range u.Tiles {
		err = errors.Join(err, b.Set(tileKey(t.Level, t.N), t.Hashes, nil))
	}
	return errors.Join(err, fillBundles(b, u.Bundles), fillDedup(b, u.Dedup), fillRows(b, u.Rows))
}

func fillDedup(b *pebble.Batch, entries []log.DedupEntry) error {
	var err error
	var k []byte
	var v [8]byte
	for _, d := range entries {
		k = appendDedupKey(k[:0], d.Key)
		binary.BigEndian.PutUint64(v[:], d.Index)
		err = errors.Join(err, b.Set(k, v[:], nil))
	}
	return err
}

// fillRows upserts and deletes rows in order: a later row wins.
func fillRows(b *pebble.Batch, rows []log.Row) error {
	var err error
	var k []byte
	for _, r := range rows {
		k = appendRowKey(k[:0], r.Table, r.Key)
		if r.Delete {
			err = errors.Join(err, b.Delete(k, nil))
		} else {
			err = errors.Join(err, b.Set(k, r.Value, nil))
		}
	}
	return err
}

// fillBundles writes bundle chunks and full bundles, and then deletes the
// chunks of every full bundle: none outlives it, not even one written in
// the same batch.
func fillBundles(b *pebble.Batch, ws []log.BundleWrite) error {
	var err error
	for _, w := range ws {
		if w.Full {
			err = errors.Join(err, b.Set(bundleKey(w.N), w.Data, nil))
		} else {
			err = errors.Join(err, b.Set(chunkKey(w.N, w.Start), w.Data, nil))
		}
	}
	for _, w := range ws {
		if w.Full {
			full := bundleKey(w.N)
			err = errors.Join(err, b.DeleteRange(append(full, 0), prefixEnd(full), nil))
		}
	}
	return err
}
