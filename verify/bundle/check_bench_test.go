package bundle

import "testing"

// BenchmarkCheck compares Verify with a Checker's Check of a bundle whose
// checkpoint and evidence it has seen, without and with a Verified entry
// (the server's case for an entry the request appended).
func BenchmarkCheck(b *testing.B) {
	l := newTestLog(&testing.T{})
	p := l.registryPolicy()
	bundle, v := l.bundle(36, testSize, 0, 0, 2), l.verified(36)
	b.Run("Verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(bundle, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		v    *Verified
	}{{"Check", nil}, {"CheckVerified", v}} {
		b.Run(tc.name, func(b *testing.B) {
			c := NewChecker(p)
			if _, err := c.Check(l.bundle(37, testSize, 0, 0, 2), nil); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := c.Check(bundle, tc.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
