//go:build !linux

package main

import "syscall"

// witnessProcAttr leaves a demo witness in the demo's process group,
// where the terminal's Ctrl-C stops it too: without Linux's parent-death
// signal, a witness of a killed demo would otherwise run on.
func witnessProcAttr() *syscall.SysProcAttr { return nil }
