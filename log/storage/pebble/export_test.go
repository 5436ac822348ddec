package pebble

import "github.com/cockroachdb/pebble/v2"

// DisableSync makes s commit without syncing the WAL, so that a crash test
// can show it catches the loss.
func DisableSync(s *Storage) {
	s.sync = pebble.NoSync
}
