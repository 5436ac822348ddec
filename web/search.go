package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
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
	// searchFields are the filters of /api/v1/search, the first present
	// driving the scan: the most selective first.
	searchFields = []string{"subject", "principle", "signatory", "accord", "status"}
	errStop      = errors.New("stop")
)

// pageParams are a cursor (the last key of the previous page) and a
// limit.
type pageParams struct {
	after []byte
	limit int
}

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

func parsePage(c echo.Context, allowed ...string) (pageParams, error) {
	q, err := params(c, allowed...)
	if err != nil {
		return pageParams{}, err
	}
	return pageOf(q)
}

func pageOf(q map[string]string) (pageParams, error) {
	pg := pageParams{limit: defaultLimit}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit || strconv.Itoa(n) != v {
			return pg, problemf(kindBadParameter, "limit must be an integer from 1 to 500")
		}
		pg.limit = n
	}
	if v, ok := q["cursor"]; ok {
		after, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(after) == 0 || base64.RawURLEncoding.EncodeToString(after) != v {
			return pg, problemf(kindBadParameter, "cursor must be the next value of a previous page")
		}
		pg.after = after
	}
	return pg, nil
}

// page reads up to pg.limit rows of table under prefix after the cursor.
func (s *Server) page(c echo.Context, table string, prefix []byte, pg pageParams) ([]log.Row, string, error) {
	start, end := prefix, prefixEnd(prefix)
	if pg.after != nil {
		if !bytes.HasPrefix(pg.after, prefix) {
			return nil, "", problemf(kindBadParameter, "cursor does not belong to this query")
		}
		start = append(slices.Clone(pg.after), 0)
	}
	rows, err := s.log.Rows(c.Request().Context(), table, start, end, pg.limit)
	if err != nil || len(rows) < pg.limit {
		return rows, "", err
	}
	return rows, base64.RawURLEncoding.EncodeToString(rows[len(rows)-1].Key), nil
}

// prefixEnd is the least key above every key with prefix (nil: none).
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func (s *Server) getSearch(c echo.Context) error {
	q, err := params(c, append(searchFields, "cursor", "limit")...)
	if err != nil {
		return err
	}
	prefixes, err := searchPrefixes(q)
	if err != nil {
		return err
	}
	pg, err := pageOf(q)
	if err != nil {
		return err
	}
	out, err := s.search(c, prefixes, pg)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

// searchPrefixes checks the filters and returns their TableSearch
// prefixes, the scan's driver first.
func searchPrefixes(q map[string]string) ([][]byte, error) {
	if err := checkFilters(q); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, f := range searchFields {
		v, ok := q[f]
		if !ok {
			continue
		}
		if f == "principle" {
			v = q["accord"] + "/" + v
		}
		out = append(out, attest.SearchPrefix(f, v))
	}
	if len(out) == 0 {
		return nil, problemf(kindBadParameter, "give at least one of signatory, accord, principle, status and subject")
	}
	return out, nil
}

func checkFilters(q map[string]string) error {
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
