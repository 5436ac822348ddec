//go:build !unix

package main

// lockState does nothing where flock(2) does not exist: run one witness
// per state directory.
func lockState(dir string) error { return nil }
