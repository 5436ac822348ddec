package cosign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pledgelog/pledgelog/internal/durable"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Witness is one witness of the policy.
type Witness struct {
	Name string          // its name in the policy, which labels its metrics
	Key  verify.Verifier // its cosignature key (type 0x04 or 0x06)
	URL  string          // its submission prefix; required
}

// Config configures a Collector. Log, Witnesses and Met are required;
// every other field has a safe default.
type Config struct {
	// Log is the log, opened with log.Config.Witnessed.
	Log *log.Log
	// Witnesses are the policy's witnesses, in policy order.
	Witnesses []Witness
	// Met reports whether the quorum is met when cosigned[i] says whether
	// Witnesses[i]'s cosignature verified (policy.Policy.Met).
	Met func(cosigned []bool) bool

	// StateFile, if not empty, keeps the last cosigned checkpoint across
	// restarts.
	StateFile string
	// Interval is how often the latest committed checkpoint is offered to
	// the witnesses. Default 1s (pledgelog serve --publish-interval).
	Interval time.Duration
	// MaxStaleness is how long the committed tree may be ahead of the
	// last cosigned checkpoint with no quorum before Ready fails. Default
	// 30s.
	MaxStaleness time.Duration
	// RequestTimeout bounds each add-checkpoint request. Default 10s.
	RequestTimeout time.Duration
	// MaxBackoff caps the wait before a failed witness is asked again.
	// Default 5s.
	MaxBackoff time.Duration
	// Client sends the requests. Default: one with keep-alive.
	Client *http.Client

	// Logger receives operational logs. Nil discards them.
	Logger *slog.Logger
	// Registerer, if not nil, registers the metrics.
	Registerer prometheus.Registerer
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Collector collects cosignatures and publishes cosigned checkpoints.
// Start it, then Run it; Ready is safe for concurrent use.
type Collector struct {
	cfg       Config
	endpoints []*endpoint
	metrics   *metrics
	started   time.Time

	// pubMu serialises publication (the state file and PublishCosigned).
	pubMu sync.Mutex

	// mu guards the fields below, shared by the endpoints' goroutines,
	// the offering loop and Ready.
	mu          sync.Mutex
	candidate   *log.State        // the checkpoint offered, nil before the first
	changed     chan struct{}     // closed when candidate changes
	rounds      map[uint64]*round // by size, for candidates above cosigned
	cosigned    uint64            // the size last published cosigned
	hasCosigned bool
	lastQuorum  time.Time // when a quorum was last reached (Start at first)
	behindSince time.Time // when the tree got ahead of cosigned; zero if it is not
	acked       []uint64  // per endpoint, the size it last cosigned
	ackedKnown  []bool
	behind      []time.Time // per endpoint, when it fell behind; zero if current
	lastErr     []error     // per endpoint, its last failure; nil after a success
}

// round is one candidate and the cosignatures it got, per witness.
type round struct {
	state *log.State
	sigs  []*verify.Signature
}

// New returns a Collector for cfg. It starts nothing.
func New(cfg Config) (*Collector, error) {
	if cfg.Log == nil || cfg.Met == nil {
		return nil, errors.New("cosign: Log and Met are required")
	}
	setDefaults(&cfg)
	c := &Collector{cfg: cfg, changed: make(chan struct{}), rounds: map[uint64]*round{}}
	byURL := map[string]*endpoint{}
	names := make([]string, 0, len(cfg.Witnesses))
	for i, w := range cfg.Witnesses {
		if w.URL == "" {
			return nil, fmt.Errorf("cosign: witness %s has no URL", w.Name)
		}
		e := byURL[w.URL]
		if e == nil {
			e = &endpoint{url: w.URL, name: w.Name}
			byURL[w.URL] = e
			c.endpoints = append(c.endpoints, e)
		}
		e.members = append(e.members, i)
		names = append(names, w.Name)
	}
	n := len(c.endpoints)
	c.acked, c.ackedKnown, c.behind, c.lastErr = make([]uint64, n), make([]bool, n), make([]time.Time, n), make([]error, n)
	m, err := newMetrics(cfg.Registerer, names)
	if err != nil {
		return nil, err
	}
	c.metrics = m
	c.started = cfg.Now()
	c.lastQuorum = c.started
	return c, nil
}

func setDefaults(cfg *Config) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Interval, time.Second)
	def(&cfg.MaxStaleness, 30*time.Second)
	def(&cfg.RequestTimeout, 10*time.Second)
	def(&cfg.MaxBackoff, 5*time.Second)
	if cfg.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4
		cfg.Client = &http.Client{Transport: t}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// Run offers checkpoints to the witnesses and publishes cosigned ones
