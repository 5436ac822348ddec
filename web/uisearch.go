package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/verify"
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
	if target, err := u.directHit(c.Request().Context(), d.Query); err != nil || target != "" {
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
func (u *ui) directHit(ctx context.Context, q map[string]string) (string, error) {
	if v, ok := q["index"]; ok {
		n, err := parseNumber("index", v)
		if err == nil && n >= u.s.log.Latest().Size {
			err = problemf(kindBeyondTree, "the log has no entry "+v+" yet")
		}
		return "/entries/" + v, err
	}
	if v, ok := q["hash"]; ok {
		return u.hashHit(ctx, v)
	}
	return "", nil
}

// hashHit returns the entry page of a leaf hash, hex or base64.
func (u *ui) hashHit(ctx context.Context, v string) (string, error) {
	h, err := hex.DecodeString(v)
	if err != nil || len(h) != 32 {
		h, err = base64.StdEncoding.DecodeString(v)
	}
	if err != nil || len(h) != 32 {
		return "", problemf(kindBadParameter, "an entry hash is 64 hex digits or 44 characters of base64")
	}
	index, err := u.s.alog.IndexByLeafHash(ctx, verify.Hash(h))
	if errors.Is(err, attestlog.ErrNotFound) {
		return "", problemf(kindEntryNotFound, "no entry has this leaf hash")
	}
	if err != nil {
		return "", err
	}
	return "/entries/" + strconv.FormatUint(index, 10), nil
}

func (u *ui) runSearch(c echo.Context, d *searchData) error {
	query, err := searchQuery(d.Query)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := u.s.checkAccord(ctx, query); err != nil {
		return err
	}
	pg, err := pageOf(d.Query)
	if err != nil {
		return err
	}
	res, err := u.s.search(ctx, query, pg)
	if err != nil {
		return err
	}
	for _, r := range res.Results {
		d.Results = append(d.Results, searchItem{Index: r.Index, Pledge: r.Pledge})
	}
	if res.Next != "" {
		q := c.QueryParams()
		q.Set("cursor", res.Next)
		d.Next = q.Encode()
	}
	return nil
}
