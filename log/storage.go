package log

import (
	"context"
	"errors"
)

// Storage is the log's persistent state, as the log engine needs it.
//
// A Storage holds, for one log: the latest signed checkpoint and the history
// of every checkpoint ever committed; hash tiles, each stored once at its
// widest width; entry bundles, full ones written once and the open one as a
// sequence of per-batch chunks; the dedup index; and derived rows.
//
// The log engine is the only writer and calls Commit from one goroutine at a
// time. Reads may run concurrently with each other and with Commit, from any
// goroutine, and must observe either all or none of a committed Update; a
// read of several keys (Dedup, Rows, EntryBundle) sees the store at one
// moment. Commit keeps no reference to the Update or its slices, and every
// slice a read returns belongs to the caller. Checkpoints, Rows and Dedup
// return empty results, never ErrNotFound.
//
// Implementations must be safe for concurrent use. The suite in
// log/storage/storagetest pins this contract down; every driver runs it.
type Storage interface {
	// Checkpoint returns the latest committed signed checkpoint, or
	// ErrNotFound if the log has never committed one (it was not created).
	Checkpoint(ctx context.Context) ([]byte, error)

	// CheckpointAt returns the signed checkpoint committed for tree size
	// size, or ErrNotFound if no batch ended at that size.
	CheckpointAt(ctx context.Context, size uint64) ([]byte, error)

	// Checkpoints returns up to limit signed checkpoints with size < before,
	// newest first.
	Checkpoints(ctx context.Context, before uint64, limit int) ([][]byte, error)

	// Commit applies u atomically and durably: when Commit returns nil, every
	// part of u survives a crash or power loss, and none of it is visible to
	// readers before all of it is. Commit must fail with ErrConflict, and
	// change nothing, if the stored latest checkpoint is not u.Prev (nil
	// meaning none is stored): this compare-and-swap is what keeps two
	// overlapping sequencers from forking the log. After any other error
	// the caller must assume nothing about what was stored and reload.
	Commit(ctx context.Context, u *Update) error

	// HashTile returns the widest stored version of hash tile (level, n),
	// or ErrNotFound. Callers truncate it to the width they need.
	HashTile(ctx context.Context, level int, n uint64) ([]byte, error)

	// EntryBundle returns entry bundle n: the full bundle if it was written,
	// else the concatenation of its chunks in order of their start, or
	// ErrNotFound. Callers truncate it to the width they need.
	EntryBundle(ctx context.Context, n uint64) ([]byte, error)

	// Dedup returns the index stored for each key (in the order given), and
	// whether it was found.
	Dedup(ctx context.Context, keys [][]byte) ([]DedupResult, error)

	// Rows returns up to limit rows of table whose keys k satisfy
	// start <= k < end (a nil end means no upper bound), in bytewise key
	// order.
	Rows(ctx context.Context, table string, start, end []byte, limit int) ([]Row, error)

	// Close releases the storage. It does not need to be called for
	// durability: every committed Update is already durable.
	Close() error
}

// Update is everything one sequenced batch writes, committed as one atomic
// and durable unit by Storage.Commit.
type Update struct {
	// Prev is the signed checkpoint the batch extends (nil for the first
	// commit, which creates the log); Checkpoint is the new one, for tree
	// size Size, and never empty. An update of rows alone (a reindex)
	// has Checkpoint equal to Prev.
	Prev, Checkpoint []byte
	Size             uint64

	// Tiles replaces each named hash tile with a wider version of itself.
	Tiles []TileWrite
	// Bundles writes entry bundle data: a chunk of the open bundle, or a
	// full bundle, which replaces (and lets the driver delete) its chunks.
	Bundles []BundleWrite
	// Dedup maps each key to the index of its entry.
	Dedup []DedupEntry
	// Rows are upserted or deleted in order.
	Rows []Row
	// Answers, only for a Shared storage, are the outcomes of the queued
	// requests the batch sequenced: Commit stores them and removes those
	// requests from the queue.
	Answers []Answer
}

// TileWrite is a hash tile at its new, wider width.
type TileWrite struct {
	Level  int
	N      uint64
	Hashes []byte
}

// BundleWrite is part of entry bundle N. Start is the position in the bundle
// of its first entry; a Full write has Start 0 and all 256 entries.
type BundleWrite struct {
	N     uint64
	Start int
	Full  bool
	Data  []byte
}

// DedupEntry records that the entry with dedup key Key is at Index.
type DedupEntry struct {
	Key   []byte
	Index uint64
}

// DedupResult is one answer of Storage.Dedup.
type DedupResult struct {
	Index uint64
	Found bool
}

// Row is one derived row, written by the Index hook atomically with the
// entry it was derived from. A Row upserts (Table, Key) → Value, or deletes
// that key when Delete is set.
type Row struct {
	Table  string
	Key    []byte
	Value  []byte
	Delete bool
}

var (
	// ErrNotFound is returned by Storage reads for what was never stored.
	ErrNotFound = errors.New("log: not found")
	// ErrConflict is returned by Storage.Commit when the stored checkpoint
	// moved under the caller: another sequencer committed. The caller must
	// stop sequencing and reload its state from storage.
	ErrConflict = errors.New("log: checkpoint changed under the sequencer")
)
