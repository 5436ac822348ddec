package audit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

const origin = "log.example.org/audit-test"

// testLog is a log in memory; with hooks it is the demo log the server
// would hold, without them any bytes can be logged.
type testLog struct {
	t    *testing.T
	log  *log.Log
	demo *attest.Demo
	reg  *attest.Registry
	key  verify.Verifier
	n    int
}

// opts change the log's configuration before it is created (attestlog's
// hooks, if asked for, are set after them).
func newTestLog(t *testing.T, hooks bool, seed string, opts ...func(*log.Config)) *testLog {
	t.Helper()
	tl := &testLog{t: t, reg: attest.NewRegistry(origin)}
	s, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	lc := log.Config{Origin: origin, Signer: s, Storage: memory.New(), PublishInterval: time.Millisecond,
		DedupKey: func([]byte) []byte { n++; return fmt.Appendf(nil, "%d", n) }}
	for _, o := range opts {
		o(&lc)
	}
	if hooks {
		var al *attestlog.Log
		if al, err = attestlog.Create(context.Background(), lc); err != nil {
			t.Fatal(err)
		}
		tl.log, tl.reg = al.Log(), al.Registry()
	} else if tl.log, err = log.Create(context.Background(), lc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.log.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if tl.key, err = verify.NewVerifier(tl.log.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	if tl.demo, err = attest.NewDemo(origin, []byte(seed)); err != nil {
		t.Fatal(err)
	}
	tl.append(tl.demo.Entries...)
	if !hooks {
		for i, e := range tl.demo.Entries {
			if _, err := tl.reg.Replay(uint64(i), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return tl
}

func (tl *testLog) append(entries ...[]byte) {
	tl.t.Helper()
	if _, err := tl.log.AppendBatch(context.Background(), entries); err != nil {
		tl.t.Fatal(err)
	}
}

// pledge signs a reaffirmation by signatory with key.
func (tl *testLog) pledge(signatory string, key crypto.Signer) []byte {
	tl.t.Helper()
	tl.n++
	accord := tl.reg.Accords()[0]
	p := &attest.Pledge{Origin: origin, Signatory: signatory, Accord: accord.ID, Principle: accord.Principles[0].ID,
		Status: attest.StatusReaffirmed, Statement: fmt.Sprintf("Reaffirmed, demo data %d.", tl.n), Effective: "2026-01-02"}
	s, err := attest.NewSigner(key)
	if err != nil {
		tl.t.Fatal(err)
	}
	leaf, err := attest.Sign(attest.NewPledgeStatement(p, accord.Digest), s)
	if err != nil {
		tl.t.Fatal(err)
	}
	return leaf
}

// checkpoint returns the latest signed checkpoint.
func (tl *testLog) checkpoint() []byte { return tl.log.Latest().Checkpoint }

func (tl *testLog) open(note []byte) (verify.Checkpoint, error) {
	cp, _, err := verify.OpenCheckpoint(note, origin, []verify.Verifier{tl.key}, nil, 0)
	return cp, err
}

// fetcher reads the log's tiles as a server would serve them, with an
// optional fault.
type fetcher struct {
	log  *log.Log
	fail func(t verify.Tile, b []byte) ([]byte, error)
}

func (f *fetcher) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	b, err := f.log.ReadTile(ctx, t)
	if err != nil || f.fail == nil {
		return b, err
	}
	return f.fail(t, bytes.Clone(b))
}

func (f *fetcher) Entries(ctx context.Context, n uint64, width int) ([][]byte, error) {
	b, err := f.ReadTile(ctx, verify.Tile{Level: verify.EntriesLevel, N: n, Width: width})
	if err != nil {
		return nil, err
	}
	return verify.ParseBundle(b)
}

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(nil)
}

// revoke revokes signatory's demo key, superseded, signed by the
// registrar, at the head of its chain in tl.reg (which it advances).
func (tl *testLog) revoke(signatory string) []byte {
	tl.t.Helper()
	info, _ := tl.reg.Signatory(signatory)
	e := &attest.SignatoryEvent{Action: attest.ActionRevoke, Origin: origin, Signatory: signatory, Seq: info.Seq + 1, Prev: info.Head,
		KeyID: info.Keys[0].ID, Reason: attest.ReasonSuperseded}
	st, err := attest.NewStatement(e)
	if err != nil {
		tl.t.Fatal(err)
	}
	s, err := attest.NewSigner(tl.demo.Registrar)
	if err != nil {
		tl.t.Fatal(err)
	}
	leaf, err := attest.Sign(st, s)
	if err != nil {
		tl.t.Fatal(err)
	}
	return leaf
}
