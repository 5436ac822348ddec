package web

import (
	"context"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/verify"
)

// uiFuncs are the template functions of the UI.
var uiFuncs = template.FuncMap{
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
	"add": func(a, b int) int { return a + b },
}

// checkpointView is a signed checkpoint as the pages show it.
type checkpointView struct {
	Size    uint64
	Root    string
	Note    string
	Cosigs  []cosigView
	Invalid string // why the note does not parse, if it does not
}

// cosigView is one signature line that is not the log's own.
type cosigView struct {
	Name  string
	KeyID string
	Time  string // of a timestamped (type 0x04) cosignature
}

func (u *ui) checkpointView(note []byte) checkpointView {
	v := checkpointView{Note: string(note)}
	n, err := verify.ParseNote(note)
	if err == nil {
		var cp verify.Checkpoint
		if cp, err = verify.ParseCheckpoint(n.Text); err == nil {
			v.Size, v.Root = cp.Size, cp.Root.String()
		}
	}
	if err != nil {
		v.Invalid = err.Error()
		return v
	}
	for _, s := range n.Sigs {
		if s.Name == u.s.log.Origin() {
			continue
		}
		cv := cosigView{Name: s.Name, KeyID: fmt.Sprintf("%08x", s.KeyID)}
		if t, err := verify.CosignatureTime(s.Sig); err == nil {
			cv.Time = t.Format(time.RFC3339)
		}
		v.Cosigs = append(v.Cosigs, cv)
	}
	return v
}

type homeData struct {
	Checkpoint  checkpointView
	Chart       chart
	Accords     []attest.AccordInfo
	Signatories int
}

func (u *ui) home(c echo.Context) error {
	return u.cached(c, "home", u.renderHome)
}

func (u *ui) renderHome(ctx context.Context) ([]byte, error) {
	d := homeData{Checkpoint: u.checkpointView(u.s.log.Published().Checkpoint)}
	history, err := u.history(ctx, 200)
	if err != nil {
		return nil, err
	}
	d.Chart = growthChart(history)
	accords, err := u.s.alog.Accords(ctx)
	if err != nil {
		return nil, err
	}
	if d.Accords, err = attestlog.DecodeAll(accords); err != nil {
		return nil, err
	}
	sum, err := u.summary(ctx)
	if err != nil {
		return nil, err
	}
	d.Signatories = sum.signatories
	return u.renderBytes(ctx, "home", "Home", d)
}

// history returns up to limit published checkpoints, newest first.
func (u *ui) history(ctx context.Context, limit int) ([]checkpointView, error) {
	published := u.s.log.Published().Size
	notes, err := u.s.log.Checkpoints(ctx, published+1, limit)
	if err != nil {
		return nil, err
	}
	out := make([]checkpointView, 0, len(notes))
	for _, n := range notes {
		out = append(out, u.checkpointView(n))
	}
	return out, nil
}

type checkpointsData struct {
	History []checkpointView
	Before  uint64 // the next page's "before", or 0 on the last page
}

const historyPage = 100

func (u *ui) checkpoints(c echo.Context) error {
	if c.QueryParam("before") == "" {
		return u.cached(c, "checkpoints", func(ctx context.Context) ([]byte, error) {
			return u.renderCheckpoints(ctx, u.s.log.Published().Size+1)
		})
	}
	published := u.s.log.Published().Size
	n, err := strconv.ParseUint(c.QueryParam("before"), 10, 64)
	if err != nil || n > published+1 {
		return problemf(kindBadParameter, "before must be a tree size")
	}
	body, err := u.renderCheckpoints(c.Request().Context(), n)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(200, body)
}

// renderCheckpoints renders the page of the checkpoints before the tree
// size before.
func (u *ui) renderCheckpoints(ctx context.Context, before uint64) ([]byte, error) {
	notes, err := u.s.log.Checkpoints(ctx, before, historyPage)
	if err != nil {
		return nil, err
	}
	d := checkpointsData{}
	for _, n := range notes {
		d.History = append(d.History, u.checkpointView(n))
	}
	if len(d.History) == historyPage {
		d.Before = d.History[len(d.History)-1].Size
	}
	return u.renderBytes(ctx, "checkpoints", "Checkpoints", d)
}
