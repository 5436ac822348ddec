package storagetest

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// Tmpfs mounts a new tmpfs of size bytes in a temporary directory, for a
// test that fills a real file system, and unmounts it when the test ends.
// Where mount(2) is not permitted (not root) the test is skipped, loudly,
// but under CI=true, where tests run as root, it fails.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		msg := fmt.Sprintf("NOT TESTED: cannot mount a %d-byte tmpfs on %s (%v); run as root to fill a real file system", size, dir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting the tmpfs on %s: %v", dir, err)
		}
	})
	return dir
}

// Avail returns the bytes available to an unprivileged user on the file
// system holding dir, as statfs(2) reports them.
func Avail(t testing.TB, dir string) uint64 {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	return fs.Bavail * uint64(fs.Frsize)
}

// Fill grows the file path until the file system holding it has at most
// avail bytes available (0: until it is full), and returns the bytes
// available then.
func Fill(t testing.TB, path string, avail uint64) uint64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		now := Avail(t, path)
		if now <= avail || now == 0 {
			return now
		}
		n := min(uint64(len(buf)), now-avail)
		if avail == 0 {
			n = uint64(len(buf))
		}
		if _, err := f.Write(buf[:n]); err != nil {
			if avail == 0 && isENOSPC(err) {
				return Avail(t, path)
			}
			t.Fatalf("filling %s: %v", path, err)
		}
	}
}

func isENOSPC(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == syscall.ENOSPC
}
