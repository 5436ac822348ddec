// Package client is the HTTP client of a pledgelog log's write and
// registry API, shared by the signatory's command (pledge) and the
// operator's (pledgelog): reads of the log and its registry, submissions
// authenticated by JWTs signed with registered keys (session tokens, and
// the registrar's single-use ones), the check of returned proof bundles,
// and signatory requests. The auditor's verifier does not use it: it
// reads through verify/client and mints nothing.
//
// Requests go through verify/client's HTTP client (per-request timeout,
// User-Agent). Those safe to repeat are retried, up to Client.Retries
// more times (default 3), after a network error (a refused or reset
// connection, a timeout; not the context's end, nor a bad URL) or a
// 429, 500, 502, 503 or 504 answer; a 4xx other than 429, or any other
// answer, is returned at once. The pause before retry n (0-based) is the
// server's Retry-After in seconds if it sent one, else 250 ms << n, and
// never more than MaxPause; the context's end stops the waiting and
// returns its error. What is retried:
//
//   - GETs (the log, the registry, the policy, bundles).
//   - Submissions (Submit): a submission of the same statement is
//     idempotent, since the log deduplicates by the statement and answers
//     a duplicate with the bundle of its first index (200), even for an
//     exact replay of a registry event (web/submit_test.go,
//     attestlog/submit_test.go). Each attempt mints a fresh token, so that
//     a registrar token's single-use jti is never sent twice; a retried
//     submission whose first attempt was logged reports created false.
//
// Post, which sends a token its caller minted, is not retried: a
// registrar token could be used only once.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
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
	// Retries is how many times a request safe to repeat is retried; 0
	// means 3, a negative value none.
	Retries int
}

// MaxPause bounds the pause before a retry, the server's Retry-After
// included.
const MaxPause = 10 * time.Second

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

// Accords fetches every accord the log holds.
func (c *Client) Accords(ctx context.Context) ([]attest.AccordInfo, error) {
	var out api.AccordsOf[attest.AccordInfo]
	if err := c.get(ctx, "/api/v1/accords", &out); err != nil {
		return nil, err
	}
	return out.Accords, nil
}

// Accord fetches an accord by id.
func (c *Client) Accord(ctx context.Context, id string) (*attest.AccordInfo, error) {
	accords, err := c.Accords(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range accords {
		if a.ID == id {
			return &a, nil
		}
	}
	return nil, fmt.Errorf("the log has no accord %q", id)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	_, body, err := c.getBody(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: bad answer: %w", path, err)
	}
	return nil
}

// getBody GETs path, with retries.
func (c *Client) getBody(ctx context.Context, path string) (int, []byte, error) {
	return c.retry(ctx, func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	})
}

// Post sends body with the bearer token to path and returns the status
// and body of a 2xx answer; other answers are a *Problem. It is not
// retried (see the package comment).
func (c *Client) Post(ctx context.Context, path, token string, body []byte) (int, []byte, error) {
	req, err := c.newPost(ctx, path, token, body)
	if err != nil {
		return 0, nil, err
	}
	status, data, _, err := c.do(req)
	return status, data, err
}

func (c *Client) newPost(ctx context.Context, path, token string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

// retry makes the request newReq returns, again after a failure worth a
// retry, as the package comment says.
func (c *Client) retry(ctx context.Context, newReq func() (*http.Request, error)) (int, []byte, error) {
	retries := c.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return 0, nil, err
		}
		status, body, pause, err := c.do(req)
		if pause < 0 || attempt >= retries || ctx.Err() != nil {
			return status, body, err
		}
		if pause == 0 {
			pause = 250 * time.Millisecond << attempt
		}
		select {
		case <-ctx.Done():
			return status, nil, fmt.Errorf("%w (retrying after: %w)", ctx.Err(), err)
		case <-time.After(min(pause, MaxPause)):
		}
	}
}

// do makes one request. pause says whether a failure is worth a retry:
// negative if not, else the server's Retry-After (0 if none).
func (c *Client) do(req *http.Request) (status int, body []byte, pause time.Duration, err error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		pause = -1
		if transient(err) {
			pause = 0
		}
		return 0, nil, pause, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		p := &Problem{Status: resp.StatusCode}
		if json.Unmarshal(body, p) != nil || p.Type == "" {
			p.Type, p.Detail = http.StatusText(resp.StatusCode), strings.TrimSpace(string(body))
		}
		pause = -1
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			pause = 0
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
				pause = time.Duration(secs) * time.Second
			}
		}
		return resp.StatusCode, nil, pause, p
	}
	return resp.StatusCode, body, -1, nil
}

// transient reports whether an error of http.Client.Do is the network's
// (a refused or reset connection, a timeout, an answer cut short), not
// the request's own, such as an unsupported URL scheme.
func transient(err error) bool {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	ne := net.Error(nil)
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
