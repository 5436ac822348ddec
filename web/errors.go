package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// kind is one stable problem type.
type kind struct {
	slug   string
	title  string
	status int
}

// The problem types this server answers with. Their slugs are stable: a
// client may branch on them.
var (
	kindBadTilePath      = kind{"bad-tile-path", "Malformed tile path", http.StatusBadRequest}
	kindBadParameter     = kind{"bad-parameter", "Bad request parameter", http.StatusBadRequest}
	kindBadRequest       = kind{"bad-request", "Bad request", http.StatusBadRequest}
	kindBeyondTree       = kind{"beyond-tree", "Not in the tree yet", http.StatusNotFound}
	kindUnknownTreeSize  = kind{"unknown-tree-size", "No checkpoint for this tree size", http.StatusNotFound}
	kindEntryNotFound    = kind{"entry-not-found", "No entry with this leaf hash", http.StatusNotFound}
	kindRouteNotFound    = kind{"not-found", "No such resource", http.StatusNotFound}
	kindMethodNotAllowed = kind{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed}
	kindNotImplemented   = kind{"not-implemented", "Method not implemented", http.StatusNotImplemented}
	kindBodyTooLarge     = kind{"body-too-large", "Request body too large", http.StatusRequestEntityTooLarge}
	kindEntryTooLarge    = kind{"entry-too-large", "Entry too large", http.StatusRequestEntityTooLarge}
	kindUnauthorized     = kind{"unauthorized", "Unauthorized", http.StatusUnauthorized}
	kindConflict         = kind{"conflict", "Conflict", http.StatusConflict}
	kindPushback         = kind{"pushback", "Too many pending entries", http.StatusServiceUnavailable}
	kindBusy             = kind{"busy", "Server busy", http.StatusServiceUnavailable}
	kindStopped          = kind{"stopped", "Sequencer stopped", http.StatusServiceUnavailable}
	kindDiskFull         = kind{"disk-full", "Storage nearly full", http.StatusServiceUnavailable}
	kindStorage          = kind{"storage-unavailable", "Storage failing", http.StatusServiceUnavailable}
	kindNotReady         = kind{"not-ready", "Not ready", http.StatusServiceUnavailable}
	kindMapUnavailable   = kind{"map-unavailable", "Registry map not at the latest checkpoint", http.StatusServiceUnavailable}
	kindInternal         = kind{"internal", "Internal server error", http.StatusInternalServerError}

	kindUnsupportedMedia  = kind{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType}
	kindRateLimited       = kind{"rate-limited", "Too many requests", http.StatusTooManyRequests}
	kindMalformedEntry    = kind{"malformed-entry", "Malformed attestation", http.StatusBadRequest}
	kindUnknownKey        = kind{"unknown-key", "Unknown signing key", http.StatusForbidden}
	kindRevokedKey        = kind{"revoked-key", "Revoked signing key", http.StatusForbidden}
	kindForeignKey        = kind{"foreign-key", "Key not authorised for this statement", http.StatusForbidden}
	kindBadSignature      = kind{"bad-signature", "Bad signature", http.StatusForbidden}
	kindIssuerMismatch    = kind{"issuer-mismatch", "Statement not authorised by the token's issuer", http.StatusForbidden}
	kindChainHead         = kind{"chain-head", "Not at the registry chain head", http.StatusConflict}
	kindExists            = kind{"exists", "Already exists", http.StatusConflict}
	kindUnknownReference  = kind{"unknown-reference", "Referenced object not found", http.StatusUnprocessableEntity}
	kindSignatoryNotFound = kind{"signatory-not-found", "No such signatory", http.StatusNotFound}
)

// attestKinds maps attest's sentinel errors to their problem kinds.
var attestKinds = []struct {
	err  error
	kind kind
}{
	{attest.ErrMalformed, kindMalformedEntry},
	{attest.ErrUnknownKey, kindUnknownKey},
	{attest.ErrRevokedKey, kindRevokedKey},
	{attest.ErrForeignKey, kindForeignKey},
	{attest.ErrBadSignature, kindBadSignature},
	{attest.ErrChainHead, kindChainHead},
	{attest.ErrExists, kindExists},
	{attest.ErrNotFound, kindUnknownReference},
}

// requestError is an error a handler returns about the request itself: it
// is answered with its kind and detail, which must not hold internals.
type requestError struct {
	kind   kind
	detail string
}

func (e *requestError) Error() string { return e.kind.slug + ": " + e.detail }

func problemf(k kind, detail string) error { return &requestError{k, detail} }

// entryError is the error of entry k of a batch: its pointer is prefixed
// with /entries/<k>.
type entryError struct {
	k   int
	err error
}

func (e *entryError) Error() string { return fmt.Sprintf("entry %d: %v", e.k, e.err) }
func (e *entryError) Unwrap() error { return e.err }

// rateLimited is a 429 with the seconds the client should wait.
type rateLimited struct{ retryAfter int }

