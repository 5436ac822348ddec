//go:build !linux

package pebble

import "errors"

// fallocate is Linux's; elsewhere the ballast is written as zeros.
func fallocate(uintptr, int64) error { return errors.ErrUnsupported }
