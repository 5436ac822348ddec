package web

import (
	"context"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attestlog"
)

// search answers a page of the query, as /api/v1/search does.
func (s *Server) search(ctx context.Context, q attestlog.Query, pg attestlog.Page) (*api.SearchResults, error) {
	hits, err := s.alog.Search(ctx, q, pg)
	if err != nil {
		return nil, pageError(err)
	}
	out := &api.SearchResults{Results: make([]api.SearchResult, 0, len(hits.Indexes)), Next: cursor(hits.Next)}
	for _, index := range hits.Indexes {
		out.Results = append(out.Results, api.SearchResult{Index: index})
	}
	return out, nil
}
