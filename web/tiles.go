package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
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
// checkpoint implies.
func (s *Server) getTile(c echo.Context) error {
	t, err := verify.ParseTilePath(c.Request().URL.EscapedPath()[1:])
	if err != nil {
		return err
	}
	data, err := s.log.ReadTile(c.Request().Context(), t)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheImmutable)
	return c.Blob(http.StatusOK, echo.MIMEOctetStream, data)
}
