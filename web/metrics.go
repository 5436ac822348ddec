package web

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/verify/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, labelled by route template
// (e.g. "/api/v1/entries/:index"), never by raw path, and by the request
// method only if it is one of RFC 9110's (any other is "other"), so that
// no request can add a series beyond a fixed set.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// readLimited counts the reads refused by the read limit, before
	// routing.
	readLimited prometheus.Counter
	// build is pledgelog_build_info: 1, labelled with the build.
	build *prometheus.GaugeVec
	// access receives the access log: a line per request at info level.
	access *slog.Logger
}

func newMetrics(r prometheus.Registerer, access *slog.Logger) (*metrics, error) {
	m := &metrics{access: access,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pledgelog_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pledgelog_http_request_duration_seconds",
			Help:    "HTTP request latency by route template.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route"}),
		readLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pledgelog_http_read_limited_total",
			Help: "GET and HEAD requests refused (429) by the per-client read limit.",
		}),
		build: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pledgelog_build_info",
			Help: "Always 1; the labels name the server's build: its module version and Go version.",
		}, []string{"version", "goversion"}),
	}
	m.build.WithLabelValues(client.Version(), runtime.Version()).Set(1)
	if r == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.readLimited, m.build} {
		if err := r.Register(c); err != nil {
			return nil, errors.Join(errors.New("web: registering metrics"), err)
		}
	}
	return m, nil
}

// middleware counts, times and logs each request. It answers errors
// itself (via the error handler) so that it sees their final status.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		code := strconv.Itoa(c.Response().Status)
		m.requests.WithLabelValues(route, methodLabel(c.Request().Method), code).Inc()
		elapsed := time.Since(start)
		m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		if m.access.Enabled(c.Request().Context(), slog.LevelInfo) {
			m.logAccess(c, route, elapsed)
		}
		return nil
	}
}

// logAccess writes the access log's line for the request c answered:
// the raw path is quoted by the handler, never trusted as a key, and the
// route template says which handler answered.
func (m *metrics) logAccess(c echo.Context, route string, elapsed time.Duration) {
	r := c.Request()
	m.access.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.EscapedPath()),
		slog.Int("status", c.Response().Status),
		slog.Int64("bytes", c.Response().Size),
		slog.Duration("duration", elapsed),
		slog.String("client", c.RealIP()))
}

// metricsHandler serves Config.Gatherer in the Prometheus exposition
// format.
func (s *Server) metricsHandler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// knownMethods are the methods of RFC 9110, section 9, and PATCH (RFC
// 5789): the only method labels of the metrics.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true,
	http.MethodTrace: true, http.MethodPatch: true,
}

// methodLabel is the metrics label of method m: m if it is known, else
// "other".
func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}
