package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"

	"filippo.io/torchwood/prefix"
)

// naiveMapRoot computes the root of the map of leaves from the tree's
// definition (docs/formats.md), sharing no code with torchwood: a
// recursive split of the sorted labels on their first differing bit.
func naiveMapRoot(leaves []MapLeaf) [32]byte {
	h := func(b ...[]byte) [32]byte { return sha256.Sum256(bytes.Join(b, nil)) }
	node := func(bitLen uint32, label [32]byte, value [32]byte) [32]byte {
		var l [36]byte
		binary.BigEndian.PutUint32(l[:], bitLen)
		copy(l[4:], label[:])
		lh := h(l[:])
		return h(value[:], lh[:])
	}
	bit := func(l [32]byte, i uint32) byte { return l[i/8] >> (7 - i%8) & 1 }
	prefixOf := func(l [32]byte, n uint32) [32]byte {
		var p [32]byte
		copy(p[:], l[:n/8])
		if n%8 != 0 {
			p[n/8] = l[n/8] & byte(0xff<<(8-n%8))
		}
		return p
	}
	var sub func(ls []MapLeaf) [32]byte
	sub = func(ls []MapLeaf) [32]byte {
		if len(ls) == 1 {
			return node(256, ls[0].Label, MapLeafValue(ls[0].Label, ls[0].Value))
		}
		first, last := ls[0].Label, ls[len(ls)-1].Label // sorted: their common prefix is everyone's
		n := uint32(0)
		for n < 256 && bit(first, n) == bit(last, n) {
			n++
		}
		split, _ := slices.BinarySearchFunc(ls, 1, func(l MapLeaf, _ int) int { return int(bit(l.Label, n)) - 1 })
		l, r := sub(ls[:split]), sub(ls[split:])
		return node(n, prefixOf(first, n), h(l[:], r[:]))
	}
	empty := h([]byte{0})
	var ones [32]byte
	for i := range ones {
		ones[i] = 1
	}
	emptyNode := node(0, ones, node(0, ones, empty))
	if len(leaves) == 0 {
		return node(0, [32]byte{}, empty)
	}
	split, _ := slices.BinarySearchFunc(leaves, 1, func(l MapLeaf, _ int) int { return int(l.Label[0]>>7) - 1 })
	left, right := emptyNode, emptyNode
	if split > 0 {
		left = sub(leaves[:split])
	}
	if split < len(leaves) {
		right = sub(leaves[split:])
	}
	return node(0, [32]byte{}, h(left[:], right[:]))
}

// modelMap lists the leaves of the map the model's entries make, by a
// scan of every entry for each question; revocation indexes, which the
// model only knows as a yes or no, come from r's read model (checked
// against the model's).
func modelMap(t *testing.T, r *Registry, m *model, g *gen) []MapLeaf {
	t.Helper()
	var out []MapLeaf
	for _, id := range append([]string{RegistrarID}, g.sigs...) {
		seq, head, ok := m.head(id)
		if !ok {
			continue
		}
		var registered uint64
		keys := 0
		for _, e := range m.ents {
			if e.st.Signatory() != id || e.addedKey() == "" {
				continue
			}
			if keys == 0 {
				registered = e.index
			}
			keys++
		}
		var hd [32]byte
		hex.Decode(hd[:], []byte(head))
		out = append(out, MapLeaf{MapLabel(MapPrincipal, id), MapPrincipalValue(registered, seq, hd, keys)})
	}
	for id := range g.byID {
		owner := m.owner(id)
		if owner == "" {
			continue
		}
		a, _ := m.added(id)
		ki, err := r.Key(owner, id)
		if err != nil || (ki.Revoked != nil) != m.revoked(id) {
			t.Fatalf("Key(%s) revoked %v, %v; model %v", id[:8], ki.Revoked, err, m.revoked(id))
		}
		var void *uint64
		if v, ok := m.voidFrom(id); ok {
			void = &v
		}
		out = append(out, MapLeaf{MapLabel(MapKey, owner, id), MapKeyValue(a.index, ki.Revoked, void)})
	}
	cells := map[[3]string]bool{}
	for _, e := range m.ents {
		switch p := e.st.Predicate.(type) {
		case *Accord:
			d, _ := PredicateDigest(p)
			var dd [32]byte
			hex.Decode(dd[:], []byte(d))
			out = append(out, MapLeaf{MapLabel(MapAccord, p.ID), MapAccordValue(e.index, dd)})
		case *Pledge:
			cells[[3]string{p.Signatory, p.Accord, p.Principle}] = true
		}
	}
	latest := map[[3]string]LatestPledge{}
	for _, lp := range m.latest() {
		latest[[3]string{lp.Signatory, lp.Accord, lp.Principle}] = lp
	}
	for c := range cells {
		v := MapCellValue(MapNone, "")
		if lp, ok := latest[c]; ok {
			v = MapCellValue(lp.Index, lp.Status)
		}
		out = append(out, MapLeaf{MapLabel(MapCell, c[0], c[1], c[2]), v})
	}
	sortLeaves(out)
	return out
}

