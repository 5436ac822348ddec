package pebble_test

import (
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

func TestStorage(t *testing.T) {
	storagetest.RunDurable(t, func(t *testing.T, dir string) log.Storage {
		st, err := pebble.Create(dir, pebble.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}
