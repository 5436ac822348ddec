//go:build !linux

package storagetest

import (
	"os"
	"testing"
)

// Tmpfs skips the test, loudly (fails under CI=true): mounting a tmpfs
// is Linux's.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	msg := "NOT TESTED: mounting a tmpfs to fill a real file system needs Linux"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Avail is Linux's (see Tmpfs).
func Avail(t testing.TB, dir string) uint64 { t.Skip("Linux only"); return 0 }

// Fill is Linux's (see Tmpfs).
func Fill(t testing.TB, path string, avail uint64) uint64 { t.Skip("Linux only"); return 0 }