// absentLabels are labels of things the model does not have: unused keys
// of the pool, unregistered signatories, accords not defined, cells
// without a pledge, and labels of no kind.
func absentLabels(m *model, g *gen, present []MapLeaf) [][32]byte {
	var cands [][32]byte
	for id := range g.byID {
		for _, s := range append([]string{RegistrarID}, g.sigs...) {
			cands = append(cands, MapLabel(MapKey, s, id))
		}
	}
	for _, s := range append([]string{RegistrarID, "nobody"}, g.sigs...) {
		cands = append(cands, MapLabel(MapPrincipal, s))
		for a := range g.accord {
			cands = append(cands, MapLabel(MapAccord, a), MapLabel(MapCell, s, a, "p1"), MapLabel(MapCell, s, a, "p2"), MapLabel(MapCell, s, a, "p9"))
		}
	}
	for i := range 8 {
		cands = append(cands, sha256.Sum256([]byte{byte(i)}))
	}
	var out [][32]byte
	for _, l := range cands {
		if !slices.ContainsFunc(present, func(p MapLeaf) bool { return p.Label == l }) {
			out = append(out, l)
		}
	}
	return out
}

// TestMapAgainstModel runs the registry's random, often adversarial
// histories (batches of which a fifth are undone) and checks, after each
// batch, that the map the registry keeps up to date through MapChanges
// has exactly the leaves the model lists and the root that the naive
// construction computes from them; that every leaf has a membership
// proof and every absent label a non-membership proof; and that a
// tampered value, proof or root, or a proof of the other kind, is
// rejected.
func TestMapAgainstModel(t *testing.T) {
	seeds, steps := 8, 150
	if testing.Short() {
		seeds, steps = 3, 120
	}
	ctx := context.Background()
	for _, kind := range registryKinds {
		for seed := range seeds {
			t.Run(fmt.Sprint(kind.name, "/", seed), func(t *testing.T) {
				var mp *Map
				batches := 0
				runModel(t, modelRun{seed: uint64(seed) + 100, steps: steps,
					registry: func() *Registry {
						r := kind.new(t)
						if mp == nil {
							r.TrackMap()
						}
						return r
					},
					after: func(r *Registry, m *model, g *gen) {
						batches++
						if mp == nil {
							var err error
							if mp, err = NewMap(ctx, prefix.NewMemoryStorage()); err != nil {
								t.Fatal(err)
							}
						}
						if err := mp.Update(ctx, r.MapChanges()); err != nil {
							t.Fatal(err)
						}
						checkMap(t, ctx, mp, r, modelMap(t, r, m, g), absentLabels(m, g, r.MapLeaves()))
					}})
				if batches == 0 {
					t.Fatal("no batch checked")
				}
			})
		}
	}
}

