package audit

import (
	"context"

	"github.com/pledgelog/pledgelog/verify"
)

// produce starts the fetches of the tiles of entries [from, to), at most
// fetchers at once, and queues their results in order.
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

// fetch fetches entry bundle n and, unless replaying, level 0 hash tile n,
// checks the entries against the anchors, and only then prepares them.
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
		r.err = a.anchored(n, r.hashes)
		return r
	}
	tile := verify.Tile{Level: 0, N: n, Width: width}
	b, err := a.cfg.Fetcher.ReadTile(ctx, tile)
	if err == nil {
		err = compareTile(tile, b, r.hashes)
	}
	if err == nil {
		err = a.anchored(n, r.hashes)
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
