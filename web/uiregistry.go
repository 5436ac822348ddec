package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

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
	return u.cached(c, "accord/"+id, func(ctx context.Context) ([]byte, error) { return u.renderAccord(ctx, id) })
}

func (u *ui) renderAccord(ctx context.Context, id string) ([]byte, error) {
	var d accordData
	var err error
	d.Accord, err = u.s.alog.Accord(ctx, id)
	if errors.Is(err, attestlog.ErrNotFound) {
		return nil, problemf(kindRouteNotFound, "This log holds no accord with this id.")
	}
	if err != nil {
		return nil, err
	}
	if d.Signatories, err = u.s.alog.AllSignatories(ctx); err != nil {
		return nil, err
	}
	cells, err := u.s.alog.LatestByAccord(ctx, id)
	if err != nil {
		return nil, err
	}
	latest := map[string]attest.LatestPledge{} // by "signatory/principle"
	for _, p := range cells {
		latest[p.Signatory+"/"+p.Principle] = p
	}
	for _, s := range d.Signatories {
		mr := matrixRow{Signatory: s}
		for _, pr := range d.Accord.Principles {
			mr.Cells = append(mr.Cells, latest[s.ID+"/"+pr.ID])
		}
		d.Matrix = append(d.Matrix, mr)
	}
	return u.renderBytes(ctx, "accord", d.Accord.Title, d)
}

// signatoriesPage is how many signatories a page of /signatories lists.
const signatoriesPage = 200

type signatoriesData struct {
	Signatories []attest.SignatoryInfo
	Next        string // the cursor of the next page
}

func (u *ui) signatories(c echo.Context) error {
	v := c.QueryParam("cursor")
	if v == "" {
		return u.cached(c, "signatories", func(ctx context.Context) ([]byte, error) { return u.renderSignatories(ctx, "") })
	}
	body, err := u.renderSignatories(c.Request().Context(), v)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(200, body)
}

// renderSignatories renders the page of signatories from cursor.
func (u *ui) renderSignatories(ctx context.Context, cursorParam string) ([]byte, error) {
	q := map[string]string{"limit": strconv.Itoa(signatoriesPage)}
	if cursorParam != "" {
		q["cursor"] = cursorParam
	}
	pg, err := pageOf(q)
	if err != nil {
		return nil, err
	}
	docs, next, err := u.s.alog.Signatories(ctx, pg)
	if err != nil {
		return nil, pageError(err)
	}
	d := signatoriesData{Next: cursor(next)}
	if d.Signatories, err = attestlog.DecodeAll(docs); err != nil {
		return nil, err
	}
	return u.renderBytes(ctx, "signatories", "Signatories", d)
}

type signatoryData struct {
	Signatory   attest.SignatoryInfo
	Recovered   []uint64        // the indexes of its recover events
	RecoveredAt map[uint64]bool // the same, to flag the keys they added
	Timeline    []timelineItem
	// MapKeys is the keys' states as the page shows them, in JSON, for
	// page.js to prove against the registry map.
	MapKeys string
}

// mapKey is a key's state as page.js compares it with the map's.
type mapKey struct {
	ID       string  `json:"id"`
	Added    uint64  `json:"added"`
	Revoked  *uint64 `json:"revoked"`
	VoidFrom *uint64 `json:"voidFrom"`
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
	ctx := c.Request().Context()
	d := signatoryData{RecoveredAt: map[uint64]bool{}}
	doc, err := u.s.alog.Signatory(ctx, id)
	if err == nil {
		d.Signatory, err = doc.Decode()
	}
	if errors.Is(err, attestlog.ErrNotFound) || err == nil && id == attest.RegistrarID {
		return problemf(kindSignatoryNotFound, "This log has no signatory with this id.")
	}
	if err != nil {
		return err
	}
	for _, e := range d.Signatory.Events {
		if e.Action == attest.ActionRecover {
			d.Recovered = append(d.Recovered, e.Index)
			d.RecoveredAt[e.Index] = true
		}
	}
	if d.Timeline, err = u.timeline(ctx, d.Signatory); err != nil {
		return err
	}
	keys := make([]mapKey, 0, len(d.Signatory.Keys))
	for _, k := range d.Signatory.Keys {
		keys = append(keys, mapKey{k.ID, k.Added, k.Revoked, k.VoidFrom})
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	d.MapKeys = string(b)
	return u.render(c, 200, "signatory", d.Signatory.Name, d)
}

// timeline lists the signatory's registry events and pledges, newest
// first.
func (u *ui) timeline(ctx context.Context, s attest.SignatoryInfo) ([]timelineItem, error) {
	out, err := u.pledges(ctx, s.ID)
	for _, e := range s.Events {
		out = append(out, timelineItem{Index: e.Index, Action: e.Action})
	}
	slices.SortFunc(out, func(a, b timelineItem) int { return cmp.Compare(b.Index, a.Index) })
	return out, err
}

// pledges lists the pledges of a signatory (up to maxTimeline entries
// that name it), each decoded from its entry.
func (u *ui) pledges(ctx context.Context, id string) ([]timelineItem, error) {
	logged, err := u.s.alog.Pledges(ctx, id, maxTimeline)
	var out []timelineItem
	for _, lp := range logged {
		p, err := u.pledgeAt(ctx, lp.Index)
		if err != nil {
			return nil, err
		}
		out = append(out, timelineItem{Index: lp.Index, Pledge: p, Void: lp.Info.Void})
	}
	return out, err
}

// pledgeAt decodes the pledge at index, from the entry bundles the server
// caches.
func (u *ui) pledgeAt(ctx context.Context, index uint64) (*attest.Pledge, error) {
	entry, err := u.s.entry(ctx, index)
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