func checkMap(t *testing.T, ctx context.Context, mp *Map, r *Registry, want []MapLeaf, absent [][32]byte) {
	t.Helper()
	root, err := mp.Root(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := r.MapLeaves()
	if !slices.EqualFunc(all, want, func(a, b MapLeaf) bool { return a.Label == b.Label && bytes.Equal(a.Value, b.Value) }) {
		t.Fatalf("MapLeaves (%d) differ from the model's (%d):\n%x\n%x", len(all), len(want), all, want)
	}
	if naive := naiveMapRoot(want); root != naive {
		t.Fatalf("incremental map root %x, naive root of the model's leaves %x", root, naive)
	}
	if full, err := MapRoot(ctx, all); err != nil || full != root {
		t.Fatalf("MapRoot of MapLeaves = %x, %v; incremental %x", full, err, root)
	}
	bad := root
	bad[3] ^= 1
	for _, l := range want {
		found, proof, err := mp.Prove(ctx, l.Label)
		if err != nil || !found {
			t.Fatalf("Prove(%x) = %v, %v", l.Label[:4], found, err)
		}
		if err := VerifyMapProof(root, l.Label, l.Value, proof); err != nil {
			t.Fatalf("membership proof of %x: %v", l.Label[:4], err)
		}
		if !naiveVerifyMember(sha256.Sum256, root, l.Label, MapLeafValue(l.Label, l.Value), proof) {
			t.Fatalf("the naive verifier refuses the membership proof of %x", l.Label[:4])
		}
		if VerifyMapProof(root, l.Label, nil, proof) == nil {
			t.Fatalf("membership proof of %x passes as non-membership", l.Label[:4])
		}
		if VerifyMapProof(bad, l.Label, l.Value, proof) == nil {
			t.Fatalf("membership proof of %x verifies under a wrong root", l.Label[:4])
		}
		v := slices.Clone(l.Value)
		v[len(v)-1] ^= 1
		if VerifyMapProof(root, l.Label, v, proof) == nil {
			t.Fatalf("membership proof of %x verifies with a tampered value", l.Label[:4])
		}
		if len(proof) > 0 {
			p := slices.Clone(proof)
			i := len(p) / 2
			p[i].Hash[0] ^= 0x80
			if VerifyMapProof(root, l.Label, l.Value, p) == nil {
				t.Fatalf("tampered membership proof of %x verifies", l.Label[:4])
			}
			if VerifyMapProof(root, l.Label, l.Value, proof[1:]) == nil {
				t.Fatalf("truncated membership proof of %x verifies", l.Label[:4])
			}
		}
	}
	for _, l := range absent {
		found, proof, err := mp.Prove(ctx, l)
		if err != nil || found {
			t.Fatalf("Prove(absent %x) = %v, %v", l[:4], found, err)
		}
		if err := VerifyMapProof(root, l, nil, proof); err != nil {
			t.Fatalf("non-membership proof of %x: %v", l[:4], err)
		}
		if VerifyMapProof(bad, l, nil, proof) == nil {
			t.Fatalf("non-membership proof of %x verifies under a wrong root", l[:4])
		}
		if VerifyMapProof(root, l, MapCellValue(1, StatusCommitted), proof) == nil {
			t.Fatalf("non-membership proof of %x passes as membership", l[:4])
		}
		if len(proof) > 1 {
			p := slices.Clone(proof)
			p[len(p)-1].Hash[5] ^= 1
			if VerifyMapProof(root, l, nil, p) == nil {
				t.Fatalf("tampered non-membership proof of %x verifies", l[:4])
			}
		}
	}
	// A present label's own proof of absence is refused, and so is the
	// proof of a present neighbour passed off as one.
	for _, l := range want {
		_, proof, _ := mp.Prove(ctx, l.Label)
		if VerifyMapProof(root, l.Label, nil, proof) == nil {
			t.Fatalf("present %x proven absent", l.Label[:4])
		}
	}
}

// TestNaiveMapRootShapes checks the naive construction itself on maps
// whose shape is known: no leaf, one on either side of the root, two
// sharing a long prefix (labels chosen, not hashed), so that a wrong
// split or prefix in either construction shows.
func TestNaiveMapRootShapes(t *testing.T) {
	ctx := context.Background()
	lab := func(b ...byte) (l [32]byte) { copy(l[:], b); return l }
	cases := [][]MapLeaf{
		nil,
		{{lab(0x00), []byte("a")}},
		{{lab(0x80), []byte("a")}},
		{{lab(0x00), []byte("a")}, {lab(0x01), []byte("b")}},
		{{lab(0x00, 0, 0, 7), []byte("a")}, {lab(0x00, 0, 0, 8), []byte("b")}, {lab(0xff), []byte("c")}},
		{{lab(0x40), nil}, {lab(0x41), nil}, {lab(0x60), nil}, {lab(0xc0), nil}, {lab(0xc0, 1), nil}},
	}
	for i, ls := range cases {
		got, err := MapRoot(ctx, ls)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveMapRoot(ls); got != want {
			t.Errorf("case %d: MapRoot %x, naive %x", i, got, want)
		}
	}
	// The empty map's root, written out: H(H(0x00) || H(0^36)).
	z := sha256.Sum256(make([]byte, 36))
	e := sha256.Sum256([]byte{0})
	if want := sha256.Sum256(append(e[:], z[:]...)); naiveMapRoot(nil) != want {
		t.Errorf("empty root %x, want %x", naiveMapRoot(nil), want)
	}
}

func TestParseMapValues(t *testing.T) {
	seven, nine := uint64(7), uint64(9)
	head := [32]byte{1, 2, 3}
	p, err := ParseMapPrincipalValue(MapPrincipalValue(3, 5, head, 2))
	if err != nil || p != (MapPrincipalState{Registered: 3, Seq: 5, Head: head, Keys: 2}) {
		t.Errorf("principal: %+v, %v", p, err)
	}
	for _, c := range []struct{ revoked, void *uint64 }{{nil, nil}, {&seven, nil}, {&seven, &nine}} {
		k, err := ParseMapKeyValue(MapKeyValue(4, c.revoked, c.void))
		if err != nil || k.Added != 4 || !equalPtr(k.Revoked, c.revoked) || !equalPtr(k.VoidFrom, c.void) {
			t.Errorf("key %v %v: %+v, %v", c.revoked, c.void, k, err)
		}
	}
	a, err := ParseMapAccordValue(MapAccordValue(1, head))
	if err != nil || a != (MapAccordState{Index: 1, Digest: head}) {
		t.Errorf("accord: %+v, %v", a, err)
	}
	for _, st := range statuses {
		c, err := ParseMapCellValue(MapCellValue(12, st))
		if err != nil || c.Index == nil || *c.Index != 12 || c.Status != st {
			t.Errorf("cell %s: %+v, %v", st, c, err)
		}
	}
	if c, err := ParseMapCellValue(MapCellValue(MapNone, "")); err != nil || c.Index != nil || c.Status != "" {
		t.Errorf("void cell: %+v, %v", c, err)
	}
	bad := map[string]func() error{
		"principal short":  func() error { _, err := ParseMapPrincipalValue(MapPrincipalValue(3, 5, head, 2)[:52]); return err },
		"principal as key": func() error { _, err := ParseMapKeyValue(MapPrincipalValue(3, 5, head, 2)); return err },
		"key without added": func() error {
			_, err := ParseMapKeyValue(MapKeyValue(MapNone, nil, nil))
			return err
		},
		"accord kind": func() error {
			b := MapAccordValue(1, head)
			b[0] = MapCell
			_, err := ParseMapAccordValue(b)
			return err
		},
		"cell code without index": func() error {
			b := MapCellValue(MapNone, "")
			b[9] = 1
			_, err := ParseMapCellValue(b)
			return err
		},
		"cell code out of range": func() error {
			b := MapCellValue(12, StatusCommitted)
			b[9] = byte(len(statuses) + 1)
			_, err := ParseMapCellValue(b)
			return err
		},
		"cell index without code": func() error {
			b := MapCellValue(12, StatusCommitted)
			b[9] = 0
			_, err := ParseMapCellValue(b)
			return err
		},
	}
	for name, f := range bad {
		if err := f(); !errors.Is(err, ErrMapValue) {
			t.Errorf("%s: %v, want ErrMapValue", name, err)
		}
	}
}

func equalPtr(a, b *uint64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// TestMapTrackerPastSizes: MapTracker.Prove answers at the latest size
// and at the MapVersions before it, each leaf with its value and root as
// of that size (the leaves MapLeaves listed then), and ErrMapBusy beyond.
func TestMapTrackerPastSizes(t *testing.T) {
	ctx := context.Background()
	kind := registryKinds[0]
	var tr *MapTracker
	type past struct {
		size   uint64
		root   [32]byte
		leaves []MapLeaf
	}
	var pasts []past
	size := uint64(0)
	runModel(t, modelRun{seed: 7, steps: 120,
		registry: func() *Registry {
			r := kind.new(t)
			if tr == nil { // not the registry checkRestart makes at the end
				tr = NewMapTracker(r)
			}
			return r
		},
		after: func(r *Registry, m *model, g *gen) {
			size++
			root, err := tr.Root(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			leaves := r.MapLeaves()
			if full, err := MapRoot(ctx, leaves); err != nil || full != root {
				t.Fatalf("tracker root %x, MapRoot of MapLeaves %x, %v", root, full, err)
			}
			pasts = append(pasts, past{size, root, leaves})
		}})
	if len(pasts) < 3 {
		t.Fatalf("only %d batches", len(pasts))
	}
	checked := 0
	for i, p := range pasts {
		tooOld := i < len(pasts)-1-MapVersions
		for _, l := range p.leaves {
			value, root, proof, err := tr.Prove(ctx, p.size, l.Label)
			if tooOld {
				if !errors.Is(err, ErrMapBusy) {
					t.Fatalf("Prove at size %d, %d sizes old: %v, want ErrMapBusy", p.size, len(pasts)-1-i, err)
				}
				break
			}
			if err != nil || root != p.root || !bytes.Equal(value, l.Value) {
				t.Fatalf("Prove(%d, %x) = %x, root %x, %v; want %x, root %x", p.size, l.Label[:4], value, root[:4], err, l.Value, p.root[:4])
			}
			if err := VerifyMapProof(root, l.Label, value, proof); err != nil {
				t.Fatalf("proof at size %d of %x: %v", p.size, l.Label[:4], err)
			}
			checked++
		}
	}
	if _, _, _, err := tr.Prove(ctx, size+1, pasts[0].leaves[0].Label); !errors.Is(err, ErrMapBusy) {
		t.Fatalf("Prove at a size not reached: %v, want ErrMapBusy", err)
	}
	t.Logf("%d batches, %d past proofs verified", len(pasts), checked)
}
