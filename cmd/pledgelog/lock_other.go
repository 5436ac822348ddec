//go:build !unix

package main

import "errors"

// errLocked means the store is open in another process.
var errLocked = errors.New("store locked")

// lockedByOther cannot tell on this system: to back up a running log
// there, give backup --server.
func lockedByOther(string) bool { return false }
