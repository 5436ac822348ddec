package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
)

// TestReadAccord: accord add reads the repository's accord data file as
// the accord the demo logs (attest.TechAccord), the example accord with
// its "_comment" left out, and refuses a field given twice, an unknown
// field, and data after the object.
func TestReadAccord(t *testing.T) {
	a, err := readAccord("../../attest/tech-accord-2018.json")
	want, _ := attest.TechAccord("")
	if err != nil || !reflect.DeepEqual(a, want) {
		t.Errorf("readAccord(attest/tech-accord-2018.json) = %+v, %v; want %+v", a, err, want)
	}
	ex, err := readAccord("../../docs/examples/accord.json")
	if err != nil || ex.ID != "example-open-source-accord-2026" || len(ex.Principles) != 3 {
		t.Errorf("readAccord(docs/examples/accord.json) = %+v, %v", ex, err)
	}
	dir := t.TempDir()
	for body, want := range map[string]string{
		`{"id":"x","_c":1,"_c":2}`:                `field "_c" given twice`,
		`{"id":"x","colour":"red"}`:               `unknown field "colour"`,
		`{"id":"x","summary":"s","colour":"red"}`: `unknown field "summary"`,
		`{"id":"x"} {}`:                           "data after the JSON object",
	} {
		f := filepath.Join(dir, "a.json")
		os.WriteFile(f, []byte(body), 0o644)
		if _, err := readAccord(f); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f) {
			t.Errorf("readAccord(%s) = %v, want an error naming the file and %q", body, err, want)
		}
	}
}
