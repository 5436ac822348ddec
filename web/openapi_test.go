package web_test

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/web"
	"github.com/prometheus/client_golang/prometheus"
)

// TestOpenAPIRoutes checks that the OpenAPI document describes exactly the
// routes of a server with every feature on, in both directions.
func TestOpenAPIRoutes(t *testing.T) {
	h := newDemoHarness(t, nil, nil)
	s, err := web.New(web.Config{Attest: h.alog, Gatherer: prometheus.NewRegistry(),
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
	param := regexp.MustCompile(`\{([a-z0-9]+)\}`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		echoPath := param.ReplaceAllString(path, ":$1")
		// The tile paths are described one template per shape
		// (TestOpenAPITilePaths); the server has one route for each kind.
		switch {
		case strings.HasPrefix(path, "/tile/entries/"):
			echoPath = "/tile/entries/*"
		case strings.HasPrefix(path, "/tile/"):
			echoPath = "/tile/*"
		}
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+echoPath] = true
			}
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

// TestOpenAPITilePaths checks the tile templates of the OpenAPI document
// against c2sp.org/tlog-tiles: OpenAPI path parameters cannot hold a
// slash, so each shape of tile path is a template of its own, its
// parameters constrained by patterns. Every valid tile path, from one
// group to the seven of index 2^64-1, full and partial, must match
// exactly one template, and the malformed paths verify.ParseTilePath
// refuses must match none.
func TestOpenAPITilePaths(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Pattern string `json:"pattern"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(web.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	type template struct {
		path string
		re   *regexp.Regexp
	}
	var templates []template
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/tile/") {
			continue
		}
		var refs []struct {
			Ref string `json:"$ref"`
		}
		if err := json.Unmarshal(item["parameters"], &refs); err != nil {
			t.Fatalf("%s: parameters: %v", path, err)
		}
		patterns := map[string]string{}
		for _, r := range refs {
			p, ok := doc.Components.Parameters[strings.TrimPrefix(r.Ref, "#/components/parameters/")]
			if !ok || p.In != "path" || p.Schema.Pattern == "" {
				t.Fatalf("%s: parameter %s: not a path parameter with a pattern", path, r.Ref)
			}
			patterns[p.Name] = strings.TrimSuffix(strings.TrimPrefix(p.Schema.Pattern, "^"), "$")
		}
		re := regexp.MustCompile(`\{([a-z0-9]+)\}|[^{]+`).ReplaceAllStringFunc(path, func(s string) string {
			if name, ok := strings.CutPrefix(s, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				p, ok := patterns[name]
				if !ok {
					t.Fatalf("%s: {%s} has no parameter", path, name)
				}
				delete(patterns, name)
				return "(?:" + p + ")"
			}
			return regexp.QuoteMeta(s)
		})
		if len(patterns) > 0 {
			t.Errorf("%s: parameters not in the path: %v", path, patterns)
		}
		templates = append(templates, template{path, regexp.MustCompile("^" + re + "$")})
	}
	matches := func(path string) []string {
		var m []string
		for _, tp := range templates {
			if tp.re.MatchString("/" + path) {
				m = append(m, tp.path)
			}
		}
		return m
	}
	var valid []string
	for _, level := range []int{verify.EntriesLevel, 0, 1, 9, 63} {
		for _, n := range []uint64{0, 7, 999, 1000, 1234067, 1<<32 + 5, 1<<56 - 1, 1<<64 - 1} {
			for _, w := range []int{1, 9, 10, 99, 100, 255, 256} {
				valid = append(valid, verify.Tile{Level: level, N: n, Width: w}.Path())
			}
		}
	}
	for _, path := range valid {
		if _, err := verify.ParseTilePath(path); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m := matches(path); len(m) != 1 {
			t.Errorf("%s matches %d templates: %v", path, len(m), m)
		}
	}
	for _, path := range []string{"tile/0", "tile/0/", "tile/00/000", "tile/01/000", "tile/64/000", "tile/data/000",
		"tile/0/0", "tile/0/0000", "tile/0/x000/001", "tile/0/1/000", "tile/0/x01/000", "tile/0/001/x000", "tile/0/x001",
		"tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.p/1/2", "tile/0/000p/1",
		"tile/entries/000.p/256", "tile/entries/x000/001", "tile/0/x001/x018/x446/x744/x073/x709/x551/615"} {
		if _, err := verify.ParseTilePath(path); err == nil {
			t.Fatalf("%s: ParseTilePath accepts it", path)
		}
		if m := matches(path); len(m) != 0 {
			t.Errorf("malformed %q matches %v", path, m)
		}
	}
}
