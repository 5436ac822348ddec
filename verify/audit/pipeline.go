package audit

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/pledgelog/pledgelog/verify"
	"golang.org/x/sync/errgroup"
)

// A tileResult is one entry bundle, fetched and prepared in parallel.
type tileResult struct {
	n       uint64
	entries [][]byte
	hashes  []verify.Hash
	prep    []prepared // nil when replaying
	err     error
}

// A sigJob is one signature to verify with the key the registry gave.
type sigJob struct {
	index uint64
	pae   []byte
	sig   []byte
	key   *key
}

// replay re-admits the entries below a saved state's next index, without
// signature work, and checks that they rebuild the saved compact range.
func (a *auditor) replay(ctx context.Context) error {
	if a.state.Next == 0 {
		return nil
	}
	a.tree.check = false
	if err := a.pipeline(ctx, 0, a.state.Next, true); err != nil {
		return err
	}
	a.tree.check = true
	got := a.tree.rangeHashes()
	if len(got) != len(a.state.Range) {
		return fmt.Errorf("entries below %d: %w", a.state.Next, ErrResume)
	}
	for i := range got {
		if got[i] != a.state.Range[i] {
			return fmt.Errorf("entries below %d: %w", a.state.Next, ErrResume)
		}
	}
	return nil
}

// check audits the entries from the state's next index to the end,
// saving the state on the way and when it stops early.
func (a *auditor) check(ctx context.Context) error {
	a.sigs = make(chan []sigJob, 64)
	vg := &errgroup.Group{}
	for range workers(a.cfg.Verifiers, runtime.GOMAXPROCS(0)) {
		vg.Go(func() error { a.verifyLoop(); return nil })
	}
	err := a.pipeline(ctx, a.state.Next, a.cp.Size, false)
	close(a.sigs)
	vg.Wait()
	return err
}

// pipeline fetches the tiles of entries [from, to) (tile-aligned from)
// in parallel and consumes them in order.
func (a *auditor) pipeline(ctx context.Context, from, to uint64, replaying bool) error {
	g, gctx := errgroup.WithContext(ctx)
	fetchers := workers(a.cfg.Fetchers, 8)
	pending := make(chan chan *tileResult, 2*fetchers)
	g.Go(func() error { return a.produce(gctx, from, to, replaying, fetchers, pending) })
	next := from
	g.Go(func() error {
		err := a.consumeAll(gctx, pending, &next, replaying)
		if err != nil && !replaying && next > a.state.Next {
			err = errors.Join(err, a.save(next))
		}
		return err
	})
	return g.Wait()
}

// consumeAll consumes the tiles in order, advancing *next past each.
func (a *auditor) consumeAll(ctx context.Context, pending <-chan chan *tileResult, next *uint64, replaying bool) error {
	for ch := range pending {
		var r *tileResult
		select {
		case r = <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := a.consume(r, replaying); err != nil {
			return err
		}
		*next = r.n*verify.TileWidth + uint64(len(r.entries))
		if err := a.progress(*next, replaying); err != nil {
			return err
		}
	}
	return nil
}

func (a *auditor) progress(next uint64, replaying bool) error {
	if a.cfg.Progress != nil {
		a.cfg.Progress(next, a.cp.Size)
	}
	if replaying || (next/verify.TileWidth)%uint64(workers(a.cfg.SaveEvery, saveEvery)) != 0 || next == a.cp.Size {
		return nil
	}
	return a.save(next)
}