// until ctx is done. It returns nil then.
func (c *Collector) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for i, e := range c.endpoints {
		g.Go(func() error { c.serve(ctx, i, e); return nil })
	}
	g.Go(func() error {
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		for {
			c.offer(ctx, c.cfg.Log.Latest())
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	return g.Wait()
}

// offer makes s the candidate, if it is newer than what was cosigned, and
// updates the lag metrics.
func (c *Collector) offer(ctx context.Context, s *log.State) {
	c.mu.Lock()
	now := c.cfg.Now()
	c.updateLag(s.Size, now)
	if c.hasCosigned && s.Size <= c.cosigned || c.candidate == s {
		c.mu.Unlock()
		return
	}
	if c.behindSince.IsZero() {
		c.behindSince = now
	}
	c.candidate = s
	if c.rounds[s.Size] == nil {
		c.rounds[s.Size] = &round{state: s, sigs: make([]*verify.Signature, len(c.cfg.Witnesses))}
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	c.maybePublish(ctx, s.Size) // a quorum of none, or of witnesses that already cosigned it
}

// updateLag sets each witness's lag gauges for a tree of size; c.mu held.
func (c *Collector) updateLag(size uint64, now time.Time) {
	for i, e := range c.endpoints {
		lag := size - min(c.acked[i], size)
		if lag == 0 {
			c.behind[i] = time.Time{}
		} else if c.behind[i].IsZero() {
			c.behind[i] = now
		}
		secs := 0.0
		if !c.behind[i].IsZero() {
			secs = now.Sub(c.behind[i]).Seconds()
		}
		for _, m := range e.members {
			name := c.cfg.Witnesses[m].Name
			c.metrics.lagEntries.WithLabelValues(name).Set(float64(lag))
			c.metrics.lagSeconds.WithLabelValues(name).Set(secs)
		}
	}
}

// serve is endpoint i's goroutine: it offers each new candidate to the
// witness, one request at a time, backing off after failures.
func (c *Collector) serve(ctx context.Context, i int, e *endpoint) {
	c.mu.Lock()
	done, hasDone, failures := c.acked[i], c.ackedKnown[i], 0
	c.mu.Unlock()
	for {
		c.mu.Lock()
		s, changed := c.candidate, c.changed
		c.mu.Unlock()
		if s == nil || hasDone && s.Size <= done {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			continue
		}
		sigs, err := c.add(ctx, e, s)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			c.failed(i, e, err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.backoff(failures)):
			}
			continue
		}
		failures, done, hasDone = 0, s.Size, true
		c.record(ctx, i, e, s, sigs)
	}
}

// backoff is the wait after the n-th failure in a row: 100ms doubling up
// to Config.MaxBackoff.
func (c *Collector) backoff(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-1, 16)
	return min(d, c.cfg.MaxBackoff)
}

// failed counts and logs a failed request.
func (c *Collector) failed(i int, e *endpoint, err error) {
	status := failureStatus(err)
	for _, m := range e.members {
		c.metrics.failures.WithLabelValues(c.cfg.Witnesses[m].Name, status).Inc()
	}
	level := slog.LevelWarn
	if status == "fork" || status == "ahead" {
		level = slog.LevelError
	}
	c.cfg.Logger.Log(context.Background(), level, "witness request failed", "witness", e.name, "url", e.url, "status", status, "err", err)
	c.mu.Lock()
	c.lastErr[i] = err
	c.mu.Unlock()
}

// failureStatus is the status label of a failure.
func failureStatus(err error) string {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return fmt.Sprint(se.code)
	case errors.Is(err, ErrFork):
		return "fork"
	case errors.Is(err, ErrWitnessAhead):
		return "ahead"
	case errors.Is(err, errProof):
		return "proof"
	case errors.Is(err, errBadResponse):
		return "bad-response"
	}
	return "network"
}

// errProof marks a failure to make the log's own consistency proof.
var errProof = errors.New("cosign: the log could not prove consistency")

