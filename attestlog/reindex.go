package attestlog

import (
	"context"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// reindexChunk is how many entries Reindex admits between two calls of
// its progress func.
const reindexChunk = 4096

// Reindex rebuilds every derived row (DerivedTables) of l from its
// entries alone, through l's rows-only rewrite (log.Log.RewriteRows): it
// deletes the rows, then admits every entry, in index order, into a fresh
// registry and writes the rows the hooks would have written. The
// checkpoint does not move, and no batch is sequenced meanwhile; open l
// without hooks (log.Open) on a stopped log. If Reindex fails midway, run
// it again. progress, if not nil, is called every 4096 entries and at the
// end with the entries done and the tree size.
func Reindex(ctx context.Context, l *log.Log, progress func(done, size uint64)) error {
	size := l.Latest().Size
	err := l.RewriteRows(ctx, DerivedTables, func(put func(...log.Row) error) error {
		reg := attest.NewRegistry(l.Origin())
		return forEntries(ctx, l, size, func(index uint64, entry []byte) error {
			env, err := attest.ParseLeaf(entry)
			h := verify.LeafHash(entry)
			if err == nil {
				_, err = reg.AdmitEnvelope(index, env, h)
			}
			if err != nil {
				return fmt.Errorf("reindex: entry %d is not admitted: %w", index, err)
			}
			if err := put(indexRows(reg, index, h)...); err != nil {
				return err
			}
			if progress != nil && (index+1)%reindexChunk == 0 {
				progress(index+1, size)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(size, size)
	}
	return nil
}

// forEntries calls fn for every entry below size, reading whole bundles.
func forEntries(ctx context.Context, l *log.Log, size uint64, fn func(uint64, []byte) error) error {
	for index := uint64(0); index < size; {
		data, err := l.ReadTile(ctx, verify.TileForIndex(verify.EntriesLevel, index, size))
		if err != nil {
			return err
		}
		entries, err := verify.ParseBundle(data)
		if err != nil {
			return fmt.Errorf("entry bundle at %d: %w", index, err)
		}
		for _, e := range entries[index%verify.TileWidth:] {
			if err := fn(index, e); err != nil {
				return err
			}
			index++
		}
	}
	return nil
}
