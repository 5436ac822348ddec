package pledgelog_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/pledgelog/pledgelog"

// goList runs go list with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// TestDeps checks what each package may depend on, transitively: the
// layering of DESIGN.md, and that the log engine is independent of the
// tlog implementations its tests compare it against.
func TestDeps(t *testing.T) {
	forbidden := map[string][]string{
		"./verify": {module + "/", "golang.org/x/mod/sumdb", "filippo.io/torchwood",
			"github.com/transparency-dev/tessera", "github.com/transparency-dev/formats"},
		"./attest": {module + "/"},
		"./log": {module + "/attest", module + "/web", module + "/log/storage",
			"golang.org/x/mod/sumdb/tlog", "filippo.io/torchwood", "github.com/transparency-dev/tessera"},
		"./log/storage/...": {module + "/attest", module + "/web"},
		"./cmd/pledge-verify": {"github.com/labstack/echo", "github.com/jackc/pgx", "github.com/cockroachdb/pebble",
			module + "/web", module + "/log"},
	}
	for pkg, bad := range forbidden {
		self := module + strings.TrimPrefix(strings.TrimSuffix(pkg, "/..."), ".")
		own := func(dep string) bool {
			return dep == self || strings.HasSuffix(pkg, "/...") && strings.HasPrefix(dep, self+"/")
		}
		if pkg == "./cmd/pledge-verify" && len(goList(t, "-e", "-f", "{{if not .Error}}{{.ImportPath}}{{end}}", pkg)) == 0 {
			continue // not written yet
		}
		for _, dep := range goList(t, "-deps", pkg) {
			for _, b := range bad {
				if strings.HasPrefix(dep, b) && !own(dep) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// TestDirectImports checks who may import what directly: echo only in web,
// jwt only where tokens are verified or minted, and never the standard
// library's log package, which ours shadows (we log with log/slog).
func TestDirectImports(t *testing.T) {
	only := map[string][]string{
		"github.com/labstack/echo/v4":  {module + "/web"},
		"github.com/golang-jwt/jwt/v5": {module + "/web", module + "/cmd/pledge"},
		"flag":                         {module + "/cmd/"},
	}
	lines := goList(t, "-e", "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "./...")
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Split(imports, ",") {
			if imp == "log" {
				t.Errorf("%s imports the standard log package; use log/slog", pkg)
			}
			allowed, ok := only[imp]
			if !ok {
				continue
			}
			if !hasPrefixAny(pkg, allowed) {
				t.Errorf("%s imports %s; only %v may", pkg, imp, allowed)
			}
		}
	}
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
