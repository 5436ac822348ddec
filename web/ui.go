package web

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attestlog"
)

// The web UI: server-rendered pages readable without JavaScript, whose
// scripts (static/*.js) verify the log in the browser. docs/ui.md
// describes what the pages show and prove.

//go:embed templates static
var uiFiles embed.FS

// uiCSP is the Content-Security-Policy of every UI page and asset: no
// inline script or style, nothing from elsewhere.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiPaths are the paths the UI serves: exact ones and prefixes.
var (
	uiExact    = []string{"/", "/signatories", "/checkpoints", "/search", "/verify"}
	uiPrefixes = []string{"/accords/", "/signatories/", "/entries/", "/static/"}
)

// apiSegments are the first path segments of the server's own routes
// (server.go): the API, the c2sp.org paths, health, metrics and admin. An
// unknown path under them is the API's problem; any other unknown path
// is the UI's HTML 404 page for a client that accepts HTML (a mistyped
// address in a browser), and a problem for any other client.
var apiSegments = map[string]bool{"api": true, "checkpoint": true, "tile": true, "healthz": true,
	"readyz": true, "metrics": true, "admin": true}

// ui is the web UI: its own router and templates, entered from the
// server's router before routing (see uiMiddleware), so that the API's
// routes and error handling stay those of the API.
type ui struct {
	s     *Server
	echo  *echo.Echo
	pages map[string]*template.Template
	sums  summaryCache
	cache pageCache // the pages rendered once per state (uicache.go)
}

// uiMiddleware returns a pre-routing middleware that serves the UI's GET
// and HEAD requests, or passes requests on when the server has no
// registry (a plain log has no UI).
func (s *Server) uiMiddleware() echo.MiddlewareFunc {
	if s.reg == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	u := newUI(s)
	s.ui = u
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
				!(isUIPath(r.URL.Path) || (!isAPIPath(r.URL.Path) && acceptsHTML(r))) {
				return next(c)
			}
			if r.Method == http.MethodHead { // served as a GET; net/http drops the body
				r = r.Clone(r.Context())
				r.Method = http.MethodGet
			}
			u.echo.ServeHTTP(c.Response(), r)
			return nil
		}
	}
}

func isUIPath(p string) bool {
	for _, e := range uiExact {
		if p == e {
			return true
		}
	}
	for _, pre := range uiPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// isAPIPath says whether p is under one of the server's own routes.
func isAPIPath(p string) bool {
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return apiSegments[seg]
}

// acceptsHTML says whether the request's Accept header names text/html
// with a q-value that is not 0, as a browser's does.
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, rng := range strings.Split(v, ",") {
			params := strings.Split(rng, ";")
			if !strings.EqualFold(strings.TrimSpace(params[0]), "text/html") {
				continue
			}
			q := 1.0
			for _, p := range params[1:] {
				if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "q") {
					q, _ = strconv.ParseFloat(v, 64) // a bad q-value is 0
				}
			}
			if q > 0 {
				return true
			}
		}
	}
	return false
}

