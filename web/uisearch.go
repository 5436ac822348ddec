package web

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// searchData is the search form, as submitted, and its results.
type searchData struct {
	Query    map[string]string
	Statuses []string
	Asked    bool
	Error    string
	Results  []searchItem
	Next     string // the query string of the next page
}

type searchItem struct {
	Index  uint64
	Pledge *attest.PledgeInfo
}

// searchForm are the fields of the search form: those of /api/v1/search
// and its paging, an index and an entry (leaf) hash.
var searchForm = append(append([]string{}, searchFields...), "index", "hash", "cursor", "limit")

func (u *ui) search(c echo.Context) error {
	d := searchData{Query: map[string]string{}, Statuses: statuses}
	for _, f := range searchForm {
		if v := strings.TrimSpace(c.QueryParam(f)); v != "" {
			d.Query[f] = v
		}
	}
	if len(d.Query) == 0 {
		return u.render(c, 200, "search", "Search", d)
	}
	d.Asked = true
	if target, err := u.directHit(c, d.Query); err != nil || target != "" {
		if err != nil {
			return u.searchError(c, d, err)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
	if err := u.runSearch(c, &d); err != nil {
		return u.searchError(c, d, err)
	}
	return u.render(c, 200, "search", "Search", d)
}

func (u *ui) searchError(c echo.Context, d searchData, err error) error {
	re, ok := err.(*requestError)
	if !ok {
		return err
	}
	d.Error = re.detail
	return u.render(c, re.kind.status, "search", "Search", d)
}

// directHit returns the entry page of an index or an entry hash query,
// or "" for other queries.
func (u *ui) directHit(c echo.Context, q map[string]string) (string, error) {
	if v, ok := q["index"]; ok {
		n, err := parseNumber("index", v)
		if err == nil && n >= u.s.log.Latest().Size {
			err = problemf(kindBeyondTree, "the log has no entry "+v+" yet")
		}
		return "/entries/" + v, err
	}
	if v, ok := q["hash"]; ok {
		return u.hashHit(c, v)
	}
	return "", nil
}

// hashHit returns the entry page of a leaf hash, hex or base64.
func (u *ui) hashHit(c echo.Context, v string) (string, error) {
	h, err := hex.DecodeString(v)
	if err != nil || len(h) != 32 {
		h, err = base64.StdEncoding.DecodeString(v)
	}
	if err != nil || len(h) != 32 {
		return "", problemf(kindBadParameter, "an entry hash is 64 hex digits or 44 characters of base64")
	}
	rows, err := u.s.log.Rows(c.Request().Context(), attestlog.TableLeaf, h, append(h, 0), 1)
	if err != nil {
		return "", err
	}
	if len(rows) == 0 || len(rows[0].Value) != 8 {
		return "", problemf(kindEntryNotFound, "no entry has this leaf hash")
	}
	return "/entries/" + strconv.FormatUint(binary.BigEndian.Uint64(rows[0].Value), 10), nil
}

func (u *ui) runSearch(c echo.Context, d *searchData) error {
	prefixes, err := searchPrefixes(d.Query)
	if err != nil {
		return err
	}
	pg, err := pageOf(d.Query)
	if err != nil {
		return err
	}
	res, err := u.s.search(c, prefixes, pg)
	if err != nil {
		return err
	}
	for _, r := range res.Results {
		info, err := u.pledgeInfo(c, r.Index)
		if err != nil {
			return err
		}
		d.Results = append(d.Results, searchItem{Index: r.Index, Pledge: info})
	}
	if res.Next != "" {
		q := c.QueryParams()
		q.Set("cursor", res.Next)
		d.Next = q.Encode()
	}
	return nil
}
