package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Server. Attest or Log is required; every other
// field has a safe default.
type Config struct {
	// Attest, if not nil, is the attestation log served. It enables the
	// write API (POST /api/v1/entries, /api/v1/entries/batch) and the
	// attestation reads (accords, signatories, search), and makes lookups
	// by leaf hash use its leaf-hash rows. The caller runs its sequencer.
	Attest *attestlog.Log
	// Log is the log served: Attest's, or without Attest a plain log,
	// served read-only. The caller runs its sequencer (Log.Run).
	Log *log.Log
	// Logger receives request errors, server events and, at info level,
	// the access log: a line per request with its method, route, path,
	// status, bytes, duration and client. Nil discards them.
	Logger *slog.Logger

	// Registerer registers the server's HTTP metrics; nil leaves them
	// unregistered. Gatherer is what /metrics serves; nil disables
	// /metrics. Typically both are one *prometheus.Registry, also given to
	// log.Config.Registerer so that /metrics has the sequencer's metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer

	// MaxStaleness is how long committed entries may wait for publication
	// before /readyz fails (see the package documentation). Default 30s.
	MaxStaleness time.Duration
	// Ready, if not nil, is an extra readiness check: /readyz fails with
	// its error's message when it returns one. The message is shown to
	// clients.
	Ready func(ctx context.Context) error

	// AdminToken, if not empty, enables POST /admin/backup for requests
	// bearing it; Backup takes the backup. Both are needed.
	AdminToken []byte
	Backup     func(ctx context.Context, dest string) error

	// Timeouts of the http.Server that Run starts. Defaults: ReadHeader
	// 5s, Read 10s, Write 30s, Idle 30s, Shutdown 10s (the time Run
	// gives in-flight requests once its context is done).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
	// MaxConns caps the connections that Run keeps open at once, and
	// MaxConnsPerClient those of one client (an IPv4 address or IPv6
	// /64, see IPLimit); a connection beyond either is closed when it is
	// accepted. Defaults: 1024 and 64.
	MaxConns, MaxConnsPerClient int
	// MaxHeaderBytes caps the request line and headers together (431
	// beyond). Default 16 KiB.
	MaxHeaderBytes int
	// MaxBodyBytes caps request bodies but those of POST
	// /api/v1/entries/batch. Default 1 MiB.
	MaxBodyBytes int64
	// MaxBatchBytes caps the body of POST /api/v1/entries/batch. Default
	// 8 MiB.
	MaxBatchBytes int64
	// MaxBufferedBytes bounds the memory of the write requests' bodies
	// being read and parsed at once, across all clients. A request takes
	// its share, three times its Content-Length (or the route's cap
	// without one), only once its token is verified; one that cannot have
	// it within 3 s gets 503 busy. Default 64 MiB.
	MaxBufferedBytes int64

	// BundleCacheBytes bounds the entry bundles and hash tiles kept in
	// memory, raw and gzipped, by GET /tile/… and the reads of single
	// entries (see bundleCache). Default 64 MiB.
	BundleCacheBytes int64

	// Policy, if not empty, is the log's witness policy
	// (c2sp.org/tlog-policy), served at /api/v1/policy. Witnesses are the
	// verifier keys of its witnesses and WitnessQuorum the fewest of them
	// that can meet its quorum: the web UI pins them on a first visit.
	Policy        []byte
	Witnesses     []string
	WitnessQuorum int
	// PublicURL is the URL prefix at which clients reach the log, without
	// a trailing slash, e.g. "https://log.example.org/pledges": the pages
	// show it in the commands they give. The request's Host header is
	// never used. Default "https://" + the log's origin.
	PublicURL string

	// JTI remembers used registrar tokens. Default: in memory only (or
	// in Shared).
	JTI UsedTokens
	// Shared, if set, holds the used registrar tokens (unless JTI is set)
	// and the buckets of IPLimit and SignatoryLimit for every instance
	// of the log (web/shared.go).
	Shared Shared
	// IPLimit limits the write requests of each client, before anything
	// else; SignatoryLimit those of each authenticated principal. A client
	// is the TCP peer's IPv4 address or IPv6 /64 prefix (see clientKey):
	// put a proxy in front only with a limit of its own. Defaults: 20/s bursts of 40 per IP, 50/s bursts of
	// 100 per signatory; a negative Rate means no limit.
	IPLimit, SignatoryLimit Limit
	// ReadLimit limits the GET and HEAD requests of each client (the
	// API's reads, tiles and the UI's pages) but /healthz, /readyz and
	// /metrics. Default: 100/s in bursts of 200; a negative Rate means no
	// limit.
	ReadLimit Limit
	// Now is the clock of token validation and limits. Nil means time.Now.
	Now func() time.Time

	// TLS, if not nil, makes Run serve HTTPS (HTTP/1.1) with it instead of
	// plain HTTP: typically a config whose GetCertificate returns a
	// certificate the caller reloads. The connection limits apply before
	// the handshake.
	TLS *tls.Config
}

