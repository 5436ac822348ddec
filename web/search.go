package web

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// Page sizes of the paginated reads.
const (
	defaultLimit = 50
	maxLimit     = 500
)

var (
	hex64    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	statuses = []string{attest.StatusCommitted, attest.StatusReaffirmed, attest.StatusProgress,
		attest.StatusWithdrawn, attest.StatusVoid}
	// searchFields are the filters of /api/v1/search (attestlog.Query).
	searchFields = []string{"subject", "principle", "signatory", "accord", "status"}
)

// params returns the query parameters, each at most once and all among
// allowed.
func params(c echo.Context, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for name, v := range c.QueryParams() {
		if !slices.Contains(allowed, name) {
			return nil, problemf(kindBadParameter, "unknown parameter "+strconv.Quote(name))
		}
		if len(v) != 1 {
			return nil, problemf(kindBadParameter, name+" given more than once")
		}
		out[name] = v[0]
	}
	return out, nil
}

func onlyParams(c echo.Context, allowed ...string) error {
	_, err := params(c, allowed...)
	return err
}

func parsePage(c echo.Context, allowed ...string) (attestlog.Page, error) {
	q, err := params(c, allowed...)
	if err != nil {
		return attestlog.Page{}, err
	}
	return pageOf(q)
}

// pageOf returns the page that the limit and cursor parameters of q ask
// for. A cursor is the base64url of a page's attestlog Next.
func pageOf(q map[string]string) (attestlog.Page, error) {
	pg := attestlog.Page{Limit: defaultLimit}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit || strconv.Itoa(n) != v {
			return pg, problemf(kindBadParameter, "limit must be an integer from 1 to 500")
		}
		pg.Limit = n
	}
	if v, ok := q["cursor"]; ok {
		after, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(after) == 0 || base64.RawURLEncoding.EncodeToString(after) != v {
			return pg, problemf(kindBadParameter, "cursor must be the next value of a previous page")
		}
		pg.After = after
	}
	return pg, nil
}

// cursor encodes the Next of a page ("" for none).
func cursor(next []byte) string { return base64.RawURLEncoding.EncodeToString(next) }

// pageError turns attestlog.ErrCursor into the request's problem.
func pageError(err error) error {
	if errors.Is(err, attestlog.ErrCursor) {
		return problemf(kindBadParameter, "cursor does not belong to this query")
	}
	return err
}

func (s *Server) getSearch(c echo.Context) error {
	q, err := params(c, append(searchFields, "cursor", "limit")...)
	if err != nil {
		return err
	}
	query, err := searchQuery(q)
	if err != nil {
		return err
	}
	if err := s.checkAccord(c.Request().Context(), query); err != nil {
		return err
	}
	pg, err := pageOf(q)
	if err != nil {
		return err
	}
	out, err := s.search(c.Request().Context(), query, pg)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

// checkAccord refuses a search for an accord the log does not hold, or
// for a principle the accord does not have (422 unknown-reference),
// rather than answer an empty page as if nobody had pledged to it.
func (s *Server) checkAccord(ctx context.Context, query attestlog.Query) error {
	if query.Accord == "" {
		return nil
	}
	info, err := s.alog.Accord(ctx, query.Accord)
	if errors.Is(err, attestlog.ErrNotFound) {
		return problemf(kindUnknownReference, "the log holds no accord "+strconv.Quote(query.Accord))
	}
	if err != nil {
		return err
	}
	if query.Principle != "" && !slices.ContainsFunc(info.Principles, func(p attest.Principle) bool { return p.ID == query.Principle }) {
		return problemf(kindUnknownReference, "accord "+strconv.Quote(query.Accord)+" has no principle "+strconv.Quote(query.Principle))
	}
	return nil
}

// searchQuery checks the filters and returns their query.
func searchQuery(q map[string]string) (attestlog.Query, error) {
	if err := checkFilters(q); err != nil {
		return attestlog.Query{}, err
	}
	// checkFilters refuses every empty value: a field set is one given.
	query := attestlog.Query{Subject: q["subject"], Principle: q["principle"], Signatory: q["signatory"],
		Accord: q["accord"], Status: q["status"]}
	if query == (attestlog.Query{}) {
		return query, problemf(kindBadParameter, "give at least one of signatory, accord, principle, status and subject")
	}
	return query, nil
}

// checkFilters checks the filters of q, after lowercasing the ids in
// place: ids are lowercase, so "Microsoft" asks for microsoft, as a reader
// typing a company's name expects. The subject digest stays strict
// (lowercase hex, as in-toto writes it).
func checkFilters(q map[string]string) error {
	for _, f := range []string{"signatory", "accord", "principle"} {
		if v, ok := q[f]; ok {
			q[f] = strings.ToLower(v)
		}
	}
	for _, f := range []string{"signatory", "accord", "principle"} {
		if v, ok := q[f]; ok && !idPattern.MatchString(v) && (f != "signatory" || v != attest.RegistrarID) {
			return problemf(kindBadParameter, f+" must be an id (lowercase letters, digits and '-')")
		}
	}
	if _, ok := q["principle"]; ok && q["accord"] == "" {
		return problemf(kindBadParameter, "principle needs accord")
	}
	if v, ok := q["status"]; ok && !slices.Contains(statuses, v) {
		return problemf(kindBadParameter, "status must be committed, reaffirmed, progress, withdrawn or void")
	}
	if v, ok := q["subject"]; ok && !hex64.MatchString(v) {
		return problemf(kindBadParameter, "subject must be a lowercase hex SHA-256 digest")
	}
	return nil
}
