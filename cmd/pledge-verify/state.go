package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// stateDir returns dir, or the per-user default <config dir>/pledgelog/sub,
// created if needed.
func stateDir(dir, sub string) (string, error) {
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", usageError{Err: fmt.Errorf("no --state directory and no user config directory: %w", err)}
		}
		dir = filepath.Join(base, "pledgelog", sub)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", usageError{Err: err}
	}
	return dir, nil
}

// originFile is the file name of an origin's state in a state directory:
// the hex SHA-256 of the origin, which any origin makes a safe name.
func originFile(origin, suffix string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:]) + suffix
}

// readState reads a state file; a missing one is nil, nil.
func readState(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
