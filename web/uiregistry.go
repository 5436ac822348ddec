package web

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
)

// signatoryRows reads every signatory but the registrar, by id.
func (u *ui) signatoryRows(c echo.Context) ([]attest.SignatoryInfo, error) {
	var out []attest.SignatoryInfo
	err := scanRows(c.Request().Context(), u.s.log, attest.TableSignatories, nil, func(r log.Row) error {
		if string(r.Key) == attest.RegistrarID {
			return nil
		}
		var s attest.SignatoryInfo
		if err := json.Unmarshal(r.Value, &s); err != nil {
			return err
		}
		out = append(out, s)
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
	var d accordData
	ok, err := u.row(c, attest.TableAccords, id, &d.Accord)
	if err != nil {
		return err
	}
	if !ok || !idPattern.MatchString(id) {
		return problemf(kindRouteNotFound, "This log holds no accord with this id.")
	}
	if d.Signatories, err = u.signatoryRows(c); err != nil {
		return err
	}
	latest := map[string]attest.LatestPledge{}
	err = scanRows(c.Request().Context(), u.s.log, attest.TableLatest, nil, func(r log.Row) error {
		var p attest.LatestPledge
		if err := json.Unmarshal(r.Value, &p); err != nil {
			return err
		}
		if p.Accord == id {
			latest[p.Signatory+"/"+p.Principle] = p
		}
		return nil
	})
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

func (u *ui) signatories(c echo.Context) error {
	list, err := u.signatoryRows(c)
	if err != nil {
		return err
	}
	return u.render(c, 200, "signatories", "Signatories", list)
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
	var out []timelineItem
	for _, e := range s.Events {
		out = append(out, timelineItem{Index: e.Index, Action: e.Action})
	}
	prefix := attest.SearchPrefix(attest.SearchSignatory, s.ID)
	rows, err := u.s.log.Rows(c.Request().Context(), attest.TableSearch, prefix, prefixEnd(prefix), maxTimeline)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		index, err := attest.ParseIndexKey(r.Key)
		if err != nil {
			return nil, err
		}
		var info attest.PledgeInfo
		ok, err := u.row(c, attest.TablePledges, string(attest.IndexKey(index)), &info)
		if err != nil {
			return nil, err
		}
		if ok {
			item := timelineItem{Index: index, Void: info.Void}
			if item.Pledge, err = u.pledgeAt(c, index); err != nil {
				return nil, err
			}
			out = append(out, item)
		}
	}
	slices.SortFunc(out, func(a, b timelineItem) int { return cmp.Compare(b.Index, a.Index) })
	return out, nil
}

// pledgeAt decodes the pledge at index.
func (u *ui) pledgeAt(c echo.Context, index uint64) (*attest.Pledge, error) {
	entry, err := u.s.log.Entry(c.Request().Context(), index)
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
