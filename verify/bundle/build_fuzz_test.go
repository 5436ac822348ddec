package bundle

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// FuzzCheck builds a real bundle of the test log with a Builder, changes
// it by the ops that data spells, and asserts that a Checker's Check and
// Verify agree on it after every op: the same Result or the same error,
// so Check never accepts what Verify rejects. The Checker keeps what it
// remembered from the earlier steps, and the bundle is changed in place
// after Check has seen it, so that a memo which is not keyed by exact
// bytes, or not copied, shows.
func FuzzCheck(f *testing.F) {
	l := newTestLog(&testing.T{})
	src := newLogSource(l)
	verified := make([]*Verified, testSize)
	for i := range verified {
		verified[i] = l.verified(uint64(i))
	}
	f.Add(uint8(36), uint8(0), uint8(0), true, []byte{})
	f.Add(uint8(idxNewPledge), uint8(0), uint8(2), true, []byte{15, 0, 0, 3, 1, 0, 15, 0, 0})
	f.Add(uint8(idxAddKey), uint8(100), uint8(1), false, []byte{4, 1, 0, 15, 0, 0, 7, 1, 36})
	f.Add(uint8(36), uint8(0), uint8(1), true, []byte{9, 0, idxEarly, 15, 0, 0, 14, 0, idxEarly})
	f.Add(uint8(2), uint8(0), uint8(0), true, []byte{8, 0, 0, 6, 0, 1, 12, 40, 1})
	f.Fuzz(func(t *testing.T, index, size, quorum uint8, withV bool, ops []byte) {
		n := testSize - uint64(size)%testSize
		i := uint64(index) % n
		witnesses := int(quorum % 3)
		p := l.policy(witnesses)
		if quorum%2 == 1 {
			p.Quorum = nil
		}
		var v *Verified
		if withV {
			v = verified[i]
		}
		bld := NewBuilder(src, verify.NewNodeCache(1<<10), p)
		prover, err := bld.Prover(l.checkpoint(n, witnesses))
		if err != nil {
			t.Fatal(err)
		}
		built, err := prover.Bundle(context.Background(), i, v)
		if err != nil {
			return // an entry Verify rejects (TestBuilder)
		}
		c := bld.check
		b := deepCopy(built)
		agree(t, c, b, v, p, "built")
		for k := 0; k+3 <= len(ops) && k < 3*16; k += 3 {
			op, x, y := ops[k]%16, ops[k+1], ops[k+2]
			v = mutate(l, b, v, verified, n, witnesses, op, x, y)
			if op == 15 || k+3 > len(ops)-3 {
				agree(t, c, b, v, p, fmt.Sprintf("after ops %v", ops[:k+3]))
			}
		}
	})
}

// agree fails unless c.Check(b, v) and Verify(b, p) return the same.
func agree(t *testing.T, c *Checker, b *Bundle, v *Verified, p Policy, what string) {
	t.Helper()
	got, err := c.Check(b, v)
	want, werr := Verify(b, p)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		t.Fatalf("%s: Check = %v, Verify = %v\n%s", what, err, werr, b.Marshal())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: Check = %+v, Verify = %+v", what, got, want)
	}
}

// mutate changes b in place as op says, x and y its operands, and returns
// the Verified to check it with.
func mutate(l *testLog, b *Bundle, v *Verified, verified []*Verified, n uint64, witnesses int, op, x, y byte) *Verified {
	ev := func() *Entry {
		if len(b.Evidence) == 0 {
			return &b.Entry
		}
		return &b.Evidence[int(x)%len(b.Evidence)]
	}
	flipLeaf := func(e *Entry) { e.Leaf[int(y)%len(e.Leaf)] ^= 1 << (x % 8) }
	flipProof := func(e *Entry) {
		if len(e.Proof) > 0 {
			e.Proof[int(y)%len(e.Proof)][y%32] ^= 1 << (x % 8)
		}
	}
	switch op {
	case 0:
		flipLeaf(&b.Entry)
	case 1:
		flipProof(&b.Entry)
	case 2:
		flipLeaf(ev())
	case 3:
		flipProof(ev())
	case 4: // drop an evidence entry
		if len(b.Evidence) > 0 {
			b.Evidence = slices.Delete(b.Evidence, int(x)%len(b.Evidence), int(x)%len(b.Evidence)+1)
		}
	case 5: // repeat one
		if len(b.Evidence) > 0 && len(b.Evidence) < MaxEvidence {
			e := *ev()
			b.Evidence = slices.Insert(b.Evidence, int(y)%(len(b.Evidence)+1), copyEntry(e))
		}
	case 6: // swap two
		if len(b.Evidence) > 1 {
			j, k := int(x)%len(b.Evidence), int(y)%len(b.Evidence)
			b.Evidence[j], b.Evidence[k] = b.Evidence[k], b.Evidence[j]
		}
	case 7: // replace one with another entry of the log, properly proven
		if len(b.Evidence) > 0 {
			*ev() = l.entry(uint64(y)%n, n)
		}
	case 8: // insert an entry of the log, properly proven, in order
		if len(b.Evidence) < MaxEvidence {
			e := l.entry(uint64(y)%n, n)
			k, _ := slices.BinarySearchFunc(b.Evidence, e.Index, func(a Entry, i uint64) int { return cmpUint(a.Index, i) })
			b.Evidence = slices.Insert(b.Evidence, k, e)
		}
	case 9: // replace the entry with another entry of the log, properly proven
		b.Entry = l.entry(uint64(y)%n, n)
	case 10: // another index
		b.Entry.Index += uint64(int8(x))
	case 11: // a shorter or longer proof
		if x%2 == 0 && len(b.Entry.Proof) > 0 {
			b.Entry.Proof = b.Entry.Proof[:len(b.Entry.Proof)-1]
		} else {
			b.Entry.Proof = append(b.Entry.Proof, verify.Hash{y})
		}
	case 12: // another checkpoint of the log
		b.Checkpoint = l.checkpoint(n-uint64(x)%n, int(y)%3)
	case 13: // a checkpoint byte changed
		cp := bytes.Clone(b.Checkpoint)
		cp[int(y)%len(cp)] ^= 1 << (x % 8)
		b.Checkpoint = cp
	case 14: // another entry's Verified, or none
		if x%2 == 0 {
			return nil
		}
		return verified[uint64(y)%n]
	}
	return v
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func copyEntry(e Entry) Entry {
	return Entry{Index: e.Index, Leaf: bytes.Clone(e.Leaf), Proof: slices.Clone(e.Proof)}
}

// deepCopy copies b, so that changing it changes nothing the Builder
// holds.
func deepCopy(b *Bundle) *Bundle {
	c := &Bundle{Entry: copyEntry(b.Entry), Checkpoint: bytes.Clone(b.Checkpoint)}
	for _, e := range b.Evidence {
		c.Evidence = append(c.Evidence, copyEntry(e))
	}
	return c
}
