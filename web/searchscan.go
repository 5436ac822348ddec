package web

import (
	"encoding/base64"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
)

// searchBudget is the most driver rows one search page scans: a page of
// a query whose filters match rarely ends early, with a cursor.
const searchBudget = 4096

// search scans the driver prefix (the first) after the cursor and keeps
// the entries that every other prefix also lists.
func (s *Server) search(c echo.Context, prefixes [][]byte, pg pageParams) (*api.SearchResults, error) {
	out := &api.SearchResults{Results: []api.SearchResult{}}
	driver, scanned := prefixes[0], 0
	for len(out.Results) < pg.limit && scanned < searchBudget {
		rows, next, err := s.page(c, attest.TableSearch, driver, pageParams{after: pg.after, limit: min(pg.limit, searchBudget-scanned)})
		if err != nil {
			return nil, err
		}
		scanned += len(rows)
		for i, r := range rows {
			index, err := attest.ParseIndexKey(r.Key)
			if err != nil {
				return nil, err
			}
			ok, err := s.matches(c, prefixes[1:], r.Key[len(r.Key)-16:])
			if err != nil {
				return nil, err
			}
			if ok {
				out.Results = append(out.Results, api.SearchResult{Index: index})
			}
			if len(out.Results) == pg.limit && i < len(rows)-1 {
				next = base64.RawURLEncoding.EncodeToString(r.Key)
				break
			}
		}
		out.Next = next
		if next == "" {
			break
		}
		pg.after, _ = base64.RawURLEncoding.DecodeString(next)
	}
	return out, nil
}

// matches reports whether every filter prefix lists the entry.
func (s *Server) matches(c echo.Context, prefixes [][]byte, indexKey []byte) (bool, error) {
	for _, p := range prefixes {
		key := append(slices.Clone(p), indexKey...)
		rows, err := s.log.Rows(c.Request().Context(), attest.TableSearch, key, append(key, 0), 1)
		if err != nil || len(rows) == 0 {
			return false, err
		}
	}
	return true, nil
}
