package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// Cache-Control values.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheCheckpoint = "public, max-age=1"
	cacheNone       = "no-store"
)

// getCheckpoint serves the published signed checkpoint.
func (s *Server) getCheckpoint(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", s.log.Published().Checkpoint)
}

// getTile serves a hash tile or an entry bundle. Tiles of the latest
// committed tree are served even before its checkpoint is published: they
// are durable and immutable, and a client only asks for those its verified
// checkpoint implies. Both come from the bundle cache, compressed once
// for the clients that accept gzip (c2sp.org/tlog-tiles: entry bundles
// SHOULD be compressed at the HTTP layer, with gzip or what the client's
// Accept-Encoding asks for), and served from that form; a hash tile, which
// gzip does not shrink, and any client that does not accept gzip get the
// bytes themselves.
func (s *Server) getTile(c echo.Context) error {
	t, err := verify.ParseTilePath(c.Request().URL.EscapedPath()[1:])
	if err != nil {
		return err
	}
	b, err := s.bundles.get(c.Request().Context(), s.log, t)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, cacheImmutable)
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if len(b.raw) >= minGzip && acceptsGzip(c.Request()) {
		if gz := s.bundles.gzipped(b); gz != nil {
			h.Set(echo.HeaderContentEncoding, "gzip")
			return c.Blob(http.StatusOK, echo.MIMEOctetStream, gz)
		}
	}
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, b.raw)
}

// minGzip is the smallest bundle served gzipped.
const minGzip = 512

// acceptsGzip reports whether r's Accept-Encoding names gzip with a
// non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values(echo.HeaderAcceptEncoding) {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
			return !ok || strings.Trim(q, "0.") != ""
		}
	}
	return false
}

// entry returns the entry at index of the committed tree, from its bundle
// in the bundle cache. The slice must not be modified.
func (s *Server) entry(ctx context.Context, index uint64) ([]byte, error) {
	b, k, err := s.entryBundle(ctx, index)
	if err != nil {
		return nil, err
	}
	return b.entries[k], nil
}

// entryBundle returns the cached bundle of the entry at index of the
// committed tree, and the entry's place in it.
func (s *Server) entryBundle(ctx context.Context, index uint64) (*cachedBundle, int, error) {
	size := s.log.Latest().Size
	if index >= size {
		return nil, 0, log.ErrBeyondSize
	}
	t := verify.TileForIndex(verify.EntriesLevel, index, size)
	b, err := s.bundles.get(ctx, s.log, t)
	if err != nil {
		return nil, 0, err
	}
	k := int(index % verify.TileWidth)
	if k >= len(b.entries) {
		return nil, 0, fmt.Errorf("log: %s has no entry %d: %w", t.Path(), k, log.ErrCorrupt)
	}
	return b, k, nil
}
