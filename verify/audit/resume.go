package audit

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/pledgelog/pledgelog/internal/durable"
)

// load reads a saved state, or starts one for cfg.Checkpoint.
func (a *auditor) load() error {
	b, err := os.ReadFile(filepath.Join(a.dir, StateFile))
	if os.IsNotExist(err) {
		a.state = State{Checkpoint: a.cfg.Checkpoint}
		return nil
	}
	if err != nil {
		return err
	}
	s, err := ParseState(b)
	if err != nil {
		return err
	}
	a.state = *s
	return nil
}

func (a *auditor) removeState() {
	for _, r := range a.spill.runs {
		os.Remove(filepath.Join(a.dir, r))
	}
	os.Remove(filepath.Join(a.dir, StateFile))
}

// save drains the verifiers and saves the state up to next.
func (a *auditor) save(next uint64) error {
	a.verWG.Wait()
	if err := a.spill.flush(); err != nil {
		return err
	}
	a.mu.Lock()
	s := State{Checkpoint: a.state.Checkpoint, Next: next, Range: a.tree.rangeHashes(),
		Runs: a.spill.runs, Findings: slices.Clone(a.found), Total: a.total}
	a.mu.Unlock()
	if a.tempDir {
		return nil
	}
	return durable.WriteFile(filepath.Join(a.dir, StateFile), s.Marshal(), 0o600)
}
