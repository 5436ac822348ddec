package cosign

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/pledgelog/pledgelog/verify"
)

// ErrRollback is returned by Start when a witness cosigned a larger tree
// than the log holds, or one the log's tree is not consistent with: the
// storage is older than what was published (a restored backup) or was
// forked (a copy that sequenced on its own). The log must not sequence:
// restore the newest data directory or backup, which the witnesses saw.
var ErrRollback = errors.New("cosign: the witnesses saw a larger or different tree than this log's storage holds")

// Start prepares the collector before the log's sequencer runs: it
// publishes the last cosigned checkpoint from Config.StateFile, if it
// still meets the quorum and is one the log committed, and asks every
// witness what it cosigned, failing with ErrRollback if any cosigned a
// larger tree than the log holds or one inconsistent with it. Witnesses
// that cannot be reached are logged and skipped. A witness that never saw
// the log cosigns its latest checkpoint meanwhile.
func (c *Collector) Start(ctx context.Context) error {
	if err := c.load(ctx); err != nil {
		return err
	}
	latest := c.cfg.Log.Latest()
	c.offer(ctx, latest)
	var wg sync.WaitGroup
	errs := make([]error, len(c.endpoints))
	for i, e := range c.endpoints {
		wg.Go(func() {
			sigs, err := c.add(ctx, e, latest)
			if err != nil {
				errs[i] = err
				return
			}
			c.record(ctx, i, e, latest, sigs)
		})
	}
	wg.Wait()
	var bad []string
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrWitnessAhead) || errors.Is(err, ErrFork):
			bad = append(bad, fmt.Sprintf("witness %s (%s): %v", c.endpoints[i].name, c.endpoints[i].url, err))
		default:
			c.failed(i, c.endpoints[i], err)
			c.cfg.Logger.Warn("witness unreachable at start: cannot check that the log was not rolled back against it",
				"witness", c.endpoints[i].name, "err", err)
		}
	}
	if bad != nil {
		return fmt.Errorf("%w: this log's tree has %d entries, but %s. "+
			"The storage is older than what the witnesses cosigned (restored from an old backup?) or was forked (a copy that took other entries). "+
			"Sequencing now would publish a second, conflicting tree. Restore the newest backup or data directory the witnesses saw "+
			"(see docs/operations.md, \"Witnesses\")", ErrRollback, latest.Size, strings.Join(bad, "; "))
	}
	return nil
}

// load publishes the cosigned checkpoint of the state file, if any.
func (c *Collector) load(ctx context.Context) error {
	if c.cfg.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("cosign: reading the last cosigned checkpoint: %w", err)
	}
	n, err := verify.ParseNote(b)
	if err != nil {
		c.cfg.Logger.Warn("ignoring a malformed cosigned checkpoint", "file", c.cfg.StateFile, "err", err)
		return nil
	}
	if !c.cfg.Met(c.verified(n)) {
		c.cfg.Logger.Warn("ignoring a saved checkpoint that does not meet the quorum (was the policy changed?)", "file", c.cfg.StateFile)
		return nil
	}
	cp, err := verify.ParseCheckpoint(n.Text)
	if err != nil {
		return nil
	}
	if cp.Size > c.cfg.Log.Latest().Size {
		return fmt.Errorf("%w: %s holds a checkpoint of size %d cosigned by the witnesses, but this log's tree has %d entries. "+
			"The storage is older than what was published (restored from an old backup?). Restore the newest backup; see docs/operations.md",
			ErrRollback, c.cfg.StateFile, cp.Size, c.cfg.Log.Latest().Size)
	}
	if err := c.cfg.Log.PublishCosigned(ctx, b); err != nil {
		return fmt.Errorf("%w: %s: %w (see docs/operations.md)", ErrRollback, c.cfg.StateFile, err)
	}
	c.mu.Lock()
	c.cosigned, c.hasCosigned = cp.Size, true
	c.mu.Unlock()
	c.metrics.cosignedSize.Set(float64(cp.Size))
	return nil
}

// verified says which witnesses' cosignatures on n verify.
func (c *Collector) verified(n *verify.Note) []bool {
	ok := make([]bool, len(c.cfg.Witnesses))
	for i, w := range c.cfg.Witnesses {
		for _, s := range n.Sigs {
			if s.Name == w.Key.Name() && s.KeyID == w.Key.KeyID() && w.Key.Verify(n.Text, s.Sig) {
				ok[i] = true
				break
			}
		}
	}
	return ok
}
