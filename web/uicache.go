package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// pageCache holds the UI pages that depend on nothing but the log's state
// — the home page, the first page of /checkpoints and of /signatories,
// /verify and the accords' pages — rendered once per state and served
// from their bytes (and their gzip encoding, compressed once) until the
// state moves. The state is the published checkpoint, byte for byte (a
// new cosignature moves it too), and the committed tree size, which the
// registry the pages show moves with: without writes a page is rendered
// once per published checkpoint; under writes at most once per committed
// batch, not once per request. Concurrent requests for a page not yet
// rendered at the current state wait for one rendering. A page that fails
// to render is not kept, and pages beyond maxCachedPageBytes at one state
// are rendered per request as before.
type pageCache struct {
	mu    sync.Mutex
	cp    []byte                 // the published checkpoint of the pages held; guarded by mu
	size  uint64                 // the committed tree size of the pages held; guarded by mu
	bytes int                    // of the pages held, raw and gzipped; guarded by mu
	pages map[string]*cachedPage // guarded by mu
	gen   uint64                 // counts the resets of pages; guarded by mu

	renders int // pages rendered into the cache, for the tests; guarded by mu
}

// maxCachedPageBytes bounds the pages held at one state, raw and gzipped.
const maxCachedPageBytes = 16 << 20

// cachedPage is one rendered page; none of its slices may be modified.
type cachedPage struct {
	done chan struct{} // closed once rendered
	body []byte
	gz   []byte // body gzipped; nil if gzip does not make it smaller
	err  error
}

// cached serves the page key, rendered by render once per state of the
// log. render must depend on nothing of the request but what key names.
func (u *ui) cached(c echo.Context, key string, render func(ctx context.Context) ([]byte, error)) error {
	pc := &u.cache
	cp, size := u.s.log.Published().Checkpoint, u.s.log.Latest().Size
	pc.mu.Lock()
	if pc.pages == nil || pc.size != size || !bytes.Equal(pc.cp, cp) {
		pc.cp, pc.size, pc.bytes, pc.pages = cp, size, 0, map[string]*cachedPage{}
		pc.gen++
	}
	p, held := pc.pages[key]
	if !held {
		p = &cachedPage{done: make(chan struct{})}
		pc.pages[key] = p
		pc.renders++
	}
	gen := pc.gen
	pc.mu.Unlock()

	if !held {
		p.body, p.err = render(context.WithoutCancel(c.Request().Context())) // others wait for it
		if p.err == nil {
			p.gz = gzipped(p.body)
		}
		pc.mu.Lock()
		if pc.gen == gen { // else the state moved and the page is gone with it
			if p.err != nil || pc.bytes+len(p.body)+len(p.gz) > maxCachedPageBytes {
				delete(pc.pages, key) // not kept: the next request renders it again
			} else {
				pc.bytes += len(p.body) + len(p.gz)
			}
		}
		pc.mu.Unlock()
		close(p.done)
	} else {
		select {
		case <-p.done:
		case <-c.Request().Context().Done():
			return c.Request().Context().Err()
		}
	}
	if p.err != nil {
		return p.err
	}
	return servePage(c, p)
}

func servePage(c echo.Context, p *cachedPage) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if p.gz != nil && acceptsGzip(c.Request()) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, echo.MIMETextHTMLCharsetUTF8, p.gz)
	}
	return c.HTMLBlob(http.StatusOK, p.body)
}

// gzipped returns b gzipped, or nil if that is not smaller.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	zw := gzip.NewWriter(&buf)
	zw.Write(b) // a bytes.Buffer does not fail
	zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}
