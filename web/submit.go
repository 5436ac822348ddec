package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
)

// postEntry logs one envelope and answers its proof bundle: 201 for a new
// entry, 200 with the first index for a duplicate. The bundle is v2,
// unless the request's Accept asks for v1 only (wantsV1).
func (s *Server) postEntry(c echo.Context) error {
	body, sess, release, err := s.accept(c, attest.MaxSubmissionSize)
	if err != nil {
		return err
	}
	defer release()
	sub, err := attestlog.Canonicalize(body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.alog.Submit(ctx, []attestlog.Submission{sub}, sess.issuer)
	if err != nil {
		return submitError(err, false)
	}
	b, err := s.proofBundle(c.Request(), res[0].State, res[0].Index, verified(sub, res[0].Duplicate), s.log.Latest)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res[0].Duplicate {
		status = http.StatusOK
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	return c.Blob(status, b.MediaType(), b.Marshal())
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

// submitError maps an error of attestlog.Submit: the error about one
// envelope is pointed at it (/entries/<k>) in a batch and unwrapped for a
// single submission; an issuer mismatch is a 403.
func submitError(err error, batch bool) error {
	var ee *log.EntryError
	if !errors.As(err, &ee) {
		return err
	}
	err = ee.Err
	var ie *attestlog.IssuerError
	if errors.As(err, &ie) {
		err = problemf(kindIssuerMismatch, ie.Error())
	}
	if batch {
		return &entryError{ee.Entry, err}
	}
	return err
}
