package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
)

const maxAdminBody = 4 << 10

func (s *Server) postBackup(c echo.Context) error {
	if !s.authorized(c.Request()) {
		return problemf(kindUnauthorized, "a valid admin bearer token is required")
	}
	req, err := decodeBackupRequest(c.Request().Body)
	if err != nil {
		return err
	}
	size := s.log.Latest().Size
	s.logger.Info("backup started", "dest", req.Dest, "size", size)
	if err := s.cfg.Backup(c.Request().Context(), req.Dest); errors.Is(err, fs.ErrExist) {
		return problemf(kindConflict, "dest already exists")
	} else if err != nil {
		return err
	}
	s.logger.Info("backup done", "dest", req.Dest)
	c.Response().Header().Set(echo.HeaderCacheControl, cacheNone)
	return c.JSON(http.StatusOK, api.BackupResponse{Dest: req.Dest, Size: size})
}

// authorized reports whether r bears the admin token, comparing digests in
// constant time.
func (s *Server) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256(s.cfg.AdminToken)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// decodeBackupRequest decodes a small JSON body strictly: one object, no
// unknown fields, nothing after it.
func decodeBackupRequest(body io.Reader) (*api.BackupRequest, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxAdminBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAdminBody {
		return nil, problemf(kindBodyTooLarge, "the body is at most 4 KiB")
	}
	var req api.BackupRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if checkMembers(data, "dest") != nil || dec.Decode(&req) != nil || dec.Decode(new(json.RawMessage)) != io.EOF {
		return nil, problemf(kindBadRequest, `the body must be {"dest": "/absolute/path"}`)
	}
	if !filepath.IsAbs(req.Dest) || filepath.Clean(req.Dest) != req.Dest ||
		strings.ContainsFunc(req.Dest, unicode.IsControl) {
		return nil, problemf(kindBadRequest, "dest must be a clean absolute path, without control characters")
	}
	return &req, nil
}
