package web

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/log"
)

// health judges whether the published checkpoint is stale. The log does
// not say when it committed or published, so health notes when it first
// saw the published state lag the committed one; the age it computes is
// therefore at most the true age.
type health struct {
	log      *log.Log
	maxStale time.Duration
	now      func() time.Time

	mu     sync.Mutex
	seen   *log.State // the published state last observed
	behind bool       // whether it lagged the committed state then
	since  time.Time  // when it was first observed lagging
}

func newHealth(l *log.Log, maxStale time.Duration) *health {
	return &health{log: l, maxStale: maxStale, now: time.Now}
}

// stale returns an error if committed entries have waited for publication
// longer than maxStale: the published checkpoint is behind the committed
// tree and has not moved for that long.
func (h *health) stale() error {
	published, latest := h.log.Published(), h.log.Latest()
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if published != h.seen || !h.behind {
		h.seen, h.since = published, now
	}
	h.behind = latest.Size > published.Size
	if h.behind && now.Sub(h.since) > h.maxStale {
		return fmt.Errorf("published checkpoint (size %d) has not advanced for %s while size %d is committed",
			published.Size, now.Sub(h.since).Round(time.Second), latest.Size)
	}
	return nil
}

// getHealthz answers 200 while the process serves HTTP.
func (s *Server) getHealthz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	return c.String(http.StatusOK, "ok\n")
}

// sequencing returns an error if the sequencer stopped, refuses appends
// (the storage is nearly full, or it waits for failed storage to answer:
// log.Refusing), or if an entry has waited longer than maxStale to be
// sequenced.
func (h *health) sequencing() error {
	select {
	case <-h.log.Done():
		return errors.New("the sequencer has stopped")
	default:
	}
	if err := h.log.Refusing(); err != nil {
		return fmt.Errorf("appends are refused: %w", err)
	}
	if n, oldest := h.log.Pending(); n > 0 && oldest > h.maxStale {
		return fmt.Errorf("%d entries have waited %s to be sequenced", n, oldest.Round(time.Millisecond))
	}
	return nil
}

// getReadyz answers 200 when the server should get traffic, and 503 with
// the reason when the sequencer stopped, refuses appends or lags, the
// published checkpoint is stale, or Config.Ready fails.
func (s *Server) getReadyz(c echo.Context) error {
	err := s.health.sequencing()
	if err == nil {
		err = s.health.stale()
	}
	if err == nil && s.cfg.Ready != nil {
		err = s.cfg.Ready(c.Request().Context())
	}
	if err != nil {
		return problemf(kindNotReady, err.Error())
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	return c.String(http.StatusOK, "ready\n")
}
