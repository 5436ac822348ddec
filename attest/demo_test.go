package attest

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

const testOrigin = "log.example.org/tech-accord"

// admitAll verifies and admits entries from index 0, failing the test on
// any error, and returns the rows of each entry.
func admitAll(t testing.TB, r *Registry, entries [][]byte) [][]Row {
	t.Helper()
	var rows [][]Row
	for i, leaf := range entries {
		env, err := ParseLeaf(leaf)
		if err != nil {
			t.Fatalf("ParseLeaf(entry %d) = %v", i, err)
		}
		if _, err := r.Verify(env); err != nil {
			t.Fatalf("Verify(entry %d) = %v", i, err)
		}
		if _, err := r.Admit(context.Background(), uint64(i), leaf); err != nil {
			t.Fatalf("Admit(entry %d) = %v", i, err)
		}
		rows = append(rows, r.Index(uint64(i), leaf))
	}
	return rows
}

func TestDemo(t *testing.T) {
	d, err := NewDemo(testOrigin, []byte("seed"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Entries) != 172 || len(d.Keys) != 34 {
		t.Fatalf("NewDemo: %d entries, %d keys; want 172, 34", len(d.Entries), len(d.Keys))
	}
	again, _ := NewDemo(testOrigin, []byte("seed"))
	other, _ := NewDemo(testOrigin, []byte("other seed"))
	for i := range d.Entries {
		if !bytes.Equal(d.Entries[i], again.Entries[i]) {
			t.Fatalf("NewDemo is not reproducible at entry %d", i)
		}
	}
	if bytes.Equal(d.Entries[0], other.Entries[0]) {
		t.Errorf("NewDemo ignores its seed")
	}
	r := NewRegistry(testOrigin)
	admitAll(t, r, d.Entries)
	if got := len(r.Latest("")); got != 136 {
		t.Errorf("Latest has %d cells, want 136", got)
	}
	for i, leaf := range d.Entries[2:] {
		env, _ := ParseLeaf(leaf)
		if !strings.Contains(string(env.Payload), "Demo data") {
			t.Errorf("entry %d does not say it is demo data", i+2)
		}
	}
}
