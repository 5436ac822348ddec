package log_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"golang.org/x/mod/sumdb/note"
)

// TestKeyRotation follows docs/operations.md's rotation: a log signed by
// the old key adds a new one (checkpoints carry both signatures, each
// verifying with x/mod's note package alone), then drops the old one.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	l, oldKey := newLog(t, st)
	appendN(t, l, "before", 3)

	newSigner := ed25519Signer(t, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)))
	overlap := testConfig(st)
	overlap.ExtraSigners = append(overlap.ExtraSigners, newSigner)
	l2, err := log.Open(ctx, overlap)
	if err != nil {
		t.Fatalf("Open with an added key: %v", err)
	}
	keys := l2.VerifierKeys()
	if len(keys) != 2 || keys[0] != oldKey {
		t.Fatalf("VerifierKeys() = %q, want the old key then the new one", keys)
	}
	appendN(t, l2, "overlap", 3)
	cp := l2.Latest().Checkpoint
	for _, k := range keys {
		n, err := note.Open(cp, note.VerifierList(mustVerifier(t, k)))
		if err != nil || len(n.Sigs) != 1 {
			t.Errorf("overlap checkpoint with pinned key %s: %v, %d signatures", k, err, len(n.Sigs))
		}
	}

	after := testConfig(st)
	after.Signer = newSigner
	l3, err := log.Open(ctx, after)
	if err != nil {
		t.Fatalf("Open with the new key alone after the overlap: %v", err)
	}
	appendN(t, l3, "after", 1)
	if _, err := note.Open(l3.Latest().Checkpoint, note.VerifierList(mustVerifier(t, oldKey))); err == nil {
		t.Errorf("checkpoint after the rotation still verifies with the old key")
	}
	if _, err := note.Open(l3.Latest().Checkpoint, note.VerifierList(mustVerifier(t, keys[1]))); err != nil {
		t.Errorf("checkpoint after the rotation: %v", err)
	}

	twice := testConfig(st)
	twice.ExtraSigners = append(twice.ExtraSigners, twice.Signer)
	if _, err := log.Open(ctx, twice); err == nil {
		t.Errorf("Open with one key given twice succeeded")
	}
}

// appendN appends n entries named after prefix with a sequencer that runs
// only for the call.
func appendN(t *testing.T, l *log.Log, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for i := range n {
		if _, err := l.Append(ctx, []byte(prefix+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPublishCosigned checks that a witnessed log publishes only what it is
// given, and only its own committed checkpoints, never going back.
func TestPublishCosigned(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(memory.New())
	cfg.Witnessed, cfg.PublishInterval = true, time.Millisecond
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	first, err := l.Append(ctx, []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, []byte("two")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // twenty publish intervals
	if got := l.Published().Size; got != 0 {
		t.Fatalf("witnessed log published size %d by itself", got)
	}

	w := verify.NewCosigner("witness.example/w", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)), nil)
	cosign := func(signed []byte) []byte {
		n, err := verify.ParseNote(signed)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := w.Sign(n.Text)
		if err != nil {
			t.Fatal(err)
		}
		n.Sigs = append(n.Sigs, verify.Signature{Name: w.Name(), KeyID: w.KeyID(), Sig: sig})
		return n.Bytes()
	}
	latest := cosign(l.Latest().Checkpoint)
	if err := l.PublishCosigned(ctx, latest); err != nil {
		t.Fatalf("PublishCosigned(latest): %v", err)
	}
	if p := l.Published(); p.Size != 2 || !bytes.Equal(p.Checkpoint, latest) {
		t.Fatalf("published %d %q, want size 2 with the cosignature", p.Size, p.Checkpoint)
	}
	if err := l.PublishCosigned(ctx, cosign(first.State.Checkpoint)); !errors.Is(err, log.ErrRegress) {
		t.Errorf("PublishCosigned(smaller) = %v, want ErrRegress", err)
	}

	other := verify.Checkpoint{Origin: cfg.Origin, Size: 2, Root: verify.LeafHash([]byte("x"))}
	forged, err := verify.Sign(other.Text(), verify.NewEd25519Signer(cfg.Origin, testKey))
	if err != nil {
		t.Fatal(err)
	}
	unsigned := cosign(forged)
	if n, _ := verify.ParseNote(unsigned); true {
		n.Sigs = n.Sigs[1:]
		unsigned = n.Bytes()
	}
	for name, bad := range map[string][]byte{
		"another root":     cosign(forged),
		"no log signature": unsigned,
	} {
		if err := l.PublishCosigned(ctx, bad); !errors.Is(err, log.ErrNotCommitted) {
			t.Errorf("PublishCosigned(%s) = %v, want ErrNotCommitted", name, err)
		}
	}
	if p := l.Published(); !bytes.Equal(p.Checkpoint, latest) {
		t.Errorf("a refused checkpoint was published: %q", p.Checkpoint)
	}
}
