package web

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// idPattern is the syntax of accord, principle and signatory ids
// (docs/formats.md, defs.json#/$defs/id).
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

func (s *Server) getAccords(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	out := api.Accords{Accords: []json.RawMessage{}}
	err := attestlog.ScanRows(c.Request().Context(), s.log, attest.TableAccords, nil, func(r log.Row) error {
		out.Accords = append(out.Accords, r.Value)
		return nil
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getSignatories(c echo.Context) error {
	pg, err := parsePage(c, "cursor", "limit")
	if err != nil {
		return err
	}
	rows, next, err := s.page(c, attest.TableSignatories, nil, pg)
	if err != nil {
		return err
	}
	out := api.Signatories{Signatories: []json.RawMessage{}, Next: next}
	for _, r := range rows {
		if string(r.Key) != attest.RegistrarID {
			out.Signatories = append(out.Signatories, r.Value)
		}
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
	rows, err := s.log.Rows(ctx, attest.TableSignatories, []byte(id), []byte(id+"\x00"), 1)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return problemf(kindSignatoryNotFound, "no signatory has this id")
	}
	out, err := signatoryDetail(rows[0].Value)
	if err != nil {
		return err
	}
	err = attestlog.ScanRows(ctx, s.log, attest.TableLatest, []byte(id+"/"), func(r log.Row) error {
		if len(r.Key) <= len(id) || string(r.Key[:len(id)+1]) != id+"/" {
			return errStop
		}
		out.Latest = append(out.Latest, r.Value)
		return nil
	})
	if err != nil && err != errStop {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

// signatoryDetail starts the detail of a signatory from its row.
func signatoryDetail(value []byte) (*api.SignatoryDetail, error) {
	var info attest.SignatoryInfo
	if err := json.Unmarshal(value, &info); err != nil {
		return nil, err
	}
	out := &api.SignatoryDetail{Signatory: value, Recovered: []uint64{}, Latest: []json.RawMessage{}}
	for _, e := range info.Events {
		if e.Action == attest.ActionRecover {
			out.Recovered = append(out.Recovered, e.Index)
		}
	}
	return out, nil
}
