package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"runtime"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/bundle"
	"golang.org/x/sync/errgroup"
)

// MaxBatch is the most envelopes of one POST /api/v1/entries/batch.
const MaxBatch = 256

// postEntry logs one envelope and answers its proof bundle: 201 for a new
// entry, 200 with the first index for a duplicate.
func (s *Server) postEntry(c echo.Context) error {
	body, sess, release, err := s.accept(c, attest.MaxSubmissionSize)
	if err != nil {
		return err
	}
	defer release()
	leaf, env, err := attest.Canonicalize(body)
	if err != nil {
		return err
	}
	if err := s.check(c.Request().Context(), env, sess); err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.log.AppendBatch(ctx, [][]byte{leaf})
	if err != nil {
		return err
	}
	p, err := s.newProver(ctx, res[0].State)
	if err != nil {
		return err
	}
	var f *fresh
	if !res[0].Duplicate {
		f = &fresh{leaf, env}
	}
	b, err := p.bundle(res[0].Index, f)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res[0].Duplicate {
		status = http.StatusOK
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	return c.Blob(status, bundle.MediaType, b.Marshal())
}

// accept checks what comes before the envelopes, in this order: the media
// type, the session token (before any of the body is read), the
// principal's rate limit, a share of the server's body buffer
// (Config.MaxBufferedBytes), the body size, and a registrar token's
// binding to the body. It returns the body and a function that gives its
// share of the buffer back, to be called when the request is done.
func (s *Server) accept(c echo.Context, maxBody int64) ([]byte, *session, func(), error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return nil, nil, nil, problemf(kindUnsupportedMedia, "the body must be application/json")
	}
	if r.ContentLength > maxBody {
		return nil, nil, nil, problemf(kindBodyTooLarge, "the body is at most "+strconv.FormatInt(maxBody, 10)+" bytes")
	}
	sess, err := s.auth.authenticate(r)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.sigLimits.allow(sess.issuer, s.now()); err != nil {
		return nil, nil, nil, err
	}
	release, err := s.buffers.acquire(r.Context(), r.ContentLength, maxBody)
	if err != nil {
		return nil, nil, nil, err
	}
	body, err := readBody(r, maxBody)
	if err == nil {
		err = s.auth.bind(sess, body)
	}
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return body, sess, release, nil
}

// readBody reads at most max bytes of r's body: 413 beyond. A body of
// known length is read into a buffer of that size, allocated once.
func readBody(r *http.Request, max int64) ([]byte, error) {
	tooLarge := problemf(kindBodyTooLarge, "the body is at most "+strconv.FormatInt(max, 10)+" bytes")
	if r.ContentLength > max {
		return nil, tooLarge
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, max+1))
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return nil, he // echo's body limit
	case err != nil:
		return nil, problemf(kindBadRequest, "reading the body failed")
	case int64(buf.Len()) > max:
		return nil, tooLarge
	}
	return buf.Bytes(), nil
}

// check verifies env's signatures against the registry and that the
// principal who authorised it is the token's issuer. A statement already
// logged is not checked again: it is answered as a duplicate, with the
// bundle of the stored entry (public anyway), even if its chain head has
// moved or its key was revoked since.
func (s *Server) check(ctx context.Context, env *attest.Envelope, sess *session) error {
	if _, dup, err := s.log.Lookup(ctx, env.DedupKey()); err != nil || dup {
		return err
	}
	v, err := s.reg.Verify(env)
	if err != nil {
		return err
	}
	if v.Issuer != sess.issuer {
		return problemf(kindIssuerMismatch, "the statement is authorised by "+v.Issuer+", the token by "+sess.issuer)
	}
	return nil
}

// checkAll checks the envelopes on every CPU and returns the error of the
// first one that fails, as an *entryError.
func (s *Server) checkAll(ctx context.Context, envs []*attest.Envelope, sess *session) error {
	errs := make([]error, len(envs))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k, env := range envs {
		g.Go(func() error {
			errs[k] = s.check(ctx, env, sess)
			return nil
		})
	}
	g.Wait()
	for k, err := range errs {
		if err != nil {
			return &entryError{k, err}
		}
	}
	return nil
}
