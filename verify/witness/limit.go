package witness

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the limiter's memory: past it, the table of clients
// starts afresh (which forgives, briefly, the clients it held).
const maxClients = 10000

// A limiter limits each client's requests with a token bucket.
type limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newLimiter(r float64, burst int, now func() time.Time) *limiter {
	if r <= 0 {
		r = 10
	}
	if burst <= 0 {
		burst = 20
	}
	return &limiter{rate: rate.Limit(r), burst: burst, now: now, clients: map[string]*rate.Limiter{}}
}

// allow reports whether client may make a request now, and if not how
// long it should wait.
func (l *limiter) allow(client string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.clients[client]
	if lim == nil {
		if len(l.clients) >= maxClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.clients[client] = lim
	}
	now := l.now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}
