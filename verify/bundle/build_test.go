package bundle

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// logSource is the test log as a Builder reads it: its entries, its
// tiles (x/mod's tlog), and a real registry replayed from its entries
// (the entries that break the registry's rules are left out of it, as a
// log would have refused them).
type logSource struct {
	l   *testLog
	reg *attest.Registry
}

func newLogSource(l *testLog) *logSource {
	reg := attest.NewRegistry(testOrigin)
	for i, e := range l.entries {
		reg.Replay(uint64(i), e) // an error leaves the registry as it was
	}
	return &logSource{l: l, reg: reg}
}

func (s *logSource) Entry(_ context.Context, index uint64) ([]byte, error) {
	if index >= uint64(len(s.l.entries)) {
		return nil, fmt.Errorf("no entry %d", index)
	}
	return s.l.entries[index], nil
}

func (s *logSource) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	return s.l.tiles().ReadTile(ctx, t)
}

func (s *logSource) KeyAdded(owner, keyid string) (uint64, bool) {
	k, err := s.reg.Key(owner, keyid)
	return k.Added, err == nil
}

// registryPolicy is l's policy as a log checks its own bundles: the log
// key and the genesis key, no witnesses.
func (l *testLog) registryPolicy() Policy {
	p := l.policy(0)
	p.Quorum = nil
	return p
}

// sigsValid reports whether every signature of env verifies under the key
// its key id names, among the keys any registry event of l introduces:
// the precondition of a Verified.
func (l *testLog) sigsValid(env *attest.Envelope) bool {
	keys := map[string]attest.PublicKey{}
	for _, e := range l.entries {
		ev, err := attest.ParseLeaf(e)
		if err != nil {
			continue
		}
		if _, _, k := introduced(ev.Statement); k != nil {
			keys[k.ID()] = *k
		}
	}
	for _, s := range env.Signatures {
		k, ok := keys[s.KeyID]
		if !ok || k.Verify(env.PAE(), s.Sig) != nil {
			return false
		}
	}
	return true
}

// verified returns entry index of l as a Verified, if it meets the
// precondition, else nil.
func (l *testLog) verified(index uint64) *Verified {
	env, err := attest.ParseLeaf(l.entries[index])
	if err != nil || !l.sigsValid(env) {
		return nil
	}
	return &Verified{Leaf: l.entries[index], Envelope: env}
}

// TestBuilder checks the bundles a Builder builds from the test log
// against the tests' hand-made ones (proofs from x/mod's tlog, evidence
// named here): the same bundle, with or without a Verified entry, and a
// refusal for the entries that Verify rejects.
func TestBuilder(t *testing.T) {
	l := newTestLog(t)
	b := NewBuilder(newLogSource(l), verify.NewNodeCache(1<<10), l.registryPolicy())
	ctx := context.Background()
	for _, size := range []uint64{testSize, 100, 37} {
		p, err := b.Prover(l.checkpoint(size, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			index    uint64
			evidence []uint64
		}{
			{0, nil},
			{1, []uint64{0}},
			{2, []uint64{0}},
			{36, []uint64{0, 2}},
			{idxAddKey, []uint64{0, 2}},
			{idxNewPledge, []uint64{0, 2, idxAddKey}},
			{idxLateKey, []uint64{0, 2, idxAddKey}},
		} {
			if tc.index >= size {
				continue
			}
			want := l.bundle(tc.index, size, 0, tc.evidence...)
			for _, v := range []*Verified{nil, l.verified(tc.index)} {
				got, err := p.Bundle(ctx, tc.index, v)
				if err != nil {
					t.Fatalf("size %d: Bundle(%d, verified %v) = %v", size, tc.index, v != nil, err)
				}
				if string(got.Marshal()) != string(want.Marshal()) {
					t.Errorf("size %d: Bundle(%d, verified %v) =\n%s\nwant\n%s", size, tc.index, v != nil, got.Marshal(), want.Marshal())
				}
			}
		}
	}
	p, err := b.Prover(l.checkpoint(testSize, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, index := range []uint64{idxForeign, idxEarly, idxBadSig} {
		for _, v := range []*Verified{nil, l.verified(index)} {
			if got, err := p.Bundle(ctx, index, v); err == nil {
				t.Errorf("Bundle(%d, verified %v) = %s, want an error", index, v != nil, got.Marshal())
			}
		}
	}
}

// TestCheckFastPath checks what Check skips for a bundle it has seen
// the evidence and checkpoint of, with a Verified entry: it still fails
// on a wrong proof of the entry or of the evidence, a wrong leaf, a
// checkpoint signed by another key, and an entry signed by a key the
// evidence does not introduce before it; and it returns what Verify
// returns.
func TestCheckFastPath(t *testing.T) {
	l := newTestLog(t)
	policy := l.registryPolicy()
	_, other, _ := ed25519.GenerateKey(nil)
	otherCheckpoint, err := verify.Sign(verify.Checkpoint{Origin: testOrigin, Size: testSize, Root: l.root(testSize)}.Text(),
		verify.NewEd25519Signer(testOrigin, other))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		index uint64
		mod   func(b *Bundle)
		ok    bool
	}{
		{"good", 36, func(*Bundle) {}, true},
		{"entry proof", 36, func(b *Bundle) { b.Entry.Proof[0][0] ^= 1 }, false},
		{"evidence proof", 36, func(b *Bundle) { b.Evidence[1].Proof[0][0] ^= 1 }, false},
		{"evidence leaf", 36, func(b *Bundle) { b.Evidence[1].Leaf = l.entries[3] }, false},
		{"entry leaf", 36, func(b *Bundle) { b.Entry.Leaf = l.entries[37] }, false},
		{"checkpoint key", 36, func(b *Bundle) { b.Checkpoint = otherCheckpoint }, false},
		{"no evidence of the key", 36, func(b *Bundle) { b.Evidence = b.Evidence[:1] }, false},
		// Signed by a valid key, added only after the entry.
		{"key added later", idxEarly, func(*Bundle) {}, false},
		// Signed by company 0's key for company 1.
		{"foreign key", idxForeign, func(*Bundle) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChecker(policy)
			seen := l.bundle(37, testSize, 0, 0, 2) // the same evidence chain and checkpoint
			if _, err := c.Check(seen, l.verified(37)); err != nil {
				t.Fatal(err)
			}
			b := l.bundle(tc.index, testSize, 0, 0, 2)
			tc.mod(b)
			v := l.verified(tc.index)
			if v == nil {
				t.Fatalf("entry %d is not Verified", tc.index)
			}
			got, err := c.Check(b, v)
			if (err == nil) != tc.ok {
				t.Errorf("Check(%s) = %v, want ok %v", tc.name, err, tc.ok)
			}
			want, werr := Verify(b, policy)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Errorf("Check(%s) = %+v, %v; Verify = %+v, %v", tc.name, got, err, want, werr)
			}
		})
	}
}

// TestCheckMemoCopies checks that changing a bundle after Check does not
// change what the Checker remembers.
func TestCheckMemoCopies(t *testing.T) {
	l := newTestLog(t)
	c := NewChecker(l.registryPolicy())
	b := l.bundle(36, testSize, 0, 0, 2)
	if _, err := c.Check(b, nil); err != nil {
		t.Fatal(err)
	}
	b.Evidence[1].Leaf[10] ^= 1
	b.Evidence[1].Proof[0][0] ^= 1
	if _, err := c.Check(b, nil); !errors.Is(err, ErrInclusion) {
		t.Errorf("Check of a bundle changed after a Check = %v, want ErrInclusion", err)
	}
}
