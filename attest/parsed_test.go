package attest

import (
	"strconv"
	"testing"
)

// TestParsedCache checks that Admit gets from Verify exactly the envelope
// of the bytes it is given, once, and that the cache stays bounded.
func TestParsedCache(t *testing.T) {
	d, err := NewDemo("example.com/cache", []byte("cache"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseLeaf(d.Entries[40])
	if err != nil {
		t.Fatal(err)
	}
	var c parsedCache
	c.put(a)
	if _, ok := c.take(d.Entries[41]); ok {
		t.Fatal("take(another leaf) hit")
	}
	if env, ok := c.take(d.Entries[40]); !ok || env != a {
		t.Fatalf("take(leaf) = %p, %v; want %p", env, ok, a)
	}
	if _, ok := c.take(d.Entries[40]); ok {
		t.Fatal("take(leaf) hit twice")
	}
	for i := range maxParsed + 1 {
		e := *a
		e.Signatures = []Signature{{KeyID: strconv.Itoa(i), Sig: a.Signatures[0].Sig}}
		c.put(&e)
	}
	if n := len(c.m); n > maxParsed {
		t.Fatalf("cache holds %d envelopes, want at most %d", n, maxParsed)
	}
}
