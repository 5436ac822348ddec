// Package client fetches a log's c2sp.org/tlog-tiles resources over HTTP:
// the checkpoint, hash tiles and entry bundles. Nothing it returns is
// trusted: callers verify checkpoints with pinned keys (verify.OpenCheckpoint)
// and tiles against a verified root (verify.Inclusion, verify.TreeRoot).
//
// A Client is safe for concurrent use. It retries a failed request a few
// times (network errors, 429 and 5xx answers) with a growing pause, and
// reports what it could not fetch as an error wrapping ErrFetch: a network
// problem, not evidence against the log.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pledgelog/pledgelog/verify"
)

var (
	// ErrFetch means a resource could not be fetched: the network failed,
	// or the server answered an error other than 404. Retry later; it is
	// not evidence that the log misbehaves.
	ErrFetch = errors.New("fetch failed")

	// ErrNotFound means the server answered 404: the resource does not
	// exist (yet). It also wraps ErrFetch.
	ErrNotFound = errors.New("not found")
)

// Limits on what a response may hold.
const (
	maxCheckpoint = 1 << 16
	maxTile       = verify.TileWidth * verify.HashSize
	maxBundle     = verify.TileWidth * (2 + verify.MaxEntrySize)
	maxJSON       = 1 << 20
)

// A Config says where a log is served and how to reach it.
type Config struct {
	// URL is the log's prefix, such as "https://log.example.org/"; the
	// checkpoint is at URL + "checkpoint".
	URL string
	// HTTPClient makes the requests; nil means NewHTTP(UserAgent,
	// Timeout).
	HTTPClient *http.Client
	// UserAgent names the tool making the requests; empty means
	// Agent("").
	UserAgent string
	// Timeout bounds each request of the client made when HTTPClient is
	// nil; 0 means 30 seconds.
	Timeout time.Duration
	// Retries is how many times a failed request is retried; 0 means 3,
	// and a negative value none.
	Retries int
	// Logger receives retries; nil discards them.
	Logger *slog.Logger
}

// A Client fetches the resources of one log.
type Client struct {
	base    string
	http    *http.Client
	retries int
	logger  *slog.Logger
}

// New returns a Client for the log served at cfg.URL, which must be an
// http or https URL.
func New(cfg Config) (*Client, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("log URL %q: want http:// or https://", cfg.URL)
	}
	c := &Client{base: strings.TrimSuffix(cfg.URL, "/") + "/", http: cfg.HTTPClient, retries: cfg.Retries, logger: cfg.Logger}
	if c.http == nil {
		if cfg.UserAgent == "" {
			cfg.UserAgent = Agent("")
		}
		c.http = NewHTTP(cfg.UserAgent, cfg.Timeout)
	}
	if c.retries == 0 {
		c.retries = 3
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// URL returns the log's prefix, ending in a slash.
func (c *Client) URL() string { return c.base }

// Checkpoint returns the log's latest published signed checkpoint, not
// verified.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "checkpoint", maxCheckpoint)
}

// ReadTile fetches a hash tile, making a Client a verify.TileReader.
// It returns at least t.Width hashes.
func (c *Client) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	if t.Level < 0 {
		return nil, fmt.Errorf("ReadTile of an entry bundle %s", t.Path())
	}
	b, err := c.Get(ctx, t.Path(), maxTile)
	if err != nil {
		return nil, err
	}
	if len(b) < t.Width*verify.HashSize {
		return nil, fmt.Errorf("%s: %d bytes: %w", t.Path(), len(b), verify.ErrShortTile)
	}
	return b[:t.Width*verify.HashSize], nil
}

// Entries fetches entry bundle n of width entries and returns them.
func (c *Client) Entries(ctx context.Context, n uint64, width int) ([][]byte, error) {
	t := verify.Tile{Level: verify.EntriesLevel, N: n, Width: width}
	b, err := c.Get(ctx, t.Path(), maxBundle)
	if err != nil {
		return nil, err
	}
	entries, err := verify.ParseBundle(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Path(), err)
	}
	if len(entries) < width {
		return nil, fmt.Errorf("%s: %d entries: %w", t.Path(), len(entries), verify.ErrMalformedBundle)
	}
	return entries[:width], nil
}

// Get fetches path, relative to the log's prefix, reading at most max
// bytes, with retries.
func (c *Client) Get(ctx context.Context, path string, max int64) ([]byte, error) {
	var err error
	for attempt := 0; ; attempt++ {
		var b []byte
		var retry bool
		b, retry, err = c.get(ctx, path, max)
		if err == nil || !retry || attempt >= c.retries {
			return b, err
		}
		c.logger.Debug("retrying", "path", path, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w: %w", path, ErrFetch, ctx.Err())
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
}

// get makes one request, and says whether a failure is worth a retry.
func (c *Client) get(ctx context.Context, path string, max int64) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w: %w", path, ErrFetch, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("%s: %w: %w", path, ErrFetch, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, false, fmt.Errorf("%s: %w: %w", path, ErrFetch, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return nil, retry, fmt.Errorf("%s: %w: HTTP %s", path, ErrFetch, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w: %w", path, ErrFetch, err)
	}
	if int64(len(b)) > max {
		return nil, false, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, false, nil
}
