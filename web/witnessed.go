package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// getEntryBundle serves the proof bundle of an entry on the published
// checkpoint: with witnesses, the latest one a quorum cosigned, whose
// cosignatures the bundle then carries. An entry not yet in the published
// tree is a 404 beyond-tree problem: ask again after the next publication.
// The bundle is v2, its map proofs at that checkpoint, unless the
// request's Accept asks for v1 only (wantsV1); a 503 map-unavailable if
// the published checkpoint is more than attest.MapVersions behind the
// latest.
func (s *Server) getEntryBundle(c echo.Context) error {
	index, err := parseNumber("index", c.Param("index"))
	if err != nil {
		return err
	}
	state := s.log.Published()
	if index >= state.Size {
		return problemf(kindBeyondTree, "entry not in the published checkpoint yet (size "+strconv.FormatUint(state.Size, 10)+"); retry after the next publication")
	}
	b, err := s.proofBundle(c.Request(), state, index, nil, nil)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	return c.Blob(http.StatusOK, b.MediaType(), b.Marshal())
}

// getPolicy serves the log's witness policy (c2sp.org/tlog-policy), as
// Config.Policy holds it.
func (s *Server) getPolicy(c echo.Context) error {
	if len(s.cfg.Policy) == 0 {
		return problemf(kindRouteNotFound, "this log has no witness policy")
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", s.cfg.Policy)
}
