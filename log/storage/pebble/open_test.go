package pebble_test

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

func create(t *testing.T, dir string, opts pebble.Options) *pebble.Storage {
	t.Helper()
	st, err := pebble.Create(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestOpenMissing checks that Open tells a missing store from an empty one,
// and leaves no directory behind.
func TestOpenMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mistyped")
	if _, err := pebble.Open(dir, pebble.Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing) = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) created %s: %v", dir, err)
	}
	empty := t.TempDir()
	if _, err := pebble.Open(empty, pebble.Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(empty directory) = %v, want ErrNotExist", err)
	}
	create(t, dir, pebble.Options{}).Close()
	st, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		t.Fatalf("Open(created) = %v", err)
	}
	st.Close()
}

// TestOpenLocked checks that one store is not opened twice.
func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	create(t, dir, pebble.Options{})
	if st, err := pebble.Open(dir, pebble.Options{}); err == nil {
		st.Close()
		t.Errorf("Open(%s) while open succeeded", dir)
	}
}

// TestBackup checks that a backup opens as a store of its own, holding
// what was committed before it, and that Backup refuses to overwrite.
func TestBackup(t *testing.T) {
	dir, s := t.TempDir(), new(storagetest.Stream)
	st := create(t, filepath.Join(dir, "db"), pebble.Options{})
	commitN(t, st, s, 0, 30)
	dest := filepath.Join(dir, "backup")
	if err := st.Backup(t.Context(), dest); err != nil {
		t.Fatal(err)
	}
	commitN(t, st, s, 30, 40)
	if err := st.Backup(t.Context(), dest); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup(existing) = %v, want ErrExist", err)
	}
	b, err := pebble.Open(dest, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := s.Check(t.Context(), b, 30); err != nil {
		t.Error(err)
	}
}

func commitN(t *testing.T, st *pebble.Storage, s *storagetest.Stream, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := st.Commit(t.Context(), s.Update(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFreeBytes(t *testing.T) {
	dir := t.TempDir()
	got, err := create(t, dir, pebble.Options{}).FreeBytes()
	if err != nil {
		t.Fatal(err)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	want := fs.Bavail * uint64(fs.Frsize)
	if diff := int64(got - want); got == 0 || diff > 64<<20 || diff < -64<<20 {
		t.Errorf("FreeBytes() = %d, want about %d", got, want)
	}
}

// TestLogger checks that Pebble's messages reach the Logger.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	create(t, t.TempDir(), pebble.Options{Logger: l}).Close()
	if !strings.Contains(buf.String(), "storage=pebble") {
		t.Errorf("Logger got %q, want Pebble's messages", buf.String())
	}
}
