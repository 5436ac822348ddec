// Package pebble implements log.Storage on Pebble, the embedded key-value
// store of CockroachDB: the log's default storage, one directory and no
// server.
//
// # Guarantees
//
// Commit writes an Update as one Pebble batch, committed with a synced
// write-ahead log: when Commit returns nil the Update survives a crash or
// power loss, and a crash before that leaves either all of it or none. The
// compare-and-swap of the checkpoint reads the stored checkpoint and commits
// the batch under one mutex, which is enough because one process owns the
// directory: Pebble's LOCK file keeps any other out. Every read is served
// from a single Pebble iterator or point lookup, which sees only whole
// committed batches, so readers never see part of an Update.
//
// # Disk full
//
// Pebble cannot go on after a failed write to its WAL or MANIFEST: it
// stops the process. The log refuses appends while FreeBytes is below its
// watermark (log.Config.MinFreeBytes), but one batch, a flush or a
// compaction, or another program, may still fill the disk. So the store
// runs Pebble on its file system under Pebble's disk-full hook
// (vfs.OnDiskFull) and may keep a ballast (KeepBallast): a file of that
// many bytes, allocated in full, named BallastName in its directory. The
// first write that fails with ENOSPC holds the others while the hook
// removes the ballast, and is then retried once: the batch, flush or
// compaction in flight completes in the ballast's room, and a commit
// that returns nil is durable as ever. From then on Commit refuses,
// writing nothing, with an error wrapping log.ErrDiskFull, and FreeBytes
// reports the free space less the ballast's size, so the log is read-only
// and the reads go on. The ballast is put in place again (by KeepBallast,
// FreeBytes and Commit) as soon as twice its size is free, and commits
// resume without a restart. The ballast is never part of a Backup.
//
// # Key layout
//
// A key starts with one byte naming its kind. Integers are big-endian, so
// keys sort as their numbers do, and the keys of a kind are contiguous:
//
//	"c"                              latest signed checkpoint
//	"h" size:8                       signed checkpoint of tree size size
//	"t" level:1 n:8                  hash tile (level, n), widest version
//	"b" n:8                          full entry bundle n
//	"b" n:8 start:2                  chunk of open bundle n, from entry start
//	"d" key                          dedup key → index:8
//	"r" len(table):2 table key       derived row → value
//
// A full bundle's key is a prefix of its chunks' keys, so one iterator over
// "b" n reads the full bundle or, failing it, the chunks in order of their
// start; the batch that writes a full bundle deletes its chunks with a range
// deletion. Tables are prefixed with their length, so that table "a" never
// holds the keys of table "ab", and a row scan is one iterator over
// "r" len(table) table, in bytewise order of the keys. Dedup keys, random
// hashes in practice, are found by point lookups through Bloom filters kept
// on every level of the tree.
package pebble

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/pledgelog/pledgelog/log"
)

// Options configures a Storage. The zero value is ready to use.
type Options struct {
	// FS is the file system holding the directory; nil means the
	// operating system's.
	FS vfs.FS
	// Logger receives Pebble's messages: errors at Error level, routine
	// events at Debug. Nil discards them.
	Logger *slog.Logger
	// CacheSize is the memory in bytes for Pebble's block cache and its
	// memtables together, which Pebble charges to the cache; 0 means
	// 256 MiB. With the two 64 MiB memtables a busy log keeps, a cache
	// below 192 MiB caches little.
	CacheSize int64
}

// Storage is a log.Storage kept in a Pebble directory.
type Storage struct {
	db      *pebble.DB
	dir     string
	fs      vfs.FS // Options.FS, under the disk-full hook
	ballast *ballast
	close   func() error // closes db once

	// mu is held across the read-check-commit of Commit.
	mu sync.Mutex
	// sync is pebble.Sync; only tests of this package turn it off.
	sync *pebble.WriteOptions
}

var _ log.Storage = (*Storage)(nil)

// Open opens the store in directory dir. It fails with an error matching
// fs.ErrNotExist if dir holds no store, so that a mistyped path is never
// taken for a new, empty log.
func Open(dir string, opts Options) (*Storage, error) {
	desc, err := pebble.Peek(dir, opts.fs())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pebble: opening %s: %w", dir, err)
	}
	if err != nil || !desc.Exists {
		return nil, fmt.Errorf("pebble: no store in %s: %w", dir, fs.ErrNotExist)
	}
	return open(dir, opts, false)
}

// Create opens the store in directory dir, creating dir and an empty store
// if there is none. Whether the store holds a log is for Checkpoint to say.
func Create(dir string, opts Options) (*Storage, error) {
	return open(dir, opts, true)
}

func open(dir string, opts Options, create bool) (*Storage, error) {
	po := opts.pebble()
	po.ErrorIfNotExists = !create
	b := newBallast(po.FS, dir, opts.Logger)
	po.FS = vfs.OnDiskFull(po.FS, b.release)
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("pebble: opening %s: %w", dir, err)
	}
	return &Storage{db: db, dir: dir, fs: b.fs, ballast: b, close: sync.OnceValue(db.Close), sync: pebble.Sync}, nil
}

// KeepBallast makes the store keep a ballast file of size bytes in its
// directory (0: none), and puts it in place now if twice its size is free
// (see "Disk full" in the package comment). A ballast file of another size
// is replaced; with size 0 one left in the directory stays, unused but for
// a disk-full hook, which removes it.
func (s *Storage) KeepBallast(size int64) { s.ballast.keep(size) }

func (o Options) fs() vfs.FS {
	if o.FS == nil {
		return vfs.Default
	}
	return o.FS
}

// pebble returns Pebble's options for the log's workload: batches of
// entries of about 1 KiB written once and never updated, point lookups of
// random dedup keys, and scans of rows and checkpoints.
func (o Options) pebble() *pebble.Options {
	po := &pebble.Options{
		FS:                          o.fs(),
		Logger:                      newLogger(o.Logger),
		CacheSize:                   o.CacheSize,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                64 << 20, // 20% faster commits than 32 MiB
		MemTableStopWritesThreshold: 4,
	}
	if po.CacheSize == 0 {
		po.CacheSize = 256 << 20 // holds the dedup index of a million entries
	}
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10) // L0 too: Pebble's default has none
	}
	return po
}

// Close implements log.Storage. It may be called more than once.
func (s *Storage) Close() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("pebble: closing: %w", err)
	}
	return nil
}
