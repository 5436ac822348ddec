package log

import "testing"

// TestProofCacheBounded checks that the proof cache keeps at most
// proofCacheSize proofs, forgetting the least recently used first, and
// that a key names one tree: the same numbers with another root miss.
func TestProofCacheBounded(t *testing.T) {
	var c proofCache
	for i := range uint64(proofCacheSize + 100) {
		c.put(&cachedProof{key: proofKey{a: i, b: i + 1}})
		if i == 150 {
			c.get(proofKey{a: 0, b: 1}) // used again: kept
		}
	}
	if n := c.order.Len(); n != proofCacheSize || len(c.byKey) != proofCacheSize {
		t.Fatalf("%d proofs held (%d keys), want %d", n, len(c.byKey), proofCacheSize)
	}
	if _, ok := c.get(proofKey{a: 0, b: 1}); !ok {
		t.Errorf("the proof used again was forgotten")
	}
	if _, ok := c.get(proofKey{a: 1, b: 2}); ok {
		t.Errorf("the least recently used proof is still held")
	}
	if _, ok := c.get(proofKey{a: proofCacheSize + 99, b: proofCacheSize + 100}); !ok {
		t.Errorf("the newest proof was forgotten")
	}
	if _, ok := c.get(proofKey{a: proofCacheSize + 99, b: proofCacheSize + 100, root: [32]byte{1}}); ok {
		t.Errorf("a key with another root hit")
	}
}
