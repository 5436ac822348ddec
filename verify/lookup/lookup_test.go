package lookup

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

const origin = "example.org/lookup-test"

var logKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

// fixture is a map of two keys, one revoked, committed to by a signed
// checkpoint of size 10.
type fixture struct {
	t    *testing.T
	m    *attest.Map
	note []byte
	cp   verify.Checkpoint
	v    *Verifier
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	m, err := attest.NewMap(ctx, prefix.NewMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	revoked := uint64(9)
	leaves := []attest.MapLeaf{
		{Label: attest.MapLabel(attest.MapKey, "acme", strings.Repeat("a", 64)), Value: attest.MapKeyValue(3, nil, nil)},
		{Label: attest.MapLabel(attest.MapKey, "acme", strings.Repeat("b", 64)), Value: attest.MapKeyValue(5, &revoked, nil)},
	}
	if err := m.Update(ctx, leaves); err != nil {
		t.Fatal(err)
	}
	root, _ := m.Root(ctx)
	cp := verify.Checkpoint{Origin: origin, Size: 10, Root: verify.Hash{1}, Extensions: []string{attest.MapExtension(root)}}
	signer := verify.NewEd25519Signer(origin, logKey)
	note, err := verify.Sign(cp.Text(), signer)
	if err != nil {
		t.Fatal(err)
	}
	key, err := verify.NewVerifier(verify.Ed25519VerifierKey(origin, logKey.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	open := func(n []byte) (verify.Checkpoint, error) {
		c, _, err := verify.OpenCheckpoint(n, origin, []verify.Verifier{key}, nil, 0)
		return c, err
	}
	return &fixture{t: t, m: m, note: note, cp: cp, v: &Verifier{Open: open}}
}

// answer is the server's honest answer to q.
func (f *fixture) answer(q Query) []byte {
	ctx := context.Background()
	kind, label, err := q.Kind()
	if err != nil {
		f.t.Fatal(err)
	}
	found, proof, err := f.m.Prove(ctx, label)
	if err != nil {
		f.t.Fatal(err)
	}
	root, _ := f.m.Root(ctx)
	a := answer{Checkpoint: string(f.note), Size: 10, MapRoot: root[:], Kind: kind, Label: label[:]}
	if found {
		revoked := uint64(9)
		a.Value = attest.MapKeyValue(3, nil, nil)
		if q.KeyID == strings.Repeat("b", 64) {
			a.Value = attest.MapKeyValue(5, &revoked, nil)
		}
	}
	for _, n := range proof {
		b := n.Label.Bytes()
		a.Proof = append(a.Proof, proofNode{Label: b[:], Bits: n.Label.BitLen(), Hash: n.Hash[:]})
	}
	out, _ := json.Marshal(a)
	return out
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := Query{Signatory: "acme", KeyID: strings.Repeat("b", 64)}
	r, err := f.v.Verify(ctx, b, f.answer(b))
	if err != nil || r.Key == nil || r.Key.Revoked == nil || *r.Key.Revoked != 9 || r.Checkpoint.Size != 10 {
		t.Fatalf("revoked key: %+v, %v", r, err)
	}
	if got := r.Fact(); got != "key "+b.KeyID+" of acme: added at index 5, revoked since 9, proven by a map proof against checkpoint 10" {
		t.Errorf("fact %q", got)
	}
	absent := Query{Signatory: "acme", KeyID: strings.Repeat("c", 64)}
	if r, err := f.v.Verify(ctx, absent, f.answer(absent)); err != nil || r.Present() {
		t.Errorf("absent key: %+v, %v", r, err)
	}
	// The answer for key a, given for key b: the label is not b's.
	a := Query{Signatory: "acme", KeyID: strings.Repeat("a", 64)}
	if _, err := f.v.Verify(ctx, b, f.answer(a)); !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "label") {
		t.Errorf("another key's answer: %v", err)
	}
	// Consistency with the checkpoint seen before: the same size with
	// another root is a split view; another size without tiles fails.
	f.v.Previous = verify.Checkpoint{Origin: origin, Size: 10, Root: verify.Hash{2}}
	if _, err := f.v.Verify(ctx, b, f.answer(b)); !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "split view") {
		t.Errorf("a split view: %v", err)
	}
	f.v.Previous = verify.Checkpoint{Origin: origin, Size: 4, Root: verify.Hash{2}}
	if _, err := f.v.Verify(ctx, b, f.answer(b)); !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "no tiles") {
		t.Errorf("no tiles to prove consistency: %v", err)
	}
	f.v.Previous = f.cp
	if _, err := f.v.Verify(ctx, b, f.answer(b)); err != nil {
		t.Errorf("the same checkpoint as before: %v", err)
	}
}

func TestQueryKind(t *testing.T) {
	k := strings.Repeat("a", 64)
	for _, tc := range []struct {
		q    Query
		kind string
		bad  string
	}{
		{Query{Signatory: "acme"}, KindPrincipal, ""},
		{Query{Signatory: attest.RegistrarID}, KindPrincipal, ""},
		{Query{Signatory: "acme", KeyID: k}, KindKey, ""},
		{Query{Accord: "acc"}, KindAccord, ""},
		{Query{Signatory: "acme", Accord: "acc", Principle: "p"}, KindCell, ""},
		{Query{}, "", "give a signatory"},
		{Query{KeyID: k}, "", "give a signatory"},
		{Query{Signatory: "acme", Accord: "acc"}, "", "give a signatory"},
		{Query{Signatory: "acme", KeyID: k, Accord: "acc", Principle: "p"}, "", "give a signatory"},
		{Query{Signatory: "Acme"}, "", "signatory"},
		{Query{Signatory: "acme", KeyID: "AB"}, "", "keyid"},
		{Query{Accord: "a/b"}, "", "accord"},
	} {
		kind, _, err := tc.q.Kind()
		if kind != tc.kind || (tc.bad == "") != (err == nil) || err != nil && (!errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%+v: %q, %v; want %q %q", tc.q, kind, err, tc.kind, tc.bad)
		}
	}
	if p := (Query{Signatory: "acme", Accord: "a", Principle: "p"}).Path(); p != "api/v1/map?accord=a&principle=p&signatory=acme" {
		t.Errorf("path %q", p)
	}
}
