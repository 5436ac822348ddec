// Package client is the HTTP client of a pledgelog log's write and
// registry API, shared by the signatory's command (pledge) and the
// operator's (pledgelog): reads of the log and its registry, submissions
// authenticated by JWTs signed with registered keys (session tokens, and
// the registrar's single-use ones), the check of returned proof bundles,
// and signatory requests. The auditor's verifier does not use it: it
// reads through verify/client and mints nothing.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	vclient "github.com/pledgelog/pledgelog/verify/client"
)

// maxResponse caps the body read from the server.
const maxResponse = 64 << 20

// A Client talks to one log at URL (scheme and host, no trailing slash).
type Client struct {
	URL  string
	HTTP *http.Client
}

// New returns a client of the log at url that makes its requests with
// verify/client's HTTP client: 60 s per request, the program's name and
// version as User-Agent.
func New(base string) *Client {
	return &Client{URL: strings.TrimSuffix(base, "/"), HTTP: vclient.NewHTTP(vclient.Agent(""), time.Minute)}
}

// Problem is a problem the server answered (RFC 9457); it is an error.
type Problem = api.Problem

// LogInfo is the body of GET /api/v1/log.
type LogInfo = api.LogInfo

// SignatoryDetail is the body of GET /api/v1/signatories/{id}, typed:
// api's one declaration of it with attest's records.
type SignatoryDetail = api.SignatoryDetailOf[attest.SignatoryInfo, attest.LatestPledge]

// Log fetches the log's origin, key and published checkpoint.
func (c *Client) Log(ctx context.Context) (*LogInfo, error) {
	var info LogInfo
	return &info, c.get(ctx, "/api/v1/log", &info)
}

// Signatory fetches the registry record of a signatory (or of
// attest.RegistrarID).
func (c *Client) Signatory(ctx context.Context, id string) (*SignatoryDetail, error) {
	var s SignatoryDetail
	return &s, c.get(ctx, "/api/v1/signatories/"+id, &s)
}

// Signatories fetches every signatory, following the pages.
func (c *Client) Signatories(ctx context.Context) ([]attest.SignatoryInfo, error) {
	var all []attest.SignatoryInfo
	for cursor := ""; ; {
		var page api.SignatoriesOf[attest.SignatoryInfo]
		path := "/api/v1/signatories?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.get(ctx, path, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Signatories...)
		if cursor = page.Next; cursor == "" {
			return all, nil
		}
	}
}

// Accord fetches an accord by id.
func (c *Client) Accord(ctx context.Context, id string) (*attest.AccordInfo, error) {
	var out api.AccordsOf[attest.AccordInfo]
	if err := c.get(ctx, "/api/v1/accords", &out); err != nil {
		return nil, err
	}
	for _, a := range out.Accords {
		if a.ID == id {
			return &a, nil
		}
	}
	return nil, fmt.Errorf("the log has no accord %q", id)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	if err != nil {
		return err
	}
	_, body, err := c.do(req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: bad answer: %w", path, err)
	}
	return nil
}

// Post sends body with the bearer token to path and returns the status
// and body of a 2xx answer; other answers are a *Problem.
func (c *Client) Post(ctx context.Context, path, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return c.do(req)
}

func (c *Client) do(req *http.Request) (int, []byte, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		p := &Problem{Status: resp.StatusCode}
		if json.Unmarshal(body, p) != nil || p.Type == "" {
			p.Type, p.Detail = http.StatusText(resp.StatusCode), strings.TrimSpace(string(body))
		}
		return resp.StatusCode, nil, p
	}
	return resp.StatusCode, body, nil
}
