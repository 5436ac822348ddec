package web

import "github.com/labstack/echo/v4"

// Routes returns the routes of s, for the OpenAPI test.
func Routes(s *Server) []*echo.Route { return s.echo.Routes() }

// PageRenders returns how many pages s rendered into its page cache.
func PageRenders(s *Server) int {
	s.ui.cache.mu.Lock()
	defer s.ui.cache.mu.Unlock()
	return s.ui.cache.renders
}

// OpenAPI returns the OpenAPI document the server serves.
func OpenAPI() []byte { return openAPI }