func (cfg *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.MaxStaleness, 30*time.Second)
	def(&cfg.ReadHeaderTimeout, 5*time.Second)
	def(&cfg.ReadTimeout, 10*time.Second)
	def(&cfg.WriteTimeout, 30*time.Second)
	def(&cfg.IdleTimeout, 30*time.Second)
	def(&cfg.ShutdownTimeout, 10*time.Second)
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1024
	}
	if cfg.MaxConnsPerClient <= 0 {
		cfg.MaxConnsPerClient = 64
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 16 << 10
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 8 << 20
	}
	if cfg.BundleCacheBytes <= 0 {
		cfg.BundleCacheBytes = 64 << 20
	}
	if cfg.MaxBufferedBytes <= 0 {
		cfg.MaxBufferedBytes = 64 << 20
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "https://" + cfg.Log.Origin()
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JTI == nil && cfg.Shared != nil {
		cfg.JTI = sharedTokens{cfg.Shared, cfg.Now}
	}
	if cfg.JTI == nil {
		cfg.JTI = NewJTIStore(cfg.Now)
	}
	defLimit(&cfg.IPLimit, Limit{Rate: 20, Burst: 40})
	defLimit(&cfg.SignatoryLimit, Limit{Rate: 50, Burst: 100})
	defLimit(&cfg.ReadLimit, Limit{Rate: 100, Burst: 200})
}

func defLimit(l *Limit, def Limit) {
	switch {
	case l.Rate == 0:
		*l = def
	case l.Burst <= 0:
		l.Burst = max(int(l.Rate), 1)
	}
}

// maxLimitKeys is how many client IPs or signatories have a limiter.
const maxLimitKeys = 1 << 16

// Server is pledgelog's HTTP server. Its handler is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *log.Log
	logger  *slog.Logger
	echo    *echo.Echo
	metrics *metrics
	health  *health

	alog       *attestlog.Log   // nil: a plain, read-only log
	reg        *attest.Registry // alog's registry
	auth       *authenticator
	ipLimits   *limiters
	sigLimits  *limiters
	readLimits *limiters
	buffers    *bodyBuffer
	bundles    *bundleCache
	now        func() time.Time
	build      bundling // the bundle builder and its node cache (bundle.go)
	ui         *ui      // the web UI (ui.go); nil for a plain log
}

// New returns a server for cfg.Log. It starts nothing: serve Handler with
// your own http.Server, or call Run.
func New(cfg Config) (*Server, error) {
	if cfg.Attest != nil {
		if cfg.Log != nil && cfg.Log != cfg.Attest.Log() {
			return nil, errors.New("web: Config.Log is not Config.Attest's log")
		}
		cfg.Log = cfg.Attest.Log()
	}
	if cfg.Log == nil {
		return nil, errors.New("web: Config.Attest or Config.Log is required")
	}
	cfg.setDefaults()
	if (len(cfg.AdminToken) > 0) != (cfg.Backup != nil) {
		return nil, errors.New("web: AdminToken and Backup go together")
	}
	m, err := newMetrics(cfg.Registerer, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, logger: cfg.Logger, metrics: m,
		health: newHealth(cfg.Log, cfg.MaxStaleness), alog: cfg.Attest, now: cfg.Now,
		ipLimits: newLimiters(cfg.IPLimit, maxLimitKeys), sigLimits: newLimiters(cfg.SignatoryLimit, maxLimitKeys),
		readLimits: newLimiters(cfg.ReadLimit, maxLimitKeys),
		buffers:    newBodyBuffer(cfg.MaxBufferedBytes), bundles: newBundleCache(cfg.BundleCacheBytes)}
	if cfg.Shared != nil {
		s.ipLimits.name, s.ipLimits.shared = "ip", cfg.Shared
		s.sigLimits.name, s.sigLimits.shared = "signatory", cfg.Shared
	}
	s.build.nodes = verify.NewNodeCache(maxNodes)
	if s.alog != nil {
		s.reg = s.alog.Registry()
		s.auth = &authenticator{reg: s.reg, origin: cfg.Log.Origin(), now: cfg.Now, jti: cfg.JTI,
			cache: map[[32]byte]cachedToken{}}
	}
	s.echo = s.routes()
	return s, nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	e.Pre(s.checkMethod)    // RFC 9110: 501 for an unknown method, 405 on pages
	e.Pre(s.limitReads)     // before the UI's pages, which are reads too
	e.Pre(s.uiMiddleware()) // the web UI's pages (ui.go), beside the API's routes
	e.Use(s.metrics.middleware, middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(s.cfg.MaxBodyBytes, 10),
		Skipper: func(c echo.Context) bool { return c.Path() == "/api/v1/entries/batch" },
	}))

	getHead(e, "/checkpoint", s.getCheckpoint)
	getHead(e, "/tile/entries/*", s.getTile)
	getHead(e, "/tile/*", s.getTile)

	api := e.Group("/api/v1")
	getHead(api, "/log", s.getLog)
	getHead(api, "/entries/:index", s.getEntry)
	getHead(api, "/proof/inclusion", s.getInclusion)
	getHead(api, "/proof/consistency", s.getConsistency)
	getHead(api, "/openapi.json", s.getOpenAPI)
	getHead(api, "/policy", s.getPolicy)
	if s.reg != nil {
		getHead(api, "/entries/:index/bundle", s.getEntryBundle)
		getHead(api, "/entries/:index/envelope", s.getEnvelope)
		api.POST("/entries", s.postEntry, s.limitIP)
		api.POST("/entries/batch", s.postBatch, s.limitIP)
		getHead(api, "/accords", s.getAccords)
		getHead(api, "/signatories", s.getSignatories)
		getHead(api, "/signatories/:id", s.getSignatory)
		getHead(api, "/search", s.getSearch)
		getHead(api, "/map", s.getMapLookup)
	}

	getHead(e, "/healthz", s.getHealthz)
	getHead(e, "/readyz", s.getReadyz)
	if s.cfg.Gatherer != nil {
		e.Match([]string{http.MethodGet, http.MethodHead}, "/metrics", s.metricsHandler()) // not for other origins' pages
	}
	if s.cfg.Backup != nil {
		e.POST("/admin/backup", s.postBackup)
	}
	return e
}

