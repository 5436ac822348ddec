package attest

import "testing"

// BenchmarkParseLeaf measures the strict parse of a stored pledge leaf, the
// work Admit does per entry in the log's sequencer.
func BenchmarkParseLeaf(b *testing.B) {
	d, err := NewDemo("example.com/bench", []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	leaf := d.Entries[len(d.Entries)-1]
	for b.Loop() {
		if _, err := ParseLeaf(leaf); err != nil {
			b.Fatal(err)
		}
	}
}
