package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/verify"
)

func (s *Server) getLog(c echo.Context) error {
	p := s.log.Published()
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, api.LogInfo{
		Origin: s.log.Origin(), VerifierKey: s.log.VerifierKey(), VerifierKeys: s.log.VerifierKeys(),
		Size: p.Size, Root: p.Root, Checkpoint: string(p.Checkpoint),
	})
}

// getEntry serves an entry of the committed tree. Entries are immutable,
// and so is the answer: it is encoded once per entry and kept with the
// entry's bundle in the bundle cache (but with echo's ?pretty).
func (s *Server) getEntry(c echo.Context) error {
	index, b, k, err := s.entryParam(c)
	if err != nil {
		return err
	}
	if _, pretty := c.QueryParams()["pretty"]; pretty {
		entry := b.entries[k]
		return c.JSON(http.StatusOK, api.Entry{Index: index, Entry: entry, LeafHash: verify.LeafHash(entry)})
	}
	body, err := s.bundles.answer(b, k, index)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}

// getEnvelope serves an attestation log's entry as what it is, the
// canonical DSSE envelope JSON, byte for byte: the statement is its
// payload, in base64 as DSSE has it, but not in base64 a second time as
// in /api/v1/entries/{index}, which any log's entry may be.
func (s *Server) getEnvelope(c echo.Context) error {
	_, b, k, err := s.entryParam(c)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, b.entries[k])
}

// entryParam returns the entry the index parameter names, as entry k of
// bundle b, and marks the answer immutable, as an entry is.
func (s *Server) entryParam(c echo.Context) (index uint64, b *cachedBundle, k int, err error) {
	if index, err = parseNumber("index", c.Param("index")); err != nil {
		return 0, nil, 0, err
	}
	if b, k, err = s.entryBundle(c.Request().Context(), index); err != nil {
		return 0, nil, 0, err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheImmutable)
	return index, b, k, nil
}

// maxNumber is the largest index or size accepted: 2^63-1.
const maxNumber = 1<<63 - 1

// parseNumber parses a decimal index or tree size, from 0 to 2^63-1.
func parseNumber(name, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxNumber {
		return 0, problemf(kindBadParameter, name+" must be a decimal integer from 0 to 2^63-1")
	}
	return n, nil
}

// queryNumber parses the optional query parameter name; ok is false when
// it is absent.
func queryNumber(c echo.Context, name string) (n uint64, ok bool, err error) {
	v, present := c.QueryParams()[name]
	if !present {
		return 0, false, nil
	}
	if len(v) != 1 {
		return 0, false, problemf(kindBadParameter, name+" given more than once")
	}
	n, err = parseNumber(name, v[0])
	return n, err == nil, err
}
