package durable_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pledgelog/pledgelog/internal/durable"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	for _, data := range []string{"first", "second, longer"} {
		if err := durable.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		info, _ := os.Stat(path)
		if err != nil || string(got) != data || info.Mode().Perm() != 0o600 {
			t.Errorf("after WriteFile(%q): %q, %v, mode %v", data, got, err, info.Mode())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("WriteFile left %d files, want 1", len(entries))
	}
	if err := durable.WriteFile(filepath.Join(dir, "missing", "x"), nil, 0o600); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func TestCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := durable.CreateFile(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	info, _ := os.Stat(path)
	if err != nil || string(got) != "secret" || info.Mode().Perm() != 0o600 {
		t.Fatalf("after CreateFile: %q, %v, mode %v", got, err, info.Mode())
	}
	if err := durable.CreateFile(path, []byte("other"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateFile over an existing file = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "secret" {
		t.Fatalf("CreateFile over an existing file changed it to %q", got)
	}
}
