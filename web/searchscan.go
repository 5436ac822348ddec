package web

import (
	"context"
	"errors"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// searchResults is the body of /api/v1/search.
type searchResults = api.SearchResultsOf[attest.PledgeInfo]

// search answers a page of the query, as /api/v1/search does: each hit
// with what the log derived of it, so that a reader needs no request per
// hit to tell a pledge from a registry event.
func (s *Server) search(ctx context.Context, q attestlog.Query, pg attestlog.Page) (*searchResults, error) {
	hits, err := s.alog.Search(ctx, q, pg)
	if err != nil {
		return nil, pageError(err)
	}
	out := &searchResults{Results: make([]api.SearchResultOf[attest.PledgeInfo], 0, len(hits.Indexes)), Next: cursor(hits.Next)}
	for _, index := range hits.Indexes {
		r := api.SearchResultOf[attest.PledgeInfo]{Index: index, Kind: api.SearchRegistry}
		info, err := s.alog.PledgeInfo(ctx, index)
		switch {
		case err == nil:
			r.Kind, r.Pledge = api.SearchPledge, &info
		case !errors.Is(err, attestlog.ErrNotFound): // else not a pledge
			return nil, err
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}
