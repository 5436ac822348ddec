package attest

import (
	"context"
	"sync"
	"testing"
)

// TestConcurrentReaders admits the demo while other goroutines verify
// entries and read every read model; run with -race.
func TestConcurrentReaders(t *testing.T) {
	d, err := NewDemo(testOrigin, []byte("race"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(testOrigin)
	envs := make([]*Envelope, len(d.Entries))
	for i, leaf := range d.Entries {
		if envs[i], err = ParseLeaf(leaf); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				r.Verify(envs[(i+w)%len(envs)]) // errors are expected before admission
				r.Signatories()
				r.Latest("")
				r.Accords()
				r.Key("abb", envs[2].Signatures[0].KeyID)
				r.Version()
			}
		})
	}
	for i, leaf := range d.Entries {
		undo, err := r.Admit(context.Background(), uint64(i), leaf)
		if err != nil {
			t.Fatalf("Admit(%d) = %v", i, err)
		}
		if i%7 == 6 { // a failed commit, then the retry
			undo()
			if undo, err = r.Admit(context.Background(), uint64(i), leaf); err != nil {
				t.Fatalf("Admit(%d) after undo = %v", i, err)
			}
		}
		_ = undo
		r.Index(uint64(i), leaf)
	}
	close(done)
	wg.Wait()
	if got := len(r.Latest("")); got != 136 {
		t.Errorf("Latest has %d cells, want 136", got)
	}
}
