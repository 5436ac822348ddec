package audit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/attest"
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

func (a *auditor) produce(ctx context.Context, from, to uint64, replaying bool, fetchers int, pending chan<- chan *tileResult) error {
	defer close(pending)
	sem := make(chan struct{}, fetchers)
	for n := from / verify.TileWidth; n*verify.TileWidth < to; n++ {
		width := int(min(to-n*verify.TileWidth, verify.TileWidth))
		ch := make(chan *tileResult, 1)
		select {
		case pending <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		go func() {
			ch <- a.fetch(ctx, n, width, replaying)
			<-sem
		}()
	}
	return nil
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
		if err := a.consume(ctx, r, replaying); err != nil {
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

// fetch fetches entry bundle n and, unless replaying, level 0 hash tile n,
// and prepares the entries.
func (a *auditor) fetch(ctx context.Context, n uint64, width int, replaying bool) *tileResult {
	r := &tileResult{n: n}
	if r.entries, r.err = a.cfg.Fetcher.Entries(ctx, n, width); r.err != nil {
		return r
	}
	r.hashes = make([]verify.Hash, width)
	for i, e := range r.entries {
		r.hashes[i] = verify.LeafHash(e)
	}
	if replaying {
		return r
	}
	tile := verify.Tile{Level: 0, N: n, Width: width}
	b, err := a.cfg.Fetcher.ReadTile(ctx, tile)
	if err == nil {
		err = compareTile(tile, b, r.hashes)
	}
	if r.err = err; err != nil {
		return r
	}
	r.prep = make([]prepared, width)
	for i, e := range r.entries {
		r.prep[i] = a.prepare(e)
	}
	return r
}

// consume applies one tile's entries in index order and hands their
// signatures to the verifiers.
func (a *auditor) consume(ctx context.Context, r *tileResult, replaying bool) error {
	var jobs []sigJob
	for i, e := range r.entries {
		index := r.n*verify.TileWidth + uint64(i)
		if err := a.tree.append(r.hashes[i]); err != nil {
			return err
		}
		ok := a.admit(ctx, index, e, replaying)
		if replaying || !ok {
			continue
		}
		jobs = a.jobs(jobs, index, &r.prep[i])
		if err := a.spill.add(r.prep[i].dedup, index); err != nil {
			return err
		}
	}
	if len(jobs) > 0 {
		a.verWG.Add(1)
		a.sigs <- jobs
	}
	return nil
}

// admit replays one entry into the registry, as the log's sequencer
// would have admitted it, and reports whether it was admitted.
func (a *auditor) admit(ctx context.Context, index uint64, e []byte, replaying bool) bool {
	_, err := a.reg.Admit(ctx, index, e)
	if err != nil {
		if !replaying {
			a.finding(Finding{index, kindOf(err), err.Error()})
		}
		return false
	}
	for _, row := range a.reg.Index(index, e) {
		if row.Table == attest.TableRegistry {
			a.registryEvent(index, e)
			break
		}
	}
	return true
}

func kindOf(err error) string {
	if errors.Is(err, attest.ErrMalformed) {
		return KindMalformed
	}
	return KindRejected
}

// registryEvent notes the keys an admitted registry event introduces and
// the revocations it makes. Registry events are few: parsing them a
// second time costs nothing.
func (a *auditor) registryEvent(index uint64, e []byte) {
	env, err := attest.ParseLeaf(e)
	if err != nil {
		return // Admit parsed it
	}
	for _, pk := range keysOf(env.Statement) {
		a.keys[pk.ID()] = newKey(pk)
	}
	if p, ok := env.Statement.Predicate.(*attest.SignatoryEvent); ok && p.Action == attest.ActionRevoke {
		a.revs = append(a.revs, revocation(index, p))
	}
}

// jobs appends the signature checks of an admitted entry.
func (a *auditor) jobs(jobs []sigJob, index uint64, p *prepared) []sigJob {
	if !p.ok {
		a.finding(Finding{index, KindMalformed, "leaf is not in canonical form"})
		return jobs
	}
	if p.verified {
		atomic.AddUint64(&a.nsigs, uint64(len(p.sigs)))
		return jobs
	}
	for _, s := range p.sigs {
		k := a.keys[s.KeyID]
		if k == nil {
			a.finding(Finding{index, KindRejected, "signed by key " + s.KeyID + ", which no registry event introduced"})
			continue
		}
		jobs = append(jobs, sigJob{index, p.pae, s.Sig, k})
	}
	return jobs
}

func (a *auditor) verifyLoop() {
	var n uint64
	for jobs := range a.sigs {
		for _, j := range jobs {
			if err := j.key.verify(j.pae, j.sig); err != nil {
				a.finding(Finding{j.index, KindBadSignature, err.Error()})
			}
		}
		n += uint64(len(jobs))
		a.verWG.Done()
	}
	atomic.AddUint64(&a.nsigs, n)
}
