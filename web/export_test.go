package web

import "github.com/labstack/echo/v4"

// Routes returns the routes of s, for the OpenAPI test.
func Routes(s *Server) []*echo.Route { return s.echo.Routes() }
