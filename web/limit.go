package web

import (
	"container/list"
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Limit is a token-bucket rate: Rate requests per second on average, in
// bursts of up to Burst. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// limiters keeps one rate limiter per key (a client IP, a signatory) for
// the most recently seen keys: the least recently used is forgotten when
// there are more than max.
type limiters struct {
	limit Limit
	max   int
	// name and shared, if set, keep the buckets in the state shared by
	// the log's instances, under name (web/shared.go).
	name   string
	shared Shared

	mu    sync.Mutex
	order *list.List               // of string keys, most recent first; guarded by mu
	byKey map[string]*list.Element // guarded by mu
	lims  map[string]*rate.Limiter // guarded by mu
}

func newLimiters(l Limit, max int) *limiters {
	return &limiters{limit: l, max: max, order: list.New(),
		byKey: map[string]*list.Element{}, lims: map[string]*rate.Limiter{}}
}

// allow takes a token for key, or returns a *rateLimited error saying how
// long to wait.
func (ls *limiters) allow(key string, now time.Time) error {
	if ls.limit.Rate <= 0 {
		return nil
	}
	if ls.shared != nil {
		return ls.allowShared(ls.shared, key, now)
	}
	lim := ls.get(key)
	if lim.AllowN(now, 1) {
		return nil
	}
	wait := math.Ceil(1 / ls.limit.Rate)
	return &rateLimited{retryAfter: int(max(wait, 1))}
}

func (ls *limiters) get(key string) *rate.Limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if e, ok := ls.byKey[key]; ok {
		ls.order.MoveToFront(e)
		return ls.lims[key]
	}
	if ls.order.Len() >= ls.max {
		old := ls.order.Remove(ls.order.Back()).(string)
		delete(ls.byKey, old)
		delete(ls.lims, old)
	}
	lim := rate.NewLimiter(rate.Limit(ls.limit.Rate), max(ls.limit.Burst, 1))
	ls.byKey[key] = ls.order.PushFront(key)
	ls.lims[key] = lim
	return lim
}

// limitIP is the middleware of the write routes that runs before anything
// else: one limiter per client (see clientKey and Config.IPLimit).
func (s *Server) limitIP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.ipLimits.allow(clientKey(c.RealIP()), s.now()); err != nil {
			return err
		}
		return next(c)
	}
}

// unlimitedReads are the paths that the read limit spares: monitoring's.
var unlimitedReads = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// limitReads is the pre-routing middleware that limits the GET and HEAD
// requests of each client (Config.ReadLimit). It counts the requests it
// refuses, which never reach the router's metrics.
func (s *Server) limitReads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || unlimitedReads[r.URL.Path] {
			return next(c)
		}
		if err := s.readLimits.allow(clientKey(c.RealIP()), s.now()); err != nil {
			s.metrics.readLimited.Inc()
			return err
		}
		return next(c)
	}
}

// clientKey is what the limits count as one client, given the TCP peer's
// IP: an IPv4 address (also when mapped into IPv6), or the /64 prefix of
// an IPv6 address, since one host or site is commonly given a whole /64.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
