package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// idPattern is the syntax of accord, principle and signatory ids
// (docs/formats.md, defs.json#/$defs/id).
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

func (s *Server) getAccords(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	accords, err := s.alog.Accords(c.Request().Context())
	if err != nil {
		return err
	}
	out := api.Accords{Accords: make([]json.RawMessage, 0, len(accords))}
	for _, a := range accords {
		out.Accords = append(out.Accords, a.JSON)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getSignatories(c echo.Context) error {
	pg, err := parsePage(c, "cursor", "limit")
	if err != nil {
		return err
	}
	docs, next, err := s.alog.Signatories(c.Request().Context(), pg)
	if err != nil {
		return pageError(err)
	}
	out := api.Signatories{Signatories: make([]json.RawMessage, 0, len(docs)), Next: cursor(next)}
	for _, d := range docs {
		out.Signatories = append(out.Signatories, d.JSON)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getSignatory(c echo.Context) error {
	id := c.Param("id")
	if err := onlyParams(c); err != nil {
		return err
	}
	if id != attest.RegistrarID && !idPattern.MatchString(id) {
		return problemf(kindBadParameter, "id must be a signatory id (lowercase letters, digits and '-')")
	}
	ctx := c.Request().Context()
	doc, err := s.alog.Signatory(ctx, id)
	if errors.Is(err, attestlog.ErrNotFound) {
		return problemf(kindSignatoryNotFound, "no signatory has this id")
	}
	if err != nil {
		return err
	}
	info, err := doc.Decode()
	if err != nil {
		return err
	}
	out := &api.SignatoryDetail{Signatory: doc.JSON, Recovered: []uint64{}, Latest: []json.RawMessage{}}
	for _, e := range info.Events {
		if e.Action == attest.ActionRecover {
			out.Recovered = append(out.Recovered, e.Index)
		}
	}
	latest, err := s.alog.LatestBySignatory(ctx, id)
	if err != nil {
		return err
	}
	for _, l := range latest {
		out.Latest = append(out.Latest, l.JSON)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}
