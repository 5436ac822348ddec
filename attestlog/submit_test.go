package attestlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/sigstore/sigstore/pkg/signature"
)

const origin = "example.com/attestlog-test"

// counting counts what one submission costs: dedup keys looked up in
// storage, calls of the log's DedupKey hook (the raw-leaf path), and the
// envelopes the Admit hook was handed.
type counting struct {
	log.Storage
	lookups  atomic.Int64
	hookKeys atomic.Int64
	admitted []*attest.Envelope
}

func (c *counting) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	c.lookups.Add(int64(len(keys)))
	return c.Storage.Dedup(ctx, keys)
}

// countedLog is an attestation log on memory storage whose hooks count.
func countedLog(t *testing.T) (*Log, *counting) {
	t.Helper()
	c := &counting{Storage: memory.New()}
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := log.Config{Origin: origin, Signer: s, Storage: c, PublishInterval: time.Millisecond}
	reg := attest.NewRegistry(origin)
	m := hooks(&cfg, reg)
	key, admit := cfg.DedupKey, cfg.Admit
	cfg.DedupKey = func(e []byte) []byte { c.hookKeys.Add(1); return key(e) }
	cfg.Admit = func(ctx context.Context, index uint64, e log.Entry) (func(), error) {
		env, _ := e.Value.(*attest.Envelope)
		c.admitted = append(c.admitted, env) // the sequencer is one goroutine
		return admit(ctx, index, e)
	}
	l, err := log.Create(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &Log{log: l, reg: reg, mapt: m}, c
}

// TestSubmitCounts counts, for envelopes submitted through Submit, how
// often each is parsed, keyed and looked up: parsed once (by Canonicalize;
// the sequencer's Admit hook gets that very envelope), its dedup key
// computed once (the log's DedupKey hook is never called) and looked up
// in storage once, and a duplicate is not verified again.
func TestSubmitCounts(t *testing.T) {
	ctx := context.Background()
	al, c := countedLog(t)
	subs := demoRegistry(t, al, "counts", Canonicalize)[:40]
	// The registry events went one by one (each is verified against the
	// ones before); now the pledges as one batch.
	res, err := al.Submit(ctx, subs[36:], "")
	if err != nil || len(res) != 4 || res[3].Index != 39 {
		t.Fatalf("batch of 4 pledges = %+v, %v", res, err)
	}
	if n := c.lookups.Load(); n != 40 {
		t.Errorf("%d dedup keys looked up in storage for 40 envelopes, want 40", n)
	}
	if n := c.hookKeys.Load(); n != 0 {
		t.Errorf("the DedupKey hook computed %d keys again", n)
	}
	if len(c.admitted) != 40 {
		t.Fatalf("Admit saw %d entries, want 40", len(c.admitted))
	}
	for i, env := range c.admitted {
		if env != subs[i].Envelope {
			t.Fatalf("Admit of entry %d got another envelope than the one parsed: parsed again", i)
		}
	}

	// The same statement again, its signature spoilt: a duplicate by its
	// dedup key, answered with the first index, never verified (a
	// verification would refuse the signature).
	dup := *subs[38].Envelope
	dup.Signatures = []attest.Signature{{KeyID: dup.Signatures[0].KeyID, Sig: make([]byte, ed25519.SignatureSize)}}
	res, err = al.Submit(ctx, []Submission{{Leaf: dup.Leaf(), Envelope: &dup}}, "")
	if err != nil || !res[0].Duplicate || res[0].Index != 38 {
		t.Fatalf("resubmitted statement = %+v, %v; want a duplicate of 38", res, err)
	}
	if len(c.admitted) != 40 {
		t.Errorf("a duplicate reached Admit")
	}
}

// TestSubmitErrors checks that an error about one envelope of a batch
// names its position, and a statement authorised by another principal
// than the token's is an IssuerError.
func TestSubmitErrors(t *testing.T) {
	ctx := context.Background()
	al, _ := countedLog(t)
	subs := demoRegistry(t, al, "errors", FromLeaf)
	_, err := al.Submit(ctx, subs[36:44], "nobody")
	var ee *log.EntryError
	var ie *IssuerError
	if !errors.As(err, &ee) || ee.Entry != 0 || !errors.As(err, &ie) {
		t.Fatalf("pledges submitted with another principal's token = %v; want an IssuerError for entry 0", err)
	}
	// The demo's pledges run signatory by signatory, four each.
	owner := subs[36].Envelope.Statement.Predicate.(*attest.Pledge).Signatory
	_, err = al.Submit(ctx, subs[36:44], owner)
	if !errors.As(err, &ee) || ee.Entry != 4 || !errors.As(err, &ie) || ie.Token != owner {
		t.Fatalf("a batch whose fifth pledge is another signatory's = %v; want an EntryError for entry 4 wrapping an IssuerError", err)
	}
	if size := al.Log().Latest().Size; size != 36 {
		t.Errorf("size %d after a refused batch, want 36", size)
	}
	bad := *subs[40].Envelope
	bad.Signatures = []attest.Signature{{KeyID: bad.Signatures[0].KeyID, Sig: make([]byte, ed25519.SignatureSize)}}
	_, err = al.Submit(ctx, []Submission{subs[36], subs[37], {Leaf: bad.Leaf(), Envelope: &bad}}, "")
	if !errors.As(err, &ee) || ee.Entry != 2 || !errors.Is(err, attest.ErrBadSignature) {
		t.Fatalf("a batch whose third signature is bad = %v; want an EntryError for entry 2 wrapping ErrBadSignature", err)
	}
}

// demoRegistry parses the demo log of seed with parse and submits its
// registry entries (genesis, the accord, 34 registrations) one by one. It
// returns every entry parsed.
func demoRegistry(t *testing.T, al *Log, seed string, parse func([]byte) (Submission, error)) []Submission {
	t.Helper()
	demo, err := attest.NewDemo(origin, []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]Submission, len(demo.Entries))
	for i, leaf := range demo.Entries {
		if subs[i], err = parse(leaf); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 36 {
		if _, err := al.Submit(context.Background(), subs[i:i+1], ""); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return subs
}
