package main

import (
	"errors"
	"syscall"
)

// errLocked means the store is open in another process.
var errLocked = errors.New("store locked")

// locked reports whether err is Pebble failing to take its LOCK file
// because another process holds it (fcntl returns EAGAIN or EACCES).
func locked(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES)
}
