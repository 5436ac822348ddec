package pebble_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// TestDiskFull fills a real, small file system (a tmpfs) until a commit
// does not fit: the disk-full hook removes the ballast, Pebble finishes the
// write instead of stopping the process, and the commit is durable; the
// store then refuses commits with log.ErrDiskFull, writing nothing, and
// serves reads, until space is freed and the ballast is back; after a
// reopen it holds exactly the committed batches.
func TestDiskFull(t *testing.T) {
	mnt := storagetest.Tmpfs(t, 24<<20)
	const ballast = 4 << 20
	dir, filler := filepath.Join(mnt, "db"), filepath.Join(mnt, "filler")
	st := create(t, dir, pebble.Options{})
	st.KeepBallast(ballast)
	if info, err := os.Stat(filepath.Join(dir, pebble.BallastName)); err != nil || info.Size() != ballast {
		t.Fatalf("ballast after KeepBallast: %v, %v", info, err)
	}
	s := &storagetest.Stream{MaxBatch: 128, Fixed: true, EntrySize: 8 << 10} // 1 MiB a batch
	commitN(t, st, s, 0, 1)

	avail := storagetest.Fill(t, filler, 512<<10)
	if free, err := st.FreeBytes(); err != nil || free != avail {
		t.Fatalf("FreeBytes() with the ballast in place = %d, %v; want %d", free, err, avail)
	}
	// The next batch does not fit in what is left: without the hook and
	// its ballast, Pebble's failed WAL write stops the process.
	commitN(t, st, s, 1, 2)
	if _, err := os.Stat(filepath.Join(dir, pebble.BallastName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ballast after the disk filled: %v, want it removed", err)
	}
	left := storagetest.Avail(t, mnt)
	if free, err := st.FreeBytes(); err != nil || free != 0 {
		t.Errorf("FreeBytes() with the ballast used = %d, %v; want 0 (%d bytes left on the disk)", free, err, left)
	}
	if err := st.Commit(t.Context(), s.Update(2)); !errors.Is(err, log.ErrDiskFull) {
		t.Fatalf("Commit with the ballast used = %v, want ErrDiskFull", err)
	}
	if err := s.Check(t.Context(), st, 2); err != nil {
		t.Fatalf("reads with the ballast used: %v", err)
	}
	t.Logf("%d bytes available before the batch that did not fit, %d after it, ballast %d", avail, left, ballast)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	commitN(t, st, s, 2, 3) // puts the ballast back first
	if info, err := os.Stat(filepath.Join(dir, pebble.BallastName)); err != nil || info.Size() != ballast {
		t.Errorf("ballast once space was freed: %v, %v", info, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := s.Check(t.Context(), st, 3); err != nil {
		t.Errorf("after reopening: %v", err)
	}
}
