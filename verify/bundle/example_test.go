package bundle

import (
	"bytes"
	"os"
	"testing"
)

// TestExample checks testdata/example.json, the worked example of the
// package comment: it is the bundle of the demo's first pledge (entry 36)
// in the tree of 37 entries, cosigned by one witness, and it verifies.
func TestExample(t *testing.T) {
	l := newTestLog(t)
	want := l.bundle(36, 37, 1, 2).Marshal()
	if os.Getenv("BUNDLE_WRITE_EXAMPLE") != "" {
		if err := os.WriteFile("testdata/example.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("testdata/example.json = %s, want %s", got, want)
	}
	b, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(b, l.policy(1)); err != nil {
		t.Errorf("Verify(example) = %v", err)
	}
}
