package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// scanJSON decodes the JSON value of every row of table into a T and
// calls fn with its key and it.
func scanJSON[T any](u *ui, c echo.Context, table string, fn func(key string, v T) error) error {
	return attestlog.ScanRows(c.Request().Context(), u.s.log, table, nil, func(r log.Row) error {
		var v T
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return fmt.Errorf("decoding %s row %q: %w", table, r.Key, err)
		}
		return fn(string(r.Key), v)
	})
}

// signatoryRows reads every signatory but the registrar, by id.
func (u *ui) signatoryRows(c echo.Context) ([]attest.SignatoryInfo, error) {
	var out []attest.SignatoryInfo
	err := scanJSON(u, c, attest.TableSignatories, func(id string, s attest.SignatoryInfo) error {
		if id != attest.RegistrarID {
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// row reads the JSON value of one row into v; ok is false if it is absent.
func (u *ui) row(c echo.Context, table, key string, v any) (ok bool, err error) {
	rows, err := u.s.log.Rows(c.Request().Context(), table, []byte(key), []byte(key+"\x00"), 1)
	if err != nil || len(rows) == 0 {
		return false, err
	}
	return true, json.Unmarshal(rows[0].Value, v)
}

type accordData struct {
	Accord      attest.AccordInfo
	Signatories []attest.SignatoryInfo
	Matrix      []matrixRow
}

type matrixRow struct {
	Signatory attest.SignatoryInfo
	Cells     []attest.LatestPledge // one per principle; Status "" for none
}

func (u *ui) accord(c echo.Context) error {
	id := c.Param("id")
	if !idPattern.MatchString(id) {
		return problemf(kindBadParameter, "An accord id has lowercase letters, digits and '-' only.")
	}
	var d accordData
	ok, err := u.row(c, attest.TableAccords, id, &d.Accord)
	if err != nil {
		return err
	}
	if !ok {
		return problemf(kindRouteNotFound, "This log holds no accord with this id.")
	}
	if d.Signatories, err = u.signatoryRows(c); err != nil {
		return err
	}
	latest, err := u.latest(c, id)
	if err != nil {
		return err
	}
	for _, s := range d.Signatories {
		mr := matrixRow{Signatory: s}
		for _, pr := range d.Accord.Principles {
			mr.Cells = append(mr.Cells, latest[s.ID+"/"+pr.ID])
		}
		d.Matrix = append(d.Matrix, mr)
	}
	return u.render(c, 200, "accord", d.Accord.Title, d)
}

// latest returns the latest pledges to accord by "signatory/principle".
func (u *ui) latest(c echo.Context, accord string) (map[string]attest.LatestPledge, error) {
	out := map[string]attest.LatestPledge{}
	err := scanJSON(u, c, attest.TableLatest, func(_ string, p attest.LatestPledge) error {
		if p.Accord == accord {
			out[p.Signatory+"/"+p.Principle] = p
		}
		return nil
	})
	return out, err
}

// signatoriesPage is how many signatories a page of /signatories lists.
const signatoriesPage = 200

type signatoriesData struct {
	Signatories []attest.SignatoryInfo
	Next        string // the cursor of the next page
}

func (u *ui) signatories(c echo.Context) error {
	q := map[string]string{"limit": strconv.Itoa(signatoriesPage)}
	if v := c.QueryParam("cursor"); v != "" {
		q["cursor"] = v
	}
	pg, err := pageOf(q)
	if err != nil {
		return err
	}
	rows, next, err := u.s.page(c, attest.TableSignatories, nil, pg)
	if err != nil {
		return err
	}
	d := signatoriesData{Next: next}
	for _, r := range rows {
		var s attest.SignatoryInfo
		if err := json.Unmarshal(r.Value, &s); err != nil {
			return err
		}
		if s.ID != attest.RegistrarID {
			d.Signatories = append(d.Signatories, s)
		}
	}
	return u.render(c, 200, "signatories", "Signatories", d)
}

type signatoryData struct {
	Signatory   attest.SignatoryInfo
	Recovered   []uint64        // the indexes of its recover events
	RecoveredAt map[uint64]bool // the same, to flag the keys they added
	Timeline    []timelineItem
}

// timelineItem is one entry that names the signatory: a registry event
// or a pledge.
type timelineItem struct {
	Index  uint64
	Action string // registry event
	Pledge *attest.Pledge
	Void   bool
}

// maxTimeline is the most entries a signatory's page lists.
const maxTimeline = 500

func (u *ui) signatory(c echo.Context) error {
	id := c.Param("id")
	if !idPattern.MatchString(id) {
		return problemf(kindBadParameter, "A signatory id has lowercase letters, digits and '-' only.")
	}
	d := signatoryData{RecoveredAt: map[uint64]bool{}}
	ok, err := u.row(c, attest.TableSignatories, id, &d.Signatory)
	if err != nil {
		return err
	}
	if !ok || id == attest.RegistrarID {
		return problemf(kindSignatoryNotFound, "This log has no signatory with this id.")
	}
	for _, e := range d.Signatory.Events {
		if e.Action == attest.ActionRecover {
			d.Recovered = append(d.Recovered, e.Index)
			d.RecoveredAt[e.Index] = true
		}
	}
	if d.Timeline, err = u.timeline(c, d.Signatory); err != nil {
		return err
	}
	return u.render(c, 200, "signatory", d.Signatory.Name, d)
}

// timeline lists the signatory's registry events and pledges, newest
// first.
func (u *ui) timeline(c echo.Context, s attest.SignatoryInfo) ([]timelineItem, error) {
	out, err := u.pledges(c, s.ID)
	for _, e := range s.Events {
		out = append(out, timelineItem{Index: e.Index, Action: e.Action})
	}
	slices.SortFunc(out, func(a, b timelineItem) int { return cmp.Compare(b.Index, a.Index) })
	return out, err
}

// pledges lists the pledges of a signatory (up to maxTimeline entries
// that name it).
func (u *ui) pledges(c echo.Context, id string) ([]timelineItem, error) {
	prefix := attest.SearchPrefix(attest.SearchSignatory, id)
	rows, err := u.s.log.Rows(c.Request().Context(), attest.TableSearch, prefix, prefixEnd(prefix), maxTimeline)
	var out []timelineItem
	for _, r := range rows {
		index, err := attest.ParseIndexKey(r.Key)
		if err != nil {
			return nil, err
		}
		info, err := u.pledgeInfo(c, index)
		if err != nil {
			return nil, err
		}
		if info == nil {
			continue // a registry event
		}
		p, err := u.pledgeAt(c, index)
		if err != nil {
			return nil, err
		}
		out = append(out, timelineItem{Index: index, Pledge: p, Void: info.Void})
	}
	return out, err
}

// pledgeInfo returns the TablePledges row of the entry at index, or nil
// if it is not a pledge.
func (u *ui) pledgeInfo(c echo.Context, index uint64) (*attest.PledgeInfo, error) {
	var info attest.PledgeInfo
	ok, err := u.row(c, attest.TablePledges, string(attest.IndexKey(index)), &info)
	if err != nil || !ok {
		return nil, err
	}
	return &info, nil
}

// pledgeAt decodes the pledge at index.
func (u *ui) pledgeAt(c echo.Context, index uint64) (*attest.Pledge, error) {
	entry, err := u.s.entry(c.Request().Context(), index)
	if err != nil {
		return nil, err
	}
	env, err := attest.ParseLeaf(entry)
	if err != nil {
		return nil, err
	}
	p, _ := env.Statement.Predicate.(*attest.Pledge)
	return p, nil
}
