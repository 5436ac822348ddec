package verify_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports checks that verify imports only the standard library,
// transparency-dev/merkle and filippo.io/mldsa (until the standard library
// exports ML-DSA): nothing of ours, and none of the implementations its
// tests compare against.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			std := !strings.Contains(strings.Split(path, "/")[0], ".")
			if !std && !strings.HasPrefix(path, "github.com/transparency-dev/merkle/") && path != "filippo.io/mldsa" {
				t.Errorf("%s imports %s", file, path)
			}
		}
	}
}
