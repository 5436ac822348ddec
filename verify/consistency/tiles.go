package consistency

import (
	"context"
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
)

// errMissing means the log answered 404 for a tile, in its partial and
// its full form: a tile of a tree it signed, which it must serve.
var errMissing = errors.New("not served")

// tiles reads a log's hash tiles for a proof. A partial tile that is not
// found is read as the full tile, whose first hashes are the same
// (c2sp.org/tlog-tiles lets a log delete a partial tile once the full one
// is served); if neither is found, the error is errMissing and no longer
// client.ErrFetch: the log failed to serve a tile, the network did not
// fail.
type tiles struct{ c *client.Client }

func (r tiles) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	b, err := r.c.ReadTile(ctx, t)
	if !errors.Is(err, client.ErrNotFound) {
		return b, err
	}
	if t.Width == verify.TileWidth {
		return nil, errMissing
	}
	full := verify.Tile{Level: t.Level, N: t.N, Width: verify.TileWidth}
	b, err = r.c.ReadTile(ctx, full)
	if errors.Is(err, client.ErrNotFound) {
		return nil, fmt.Errorf("%w, nor is %s", errMissing, full.Path())
	}
	return b, err
}