// record keeps the cosignatures endpoint i returned for s and publishes
// s if they complete a quorum.
func (c *Collector) record(ctx context.Context, i int, e *endpoint, s *log.State, sigs []*verify.Signature) {
	now := c.cfg.Now()
	c.mu.Lock()
	c.acked[i], c.ackedKnown[i], c.lastErr[i] = s.Size, true, nil
	if r := c.rounds[s.Size]; r != nil {
		for k, m := range e.members {
			if sigs[k] != nil {
				r.sigs[m] = sigs[k]
			}
		}
	}
	c.updateLag(c.cfg.Log.Latest().Size, now)
	c.mu.Unlock()
	for _, m := range e.members {
		c.metrics.lastSuccess.WithLabelValues(c.cfg.Witnesses[m].Name).Set(float64(now.UnixNano()) / 1e9)
	}
	c.maybePublish(ctx, s.Size)
}

// maybePublish publishes the round of size if its cosignatures meet the
// quorum and it is newer than the last cosigned publication.
func (c *Collector) maybePublish(ctx context.Context, size uint64) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.mu.Lock()
	r := c.rounds[size]
	if r == nil || c.hasCosigned && size <= c.cosigned || !c.cfg.Met(present(r.sigs)) {
		c.mu.Unlock()
		return
	}
	sigs := append([]*verify.Signature(nil), r.sigs...)
	c.mu.Unlock()

	signed, err := cosignedNote(r.state.Checkpoint, sigs)
	if err == nil {
		err = c.publish(ctx, signed)
	}
	if err != nil {
		c.cfg.Logger.Error("publishing a cosigned checkpoint", "size", size, "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cosigned, c.hasCosigned, c.lastQuorum = size, true, c.cfg.Now()
	for k := range c.rounds {
		if k <= size {
			delete(c.rounds, k)
		}
	}
	if size >= c.cfg.Log.Latest().Size {
		c.behindSince = time.Time{}
	}
	c.metrics.cosignedSize.Set(float64(size))
}

// publish writes signed to the state file and publishes it.
func (c *Collector) publish(ctx context.Context, signed []byte) error {
	if c.cfg.StateFile != "" {
		if err := durable.WriteFile(c.cfg.StateFile, signed, 0o644); err != nil {
			return fmt.Errorf("saving the cosigned checkpoint: %w", err)
		}
	}
	return c.cfg.Log.PublishCosigned(ctx, signed)
}

// present says which signatures are there.
func present(sigs []*verify.Signature) []bool {
	ok := make([]bool, len(sigs))
	for i, s := range sigs {
		ok[i] = s != nil
	}
	return ok
}

// cosignedNote appends the cosignatures to the log-signed checkpoint.
func cosignedNote(checkpoint []byte, sigs []*verify.Signature) ([]byte, error) {
	n, err := verify.ParseNote(checkpoint)
	if err != nil {
		return nil, err
	}
	for _, s := range sigs {
		if s != nil {
			n.Sigs = append(n.Sigs, *s)
		}
	}
	return n.Bytes(), nil
}

// Ready returns an error, saying why, if the committed tree has been
// ahead of the last cosigned checkpoint with no quorum for longer than
// Config.MaxStaleness.
func (c *Collector) Ready(context.Context) error {
	latest := c.cfg.Log.Latest().Size
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hasCosigned && latest <= c.cosigned || c.behindSince.IsZero() {
		return nil
	}
	since := c.lastQuorum
	if c.behindSince.After(since) {
		since = c.behindSince
	}
	waited := c.cfg.Now().Sub(since)
	if waited <= c.cfg.MaxStaleness {
		return nil
	}
	var why []string
	for i, e := range c.endpoints {
		switch {
		case c.lastErr[i] != nil:
			why = append(why, fmt.Sprintf("%s: %v", e.name, c.lastErr[i]))
		case c.ackedKnown[i]:
			why = append(why, fmt.Sprintf("%s: cosigned size %d", e.name, c.acked[i]))
		default:
			why = append(why, e.name+": no answer yet")
		}
	}
	cosigned := "none yet"
	if c.hasCosigned {
		cosigned = fmt.Sprintf("size %d", c.cosigned)
	}
	return fmt.Errorf("no witness quorum for %s (last cosigned checkpoint: %s; committed: size %d): %s",
		waited.Round(time.Second), cosigned, latest, strings.Join(why, "; "))
}
