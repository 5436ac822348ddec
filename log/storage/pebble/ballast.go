package pebble

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/pledgelog/pledgelog/log"
)

// BallastName is the ballast file's name in the store's directory.
const BallastName = "pledgelog-ballast"

// ballast is the file the store deletes when the disk fills (see the
// package comment). Its methods are safe for concurrent use; release runs
// as Pebble's disk-full hook, with Pebble's writes blocked, and only
// removes a file.
type ballast struct {
	fs     vfs.FS // the file system under the disk-full hook
	path   string
	logger *slog.Logger

	mu      sync.Mutex
	size    int64 // the size to keep; 0: none
	present bool  // the file is in place, of size bytes
	failed  bool  // the last attempt to create it failed (and said so)
	// used is set when release removed the ballast, and cleared when it
	// is in place again: meanwhile Commit refuses.
	used atomic.Bool
}

func newBallast(fsys vfs.FS, dir string, logger *slog.Logger) *ballast {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ballast{fs: fsys, path: fsys.PathJoin(dir, BallastName), logger: logger.With("storage", "pebble")}
}

// release is Pebble's disk-full hook: a write failed with ENOSPC, and
// Pebble retries it once release returns. It removes the ballast, whatever
// its size, so that the retried write, and the flushes and compactions in
// flight, find room.
func (b *ballast) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.fs.Remove(b.path)
	switch {
	case err == nil:
		b.present = false
		b.used.Store(true)
		b.logger.Error("disk full: removed the ballast so that the store can finish its writes; commits are refused until there is space for it again",
			"ballast", b.path)
	case errors.Is(err, fs.ErrNotExist):
		b.logger.Error("disk full and no ballast left to remove: free space now", "ballast", b.path)
	default:
		b.logger.Error("disk full: cannot remove the ballast", "ballast", b.path, "err", err)
	}
}

// keep sets the size of the ballast to keep and puts it in place if the
// space allows.
func (b *ballast) keep(size int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.size, b.present, b.failed = max(size, 0), false, false
	if b.size == 0 {
		return
	}
	if info, err := b.fs.Stat(b.path); err == nil && info.Size() == b.size {
		b.present = true
		return
	}
	b.ensureLocked()
}

// ensure puts the ballast in place if it is missing and twice its size is
// free. While it is not, ensure costs a statfs(2).
func (b *ballast) ensure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ensureLocked()
}

func (b *ballast) ensureLocked() {
	if b.size == 0 || b.present {
		return
	}
	if err := b.create(); err != nil {
		if !b.failed {
			b.logger.Warn("no ballast: the store has no reserve if the disk fills", "ballast", b.path, "size", b.size, "err", err)
		}
		b.failed = true
		return
	}
	b.present, b.failed = true, false
	if b.used.Swap(false) {
		b.logger.Info("disk space back: ballast in place again; commits resume", "ballast", b.path, "size", b.size)
	} else {
		b.logger.Debug("ballast in place", "ballast", b.path, "size", b.size)
	}
}

// create writes the ballast if twice its size is free, so that it never
// takes the last of the space: a temporary file allocated in full, synced,
// then renamed over any ballast of another size.
func (b *ballast) create() error {
	dir := b.fs.PathDir(b.path)
	u, err := b.fs.GetDiskUsage(dir)
	if err != nil {
		return fmt.Errorf("cannot read the free space: %w", err)
	}
	if u.AvailBytes < 2*uint64(b.size) {
		return fmt.Errorf("%d MiB free, %d MiB needed to make it", u.AvailBytes>>20, 2*b.size>>20)
	}
	tmp := b.path + ".tmp"
	f, err := b.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	err = errors.Join(allocate(f, b.size), f.Sync(), f.Close())
	if err == nil {
		err = b.fs.Rename(tmp, b.path)
	}
	if err == nil {
		err = syncDir(b.fs, dir)
	}
	if err != nil {
		b.fs.Remove(tmp)
	}
	return err
}

// allocate gives f size bytes of disk: fallocate(2) where the file system
// has it (no data written), else zeros.
func allocate(f vfs.File, size int64) error {
	if fd := f.Fd(); fd != vfs.InvalidFd && fallocate(fd, size) == nil {
		return nil
	}
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(fsys vfs.FS, dir string) error {
	d, err := fsys.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// missing returns the bytes of the ballast not in place.
func (b *ballast) missing() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.present {
		return 0
	}
	return uint64(b.size)
}

// spent returns an error wrapping log.ErrDiskFull if the disk-full hook
// removed the ballast and it could not be put back.
func (b *ballast) spent() error {
	if !b.used.Load() {
		return nil
	}
	b.ensure()
	if b.used.Load() {
		return fmt.Errorf("pebble: %w: the disk filled and the ballast was used; free twice its size to resume", log.ErrDiskFull)
	}
	return nil
}