// getHead routes GET and HEAD of path to h: RFC 9110 §9.1 wants HEAD
// wherever GET is (net/http drops the body of a HEAD's answer). These are
// the public read path, so its answers, errors included, carry
// Access-Control-Allow-Origin: * and scripts on any origin may read the
// log as a tile client does. They are simple requests (no credentials, no
// custom headers), so no preflight is needed; the writes and /admin do
// not allow other origins.
func getHead(r interface {
	Match([]string, string, echo.HandlerFunc, ...echo.MiddlewareFunc) []*echo.Route
}, path string, h echo.HandlerFunc) {
	r.Match([]string{http.MethodGet, http.MethodHead}, path, h, anyOrigin)
}

// anyOrigin lets scripts of every origin read the answer.
func anyOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderAccessControlAllowOrigin, "*")
		return next(c)
	}
}

// headerSlop is what net/http reads beyond http.Server.MaxHeaderBytes
// (its bufio slack): Run subtracts it, so that Config.MaxHeaderBytes is
// the cap.
const headerSlop = 4096

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Run serves HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections and waits up to Config.ShutdownTimeout
// for in-flight requests. It returns nil after a clean shutdown. It keeps
// the connections within Config.MaxConns and MaxConnsPerClient.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	ln = newLimitedListener(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerClient, s.logger)
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, tlsConfig(s.cfg.TLS))
	}
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    max(s.cfg.MaxHeaderBytes-headerSlop, 1),
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serving: %w", err)
	}
	return nil
}

// tlsConfig is c for Run's listener: HTTP/1.1 only (the header and
// connection limits are written for it), TLS 1.2 at least.
func tlsConfig(c *tls.Config) *tls.Config {
	c = c.Clone()
	c.NextProtos = []string{"http/1.1"}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// checkMethod is the pre-routing middleware that answers, per RFC 9110,
// 501 to a method it does not recognize (not one of RFC 9110's or PATCH:
// see knownMethods), and 405 with Allow to a recognized method on a UI
// page that does not take it (the router does the same for the API's
// routes). It counts what it answers in the metrics (route "unmatched"),
// which it runs before.
func (s *Server) checkMethod(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch {
		case !knownMethods[r.Method]:
			s.metrics.requests.WithLabelValues("unmatched", "other", strconv.Itoa(http.StatusNotImplemented)).Inc()
			return problemf(kindNotImplemented, "the request method is not one this server implements")
		case r.Method != http.MethodGet && r.Method != http.MethodHead && s.reg != nil && isUIPath(r.URL.Path):
			s.metrics.requests.WithLabelValues("unmatched", r.Method, strconv.Itoa(http.StatusMethodNotAllowed)).Inc()
			c.Response().Header().Set(echo.HeaderAllow, "GET, HEAD")
			return problemf(kindMethodNotAllowed, "a page takes GET and HEAD only")
		}
		return next(c)
	}
}
