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
// checkpoint implies. Entry bundles come from the bundle cache, gzipped
// once for the clients that accept gzip.
func (s *Server) getTile(c echo.Context) error {
	t, err := verify.ParseTilePath(c.Request().URL.EscapedPath()[1:])
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if t.Level != verify.EntriesLevel {
		data, err := s.log.ReadTile(c.Request().Context(), t)
		if err != nil {
			return err
		}
		h.Set(echo.HeaderCacheControl, cacheImmutable)
		return c.Blob(http.StatusOK, echo.MIMEOctetStream, data)
	}
	b, err := s.bundles.get(c.Request().Context(), s.log, t)
	if err != nil {
		return err
	}
	h.Set(echo.HeaderCacheControl, cacheImmutable)
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if acceptsGzip(c.Request()) && len(b.raw) >= minGzip {
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
	size := s.log.Latest().Size
	if index >= size {
		return nil, log.ErrBeyondSize
	}
	t := verify.TileForIndex(verify.EntriesLevel, index, size)
	b, err := s.bundles.get(ctx, s.log, t)
	if err != nil {
		return nil, err
	}
	k := int(index % verify.TileWidth)
	if k >= len(b.entries) {
		return nil, fmt.Errorf("log: %s has no entry %d: %w", t.Path(), k, log.ErrCorrupt)
	}
	return b.entries[k], nil
}
