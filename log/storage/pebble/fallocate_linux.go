package pebble

import "golang.org/x/sys/unix"

// fallocate allocates size bytes to the file fd, and sets its size.
func fallocate(fd uintptr, size int64) error {
	return unix.Fallocate(int(fd), 0, 0, size)
}
