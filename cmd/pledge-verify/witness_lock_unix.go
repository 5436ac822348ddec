//go:build unix

package main

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockState takes an exclusive lock on the witness state in dir, held
// until the process exits: two witnesses on one state would each trust
// the size it read at start, and could cosign a fork of what the other
// cosigned since.
func lockState(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return errors.New("another witness is running on this state")
		}
		return err
	}
	return nil // f stays open: the lock lasts as long as the process
}
