package attestlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/faulty"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// checkpointMapRoot returns the map root that the log's latest signed
// checkpoint commits to.
func checkpointMapRoot(t *testing.T, l *log.Log) (uint64, [32]byte) {
	t.Helper()
	n, err := verify.ParseNote(l.Latest().Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	root, ok, err := attest.ParseMapExtension(c.Extensions)
	if err != nil || !ok {
		t.Fatalf("checkpoint at %d: map extension %v, %v in %q", c.Size, ok, err, c.Extensions)
	}
	return c.Size, root
}

// wantMapRoot checks that the latest checkpoint commits to the map that
// the registry's state builds from scratch.
func wantMapRoot(t *testing.T, al *Log) {
	t.Helper()
	size, got := checkpointMapRoot(t, al.log)
	want, err := attest.MapRoot(context.Background(), al.reg.MapLeaves())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("checkpoint at %d commits to map root %x, the registry's map is %x", size, got, want)
	}
}

// TestMapCommitment: every checkpoint commits to the map of the registry
// its entries build, recomputed here from scratch, from the empty log's
// first checkpoint on, across a batch whose commit failed and was undone
// (whose new leaves must not stay in the map), and after reopening.
func TestMapCommitment(t *testing.T) {
	ctx := context.Background()
	st := faulty.New(memory.New())
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := log.Config{Origin: origin, Signer: s, Storage: st, PublishInterval: time.Millisecond}
	al, err := Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(al *Log) func() {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- al.log.Run(ctx) }()
		return func() { cancel(); <-done }
	}
	stop := run(al)
	defer func() { stop() }()
	wantMapRoot(t, al)

	demo, err := attest.NewDemo(origin, []byte("map"))
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]Submission, len(demo.Entries))
	for i, leaf := range demo.Entries {
		if subs[i], err = FromLeaf(leaf); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 36 {
		if _, err := al.Submit(ctx, subs[i:i+1], ""); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		wantMapRoot(t, al)
	}
	_, before := checkpointMapRoot(t, al.log)

	// The pledges' cells are new leaves; the commit that holds them fails
	// without writing anything, and the registry undoes them.
	st.FailCommits(faulty.Before, 0, false)
	if _, err := al.Submit(ctx, subs[36:60], ""); !errors.Is(err, log.ErrStorage) {
		t.Fatalf("submit with failing commits = %v, want ErrStorage", err)
	}
	st.Heal()
	if _, err := al.Submit(ctx, subs[60:61], ""); err != nil {
		t.Fatal(err)
	}
	wantMapRoot(t, al)
	if _, after := checkpointMapRoot(t, al.log); after == before {
		t.Fatal("a new pledge did not change the map root")
	}
	last := len(subs) - 1
	if _, err := al.Submit(ctx, subs[36:last], ""); err != nil {
		t.Fatal(err)
	}
	wantMapRoot(t, al)

	// Reopened, the log builds its map from the registry it loads, at
	// its first commit.
	stop()
	al, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = run(al)
	// Before any commit, lookups are answered from the map built at Open.
	label := attest.MapLabel(attest.MapPrincipal, subs[35].Envelope.Statement.Predicate.(*attest.SignatoryEvent).Signatory)
	if got, err := al.MapLookup(ctx, label); err != nil || got.Value == nil {
		t.Fatalf("lookup after reopening = %+v, %v; want the signatory's leaf", got, err)
	}
	if _, err := al.Submit(ctx, subs[last:], ""); err != nil {
		t.Fatal(err)
	}
	wantMapRoot(t, al)
}

// TestMapLookup proves every leaf of the demo's map, and a label that is
// not in it, against the checkpoint each lookup returns; a changed value
// or proof node does not verify; after reopening, with no commit since,
// lookups are answered at once.
func TestMapLookup(t *testing.T) {
	ctx := context.Background()
	al, _ := readLog(t, "lookup")
	check := func(al *Log) {
		t.Helper()
		leaves := al.reg.MapLeaves()
		absent := attest.MapLabel(attest.MapPrincipal, "nobody")
		for i, l := range append(leaves, attest.MapLeaf{Label: absent}) {
			got, err := al.MapLookup(ctx, l.Label)
			if err != nil {
				t.Fatal(err)
			}
			n, err := verify.ParseNote(got.Checkpoint)
			if err != nil {
				t.Fatal(err)
			}
			c, err := verify.ParseCheckpoint(n.Text)
			if err != nil {
				t.Fatal(err)
			}
			root, ok, err := attest.ParseMapExtension(c.Extensions)
			if err != nil || !ok || root != got.Root {
				t.Fatalf("lookup's checkpoint commits to %x (%v, %v), lookup says %x", root, ok, err, got.Root)
			}
			if !bytes.Equal(got.Value, l.Value) {
				t.Fatalf("leaf %d: value %x, registry's %x", i, got.Value, l.Value)
			}
			if err := attest.VerifyMapProof(root, l.Label, got.Value, got.Proof); err != nil {
				t.Fatalf("leaf %d (value %x): %v", i, got.Value, err)
			}
			if got.Value != nil {
				bad := bytes.Clone(got.Value)
				bad[len(bad)-1] ^= 1
				if attest.VerifyMapProof(root, l.Label, bad, got.Proof) == nil {
					t.Fatalf("leaf %d: a changed value verifies", i)
				}
				if attest.VerifyMapProof(root, l.Label, nil, got.Proof) == nil {
					t.Fatalf("leaf %d: its absence verifies", i)
				}
			}
			p := append(attest.MapProof(nil), got.Proof...)
			p[0].Hash[0] ^= 1
			if attest.VerifyMapProof(root, l.Label, got.Value, p) == nil {
				t.Fatalf("leaf %d: a changed proof verifies", i)
			}
		}
	}
	check(al)
}
