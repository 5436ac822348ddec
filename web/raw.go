package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
)

// NewRaw returns a bare handler of l for load tests that compare the log
// engine with other logs like for like: POST /raw appends the request
// body as one entry, unparsed and unverified, and answers {"index": N}
// once the entry is durable in a signed checkpoint. It has no auth, no
// limits and no proof bundle. pledgelog serve never mounts it; only
// pledgelog bench --raw does, on loopback.
func NewRaw(l *log.Log) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/raw", func(c echo.Context) error {
		body, err := readBody(c.Request(), verify.MaxEntrySize)
		if err != nil {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		res, err := l.Append(c.Request().Context(), body)
		if err != nil {
			return c.NoContent(rawStatus(err))
		}
		return c.JSONBlob(http.StatusOK, []byte(`{"index":`+strconv.FormatUint(res.Index, 10)+`}`))
	})
	return e
}

// rawStatus is the bare status of an Append error; the raw handler never
// says more.
func rawStatus(err error) int {
	switch {
	case errors.Is(err, log.ErrPushback), errors.Is(err, log.ErrStopped),
		errors.Is(err, log.ErrDiskFull), errors.Is(err, log.ErrStorage):
		return http.StatusServiceUnavailable // retry later, as the API's 503s say
	case errors.Is(err, log.ErrEntryTooLarge):
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}
