package pledgelog_test

import (
	"bufio"
	"os"
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
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// A rule is one line of a rule block of docs/architecture.md: a pattern
// and its words.
type rule struct {
	pattern string
	words   []string
}

// rules returns the lines of the fenced block of docs/architecture.md
// whose info string is name.
func rules(t *testing.T, name string) []rule {
	t.Helper()
	f, err := os.Open("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rule
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case line == "```"+name:
			in = true
		case in && line == "```":
			return out
		case in:
			if fs := strings.Fields(line); len(fs) > 0 {
				out = append(out, rule{fs[0], fs[1:]})
			}
		}
	}
	t.Fatalf("docs/architecture.md has no complete %q block", name)
	return nil
}

// matches reports whether the import path pkg matches a pattern of
// docs/architecture.md: "." is the module, "X" the package X of the module,
// "X/..." the packages under X.
func matches(pattern, pkg string) bool {
	if pattern == "." {
		return pkg == module
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return strings.HasPrefix(pkg, module+"/"+dir+"/")
	}
	return pkg == module+"/"+pattern
}

// TestImportRules checks every package's direct imports of the module
// against the "imports" block of docs/architecture.md, and that every
// package is placed there exactly once.
func TestImportRules(t *testing.T) {
	table := rules(t, "imports")
	for _, line := range goList(t, "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "./...") {
		pkg, imports, _ := strings.Cut(line, ":")
		var placed []rule
		for _, r := range table {
			if matches(r.pattern, pkg) {
				placed = append(placed, r)
			}
		}
		if len(placed) != 1 {
			t.Errorf("%s matches %d lines of the imports block of docs/architecture.md, want 1: place it there, with the reason", pkg, len(placed))
			continue
		}
		allowed := placed[0].words
		for _, imp := range strings.Split(imports, ",") {
			if imp == "" || imp != module && !strings.HasPrefix(imp, module+"/") || mayImport(allowed, imp) {
				continue
			}
			t.Errorf("%s imports %s; docs/architecture.md allows it only %v", pkg, strings.TrimPrefix(imp, module+"/"), allowed)
		}
	}
}

func mayImport(allowed []string, imp string) bool {
	for _, a := range allowed {
		if a == "*" || matches(a, imp) {
			return true
		}
	}
	return false
}

// TestOnlyImports checks the "only" block of docs/architecture.md: the
// imports only some packages may make directly.
func TestOnlyImports(t *testing.T) {
	only := map[string][]string{}
	for _, r := range rules(t, "only") {
		only[r.pattern] = r.words
	}
	for _, line := range goList(t, "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "./...") {
		pkg, imports, _ := strings.Cut(line, ":")
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		for _, imp := range strings.Split(imports, ",") {
			who, ok := only[imp]
			if !ok {
				continue
			}
			allowed := false
			for _, w := range who {
				allowed = allowed || rel == w || strings.HasSuffix(w, "/") && strings.HasPrefix(rel, w)
			}
			if !allowed {
				t.Errorf("%s imports %s; docs/architecture.md allows only %v", pkg, imp, who)
			}
		}
	}
}

// TestForbiddenDeps checks the "deps" block of docs/architecture.md: the
// transitive dependencies a package may not have. A word starting with
// "./" is a package of the module (and those under it).
func TestForbiddenDeps(t *testing.T) {
	for _, r := range rules(t, "deps") {
		self := module + "/" + r.pattern
		for _, dep := range goList(t, "-deps", "./"+r.pattern) {
			for _, bad := range r.words {
				prefix := bad
				if rel, ok := strings.CutPrefix(bad, "./"); ok {
					prefix = module + "/" + rel
				}
				if dep != self && (dep == prefix || strings.HasPrefix(dep, prefix+"/") || !strings.HasPrefix(bad, "./") && strings.HasPrefix(dep, prefix)) {
					t.Errorf("%s depends on %s, which docs/architecture.md forbids", r.pattern, dep)
				}
			}
		}
	}
}
