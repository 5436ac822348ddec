//go:build linux

package main

import "syscall"

// witnessProcAttr puts a demo witness in its own process group, so that
// the terminal's Ctrl-C reaches the demo only, which stops the log first
// and its witnesses after; and has the kernel send it SIGTERM if the demo
// dies without stopping it (SIGKILL, a crash). The kernel sends it when
// the thread that started the witness exits, which in Go is the process's
// exit: the runtime ends no thread but one locked by a goroutine that
// exits locked, which nothing here does.
func witnessProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
