package pebble

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Backup writes a consistent copy of the store into destDir, which must not
// exist, on the same file system: a Pebble checkpoint, with sstables hard
// linked where possible and the WAL flushed first. The copy holds every
// Update whose Commit returned before Backup was called, and opens with
// Open as a standalone store. Commits may go on meanwhile.
func (s *Storage) Backup(ctx context.Context, destDir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.Checkpoint(destDir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("pebble: backing up to %s: %w", destDir, err)
	}
	return nil
}

// FreeBytes returns the space available to the store on its file system,
// as statfs(2) reports it for an unprivileged user, less the size of the
// ballast while it is not in place (KeepBallast): the space the store may
// use before it eats into its reserve. Pebble cannot go on after a failed
// write to its WAL, so the server turns read-only while FreeBytes is below
// a watermark, before the disk fills. A missing ballast is put in place,
// when twice its size is free, by FreeBytes and Commit.
func (s *Storage) FreeBytes() (uint64, error) {
	s.ballast.ensure()
	u, err := s.fs.GetDiskUsage(s.dir)
	if err != nil {
		return 0, fmt.Errorf("pebble: free space of %s: %w", s.dir, err)
	}
	return u.AvailBytes - min(u.AvailBytes, s.ballast.missing()), nil
}
