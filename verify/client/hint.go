package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/pledgelog/pledgelog/verify"
)

// IndexHint asks the log's JSON API for the index of the entry whose leaf
// hash is h. The answer is only a hint: the caller must fetch that entry
// from the tiles and check its hash and inclusion before relying on it.
func (c *Client) IndexHint(ctx context.Context, h verify.Hash) (uint64, error) {
	b, err := c.Get(ctx, "api/v1/proof/inclusion?hash="+url.QueryEscape(h.String()), maxJSON)
	if err != nil {
		return 0, err
	}
	var v struct {
		Index *uint64 `json:"index"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil || v.Index == nil {
		return 0, fmt.Errorf("index of leaf %s: unreadable answer", h)
	}
	return *v.Index, nil
}
