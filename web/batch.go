package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"golang.org/x/sync/errgroup"
)

// postBatch logs up to MaxBatch envelopes, all or none.
func (s *Server) postBatch(c echo.Context) error {
	body, sess, release, err := s.accept(c, s.cfg.MaxBatchBytes)
	if err != nil {
		return err
	}
	defer release()
	subs, err := parseBatch(body)
	if err != nil {
		return err
	}
	res, err := s.alog.Submit(c.Request().Context(), subs, sess.issuer)
	if err != nil {
		return submitError(err, true)
	}
	resp, created, err := s.proveBatch(c, res, subs)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	return c.JSON(status, resp)
}

// parseBatch decodes a batch strictly and canonicalizes its envelopes.
func parseBatch(body []byte) ([]attestlog.Submission, error) {
	var req api.BatchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if checkMembers(body, "entries") != nil || dec.Decode(&req) != nil || dec.Decode(new(json.RawMessage)) != io.EOF {
		return nil, problemf(kindBadRequest, `the body must be {"entries": [envelope, …]}`)
	}
	if len(req.Entries) == 0 || len(req.Entries) > api.MaxBatch {
		return nil, problemf(kindBadRequest, "a batch has 1 to "+strconv.Itoa(api.MaxBatch)+" entries")
	}
	subs := make([]attestlog.Submission, len(req.Entries))
	for k, raw := range req.Entries {
		var err error
		if subs[k], err = attestlog.Canonicalize(raw); err != nil {
			return nil, &entryError{k, err}
		}
	}
	return subs, nil
}

// proveBatch builds and checks every item's bundle against the latest
// state of the batch; created reports whether any entry is new.
func (s *Server) proveBatch(c echo.Context, res []log.Result, subs []attestlog.Submission) (*api.BatchResponse, bool, error) {
	state, created := res[0].State, false
	for _, r := range res {
		if r.State.Size > state.Size {
			state = r.State
		}
		created = created || !r.Duplicate
	}
	p, err := s.prover(state)
	if err != nil {
		return nil, false, err
	}
	ctx := c.Request().Context()
	bundles := make([]*bundle.Bundle, len(res))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k, r := range res {
		g.Go(func() (err error) {
			bundles[k], err = p.Bundle(ctx, r.Index, verified(subs[k], r.Duplicate))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, false, err
	}
	resp := &api.BatchResponse{MediaType: bundle.MediaType, Checkpoint: string(state.Checkpoint)}
	ev := map[uint64]bool{}
	for k, b := range bundles {
		resp.Entries = append(resp.Entries, batchItem(b, res[k].Duplicate, ev, resp))
	}
	return resp, created, nil
}

func batchItem(b *bundle.Bundle, dup bool, ev map[uint64]bool, resp *api.BatchResponse) api.BatchItem {
	item := api.BatchItem{ProofItem: proofItem(b.Entry), Duplicate: dup, Evidence: []uint64{}}
	for _, e := range b.Evidence {
		item.Evidence = append(item.Evidence, e.Index)
		if !ev[e.Index] {
			ev[e.Index] = true
			resp.Evidence = append(resp.Evidence, proofItem(e))
		}
	}
	return item
}

func proofItem(e bundle.Entry) api.ProofItem {
	return api.ProofItem{Index: e.Index, Leaf: e.Leaf, Proof: nonNil(e.Proof)}
}