func (e *rateLimited) Error() string { return "rate limited" }

// classifyAttest maps an error of attest (Canonicalize, Verify, Admit) to
// its problem kind, detail, pointer and code; ok is false for other errors.
func classifyAttest(err error) (p api.Problem, k kind, ok bool) {
	for _, ak := range attestKinds {
		if errors.Is(err, ak.err) {
			k, ok = ak.kind, true
			break
		}
	}
	if !ok {
		return p, k, false
	}
	var fe *attest.FieldError
	if errors.As(err, &fe) {
		p.Pointer, p.Code, p.Detail = fe.Pointer, fe.Code, fe.Detail
	} else {
		p.Detail = err.Error()
	}
	if k == kindMalformedEntry && p.Code == "too-large" {
		k = kindEntryTooLarge
	}
	var ee *entryError
	if errors.As(err, &ee) {
		p.Pointer = "/entries/" + strconv.Itoa(ee.k) + p.Pointer
	}
	return p, k, true
}

// classify maps an error returned by a handler to its problem kind and a
// detail safe to show. It is the one place where errors become statuses.
func classify(err error) (kind, string) {
	var re *requestError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &re):
		return re.kind, re.detail
	case errors.As(err, new(*rateLimited)):
		return kindRateLimited, "too many requests; retry later"
	case errors.As(err, &he):
		return classifyEcho(he)
	case errors.Is(err, log.ErrCorrupt):
		return kindInternal, "" // whatever else it wraps
	case errors.Is(err, verify.ErrMalformedTilePath):
		return kindBadTilePath, "not a c2sp.org/tlog-tiles tile path"
	case errors.Is(err, log.ErrUnknownSize):
		return kindUnknownTreeSize, "the log has no checkpoint for this tree size"
	case errors.Is(err, log.ErrBeyondSize):
		return kindBeyondTree, "beyond the log's current tree size"
	case errors.Is(err, log.ErrEntryTooLarge):
		return kindEntryTooLarge, "an entry is at most 65535 bytes"
	case errors.Is(err, log.ErrPushback):
		return kindPushback, "too many entries are waiting to be sequenced; retry later"
	case errors.Is(err, log.ErrStopped):
		return kindStopped, "the sequencer is not running"
	case errors.Is(err, log.ErrDiskFull):
		return kindDiskFull, "the log's storage is nearly full and refuses appends; reads still work"
	case errors.Is(err, log.ErrStorage):
		return kindStorage, "the log's storage failed; retry later (a write that got this may or may not be stored, and resubmitting it is safe)"
	}
	return kindInternal, ""
}

// classifyEcho maps echo's own errors (router 404 and 405, body limit).
func classifyEcho(he *echo.HTTPError) (kind, string) {
	switch he.Code {
	case http.StatusNotFound:
		return kindRouteNotFound, "no such resource"
	case http.StatusMethodNotAllowed:
		return kindMethodNotAllowed, "method not allowed on this resource"
	case http.StatusRequestEntityTooLarge:
		return kindBodyTooLarge, "request body too large"
	case http.StatusUnauthorized:
		return kindUnauthorized, "missing or bad credentials"
	}
	if he.Code >= 400 && he.Code < 500 {
		return kind{"bad-request", http.StatusText(he.Code), he.Code}, ""
	}
	return kindInternal, ""
}

// handleError is the echo HTTPErrorHandler: it answers every error as
// problem+json, never cached, and logs what is not the client's fault.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, k, ok := classifyAttest(err)
	if !ok {
		k, p.Detail = classify(err)
	}
	switch {
	case k == kindInternal && errors.Is(err, context.Canceled):
		s.logger.Debug("request canceled", "path", c.Request().URL.Path, "err", err)
	case k.status >= 500 && k != kindNotImplemented: // a 501 is the client's made-up method, not our fault
		s.logger.Error("request failed", "method", c.Request().Method,
			"path", c.Request().URL.Path, "status", k.status, "err", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	switch k {
	case kindPushback, kindNotReady, kindBusy:
		h.Set("Retry-After", strconv.Itoa(1))
	case kindStorage:
		h.Set("Retry-After", strconv.Itoa(5))
	case kindDiskFull, kindStopped:
		h.Set("Retry-After", strconv.Itoa(60))
	case kindRateLimited:
		h.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	case kindUnauthorized:
		h.Set(echo.HeaderWWWAuthenticate, "Bearer")
	}
	if err := writeProblem(c, k, p); err != nil {
		s.logger.Debug("writing problem", "err", err)
	}
}

func retryAfter(err error) int {
	var rl *rateLimited
	if errors.As(err, &rl) && rl.retryAfter > 0 {
		return rl.retryAfter
	}
	return 1
}

func writeProblem(c echo.Context, k kind, p api.Problem) error {
	p.Type, p.Title, p.Status = api.ProblemBase+k.slug, k.title, k.status
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(k.status)
	}
	return c.Blob(k.status, "application/problem+json", append(body, '\n'))
}
