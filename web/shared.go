package web

import (
	"context"
	"math"
	"time"
)

// Several instances of a log behind one load balancer must share what
// makes a write acceptable once: the registrar tokens already used, and
// the rate limits of the write routes. A Shared (the PostgreSQL storage's,
// through the command) holds both for all instances. The read limit stays
// per instance: reads are many, and each instance protects itself.

// UsedTokens records the ids (jti) of used registrar tokens. *JTIStore
// is one, for a single instance.
type UsedTokens interface {
	// Use records jti as used until exp, and reports false if it was
	// already used.
	Use(jti string, exp time.Time) (bool, error)
}

// Shared is state shared by the instances of a log.
type Shared interface {
	// UseOnce records id as used until exp (now being the caller's
	// clock), and reports false if it was already used and has not
	// expired.
	UseOnce(ctx context.Context, id string, exp, now time.Time) (bool, error)
	// Take takes a token from the bucket key, filled at rate per second up
	// to burst, as of now, and reports whether there was one.
	Take(ctx context.Context, key string, rate float64, burst int, now time.Time) (bool, error)
}

// sharedTimeout bounds a call to Shared on a request's path.
const sharedTimeout = 5 * time.Second

// sharedTokens is UsedTokens over a Shared.
type sharedTokens struct {
	sh  Shared
	now func() time.Time
}

func (s sharedTokens) Use(jti string, exp time.Time) (bool, error) {
	if len(jti) > maxJTI {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	return s.sh.UseOnce(ctx, "jti:"+jti, exp, s.now())
}

// allowShared is limiters.allow over a Shared: the bucket of key in the
// namespace of ls. A failure of the shared state lets the request through
// (the write it guards fails anyway if the database does).
func (ls *limiters) allowShared(sh Shared, key string, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	ok, err := sh.Take(ctx, ls.name+":"+key, ls.limit.Rate, max(ls.limit.Burst, 1), now)
	if err != nil || ok {
		return nil
	}
	return &rateLimited{retryAfter: int(max(math.Ceil(1/ls.limit.Rate), 1))}
}
