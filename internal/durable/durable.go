// Package durable writes files so that a crash leaves either the old
// contents or the new, never a mix, and the new contents survive a power
// loss once WriteFile returns: the data goes to a temporary file in the
// same directory, which is synced, renamed over the target, and the
// directory synced.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces path with data, creating it with perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := writeSync(f, data, perm); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// writeSync writes data to f, sets its mode, syncs and closes it.
func writeSync(f *os.File, data []byte, perm os.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir syncs a directory, making the renames and creations in it
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// CreateFile writes data to path, which must not exist yet (an error
// matching fs.ErrExist otherwise), with perm, and syncs the file and its
// directory: no existing file, such as a key, is ever overwritten.
func CreateFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := writeSync(f, data, perm); err != nil {
		os.Remove(path)
		return err
	}
	return SyncDir(filepath.Dir(path))
}
