package web_test

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
)

// TestOpenAPIRoutes checks that the OpenAPI document describes exactly the
// routes of a server with every feature on, in both directions.
func TestOpenAPIRoutes(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	s, err := web.New(web.Config{Log: h.log, Registry: h.reg, Gatherer: prometheus.NewRegistry(),
		AdminToken: []byte("x"), Backup: func(context.Context, string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range web.Routes(s) {
		served[r.Method+" "+r.Path] = true
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	_, body := get(t, h.srv, "/api/v1/openapi.json")
	if err := json.Unmarshal(body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %v, version %q", err, doc.OpenAPI)
	}
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		echoPath := param.ReplaceAllString(path, ":$1")
		echoPath = strings.NewReplacer("/tile/:tile", "/tile/*", "/tile/entries/:bundle", "/tile/entries/*").Replace(echoPath)
		for method := range ops {
			documented[strings.ToUpper(method)+" "+echoPath] = true
		}
	}
	for _, r := range slices.Sorted(maps.Keys(served)) {
		// Every GET route takes HEAD too (RFC 9110 §9.3.2), as the
		// document's description says, rather than once per path.
		if path, ok := strings.CutPrefix(r, "HEAD "); ok && documented["GET "+path] {
			continue
		}
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !served[r] {
			t.Errorf("openapi.json has %s, which is not a route", r)
		}
	}
}
