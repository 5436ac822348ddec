package storagetest_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// The suite must be able to fail. TestMutants runs it, in a child process,
// against drivers each broken in one way, and checks that the tests meant to
// catch that breakage fail.

const mutantEnv = "STORAGETEST_MUTANT"

var mutants = map[string]struct {
	open    func() log.Storage
	durable bool     // run RunDurable, with a registry of stores by directory
	fail    []string // subtests that must fail
}{
	"IgnorePrev":      {open: func() log.Storage { return &ignorePrev{memory.New()} }, fail: []string{"Create", "Conflict"}},
	"WriteOnConflict": {open: func() log.Storage { return &writeOnConflict{memory.New()} }, fail: []string{"Conflict"}},
	"TornCommit":      {open: func() log.Storage { return &tornCommit{memory.New()} }, fail: []string{"ConcurrentReads"}},
	"RetainUpdate":    {open: func() log.Storage { return &retainUpdate{Storage: memory.New()} }, fail: []string{"UpdateNotRetained"}},
	"AliasResults":    {open: func() log.Storage { return &aliasResults{Storage: memory.New()} }, fail: []string{"ResultsNotAliased"}},
	"OldestFirst":     {open: func() log.Storage { return &oldestFirst{memory.New()} }, fail: []string{"CheckpointHistory"}},
	"BeforeInclusive": {open: func() log.Storage { return &beforeInclusive{memory.New()} }, fail: []string{"CheckpointHistory"}},
	"EndInclusive":    {open: func() log.Storage { return &endInclusive{memory.New()} }, fail: []string{"Rows"}},
	"JoinedTables":    {open: func() log.Storage { return &joinedTables{memory.New()} }, fail: []string{"Tables"}},
	"DedupSorted":     {open: func() log.Storage { return &dedupSorted{memory.New()} }, fail: []string{"Dedup"}},
	"ChunksByArrival": {open: func() log.Storage { return newBundles(true, false) }, fail: []string{"EntryBundles"}},
	"StaleChunks":     {open: func() log.Storage { return newBundles(false, true) }, fail: []string{"EntryBundles"}},
	"ForgetOnClose":   {open: memoryStorage, durable: true, fail: []string{"Reopen", "ReopenEmpty", "ReopenAfterConflict"}},
}

func memoryStorage() log.Storage { return memory.New() }

func TestMutants(t *testing.T) {
	if name := os.Getenv(mutantEnv); name != "" {
		m := mutants[name]
		if m.durable {
			storagetest.RunDurable(t, func(t *testing.T, dir string) log.Storage { return m.open() })
		} else {
			storagetest.Run(t, func(t *testing.T) log.Storage { return m.open() })
		}
		return
	}
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run := "^TestMutants$/^(" + strings.Join(m.fail, "|") + ")$"
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.short", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+name)
			out, _ := cmd.CombinedOutput()
			for _, sub := range m.fail {
				if !bytes.Contains(out, []byte("--- FAIL: TestMutants/"+sub+" ")) {
					t.Errorf("suite passed mutant %s in %s:\n%s", name, sub, out)
				}
			}
		})
	}
}

// TestRunDurable checks that RunDurable passes a driver that keeps its
// stores across Close.
func TestRunDurable(t *testing.T) {
	var mu sync.Mutex
	stores := map[string]log.Storage{}
	storagetest.RunDurable(t, func(t *testing.T, dir string) log.Storage {
		mu.Lock()
		defer mu.Unlock()
		if stores[dir] == nil {
			stores[dir] = memory.New()
		}
		return stores[dir]
	})
}
