package memory_test

import (
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) log.Storage { return memory.New() })
}
