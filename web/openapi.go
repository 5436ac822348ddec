package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the OpenAPI 3.1 description of the JSON API and the tiled-log
// API, written by hand; a test keeps it in step with the routes.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) getOpenAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI)
}
