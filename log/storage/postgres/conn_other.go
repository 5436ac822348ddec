//go:build !linux

package postgres

import (
	"syscall"
	"time"
)

// userTimeoutControl does nothing outside Linux, where keepalives alone
// notice a dead peer.
func userTimeoutControl(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