func newUI(s *Server) *ui {
	u := &ui{s: s, echo: echo.New(), pages: parsePages()}
	e := u.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = u.handleError
	e.Use(s.metrics.middleware, securityHeaders) // route labels: the UI routes
	static, _ := fs.Sub(uiFiles, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", staticHandler(static))))
	e.GET("/", u.home)
	e.GET("/checkpoints", u.checkpoints)
	e.GET("/accords/:id", u.accord)
	e.GET("/signatories", u.signatories)
	e.GET("/signatories/:id", u.signatory)
	e.GET("/entries/:index", u.entry)
	e.GET("/search", u.search)
	e.GET("/verify", u.verifyYourself)
	return u
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

func staticHandler(static fs.FS) http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set(echo.HeaderCacheControl, "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// parsePages parses each page template with the layout.
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout").Funcs(uiFuncs).ParseFS(uiFiles, "templates/layout.html"))
	names, err := fs.Glob(uiFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name != "layout" {
			pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(uiFiles, n))
		}
	}
	return pages
}

// page is what every page template gets: the log, the demo notices, and
// the page's own data in Data.
type page struct {
	Title  string
	Nav    string
	Origin string
	URL    string // the log's URL prefix: Config.PublicURL, never the Host header
	VKey   string
	VKeys  string // every log key, space-separated (two during a rotation)
	// Witnesses are the policy's witness vkeys, space-separated, and
	// WitnessQuorum the fewest that meet its quorum: the page pins them.
	Witnesses     string
	WitnessQuorum int
	Size          uint64
	Demo          bool     // the log holds demo data: show the banner
	Quote         []string // the accords' demo notices
	Data          any
}

// render answers the page template name with data.
func (u *ui) render(c echo.Context, status int, name, title string, data any) error {
	body, err := u.renderBytes(c.Request().Context(), name, title, data)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.HTMLBlob(status, body)
}

// renderBytes renders the page template name with data.
func (u *ui) renderBytes(ctx context.Context, name, title string, data any) ([]byte, error) {
	p := page{Title: title, Nav: name, Origin: u.s.log.Origin(), URL: u.s.cfg.PublicURL,
		VKey: u.s.log.VerifierKey(), VKeys: strings.Join(u.s.log.VerifierKeys(), " "),
		Witnesses: strings.Join(u.s.cfg.Witnesses, " "), WitnessQuorum: u.s.cfg.WitnessQuorum,
		Size: u.s.log.Published().Size, Data: data}
	sum, err := u.summary(ctx)
	if err != nil {
		return nil, err
	}
	p.Demo, p.Quote = sum.demo, sum.notices
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// summary is what the pages show of the registry on every request: the
// demo notices, and the number of signatories. It is read once per
// committed tree size (the derived rows change only with the tree), so
// that what one signatory puts in its row, such as hundreds of keys, is
// not decoded for every page.
type summary struct {
	size        uint64 // the committed tree size it was read at
	demo        bool
	notices     []string
	signatories int
}

// summaryCache holds the latest summary.
type summaryCache struct {
	mu   sync.Mutex
	last *summary // guarded by mu
}

// summary returns the registry summary of the committed tree.
func (u *ui) summary(ctx context.Context) (*summary, error) {
	size := u.s.log.Latest().Size
	u.sums.mu.Lock()
	last := u.sums.last
	u.sums.mu.Unlock()
	if last != nil && last.size == size {
		return last, nil
	}
	sum := &summary{size: size}
	var err error
	if sum.demo, sum.notices, err = u.demoNotices(ctx); err != nil {
		return nil, err
	}
	if sum.signatories, err = u.s.alog.CountSignatories(ctx); err != nil {
		return nil, err
	}
	u.sums.mu.Lock()
	if u.sums.last == nil || u.sums.last.size <= size {
		u.sums.last = sum
	}
	u.sums.mu.Unlock()
	return sum, nil
}

// demoPrincipals is how many principals, by id, demoNotices reads.
const demoPrincipals = 8

// demoNotices says whether the log holds demo data: an accord or one of
// the first principals with a notice that says "demo". It returns the
// accords' notices, which the banner quotes.
func (u *ui) demoNotices(ctx context.Context) (demo bool, notices []string, err error) {
	mark := func(notice string, quote bool) {
		if strings.Contains(strings.ToLower(notice), "demo") {
			demo = true
			if quote && len(notices) < 3 {
				notices = append(notices, notice)
			}
		}
	}
	accords, err := u.s.alog.Accords(ctx)
	if err != nil {
		return false, nil, err
	}
	for _, d := range accords {
		a, err := d.Decode()
		if err != nil {
			return false, nil, err
		}
		mark(a.Notice, true)
	}
	principals, _, err := u.s.alog.Principals(ctx, attestlog.Page{Limit: demoPrincipals})
	for _, d := range principals {
		p, derr := d.Decode()
		if err = cmp.Or(err, derr); err == nil {
			mark(p.Notice, false)
		}
	}
	return demo, notices, err
}

// handleError answers errors as HTML pages: a request's own problem with
// its detail, anything else as the API's classify says, never internals.
func (u *ui) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	k, detail := classify(err)
	if k.status >= 500 {
		u.s.logger.Error("ui request failed", "path", c.Request().URL.Path, "status", k.status, "err", err)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusNotFound {
		detail = "There is no page here."
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if rerr := u.render(c, k.status, "error", k.title, errorPage{Status: k.status, Detail: detail}); rerr != nil {
		u.s.logger.Debug("rendering an error page", "err", rerr)
		_ = c.String(k.status, k.title)
	}
}

type errorPage struct {
	Status int
	Detail string
}
