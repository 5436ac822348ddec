package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"filippo.io/torchwood/prefix"
	"lukechampine.com/blake3"
)

// naiveNode is a node of a proof path as the test's own verifier sees it.
type naiveNode struct {
	bitLen uint32
	label  [32]byte
	hash   [32]byte
	empty  bool
}

// naiveFold computes, with hash h and no torchwood code, the root that a
// path from a node up through its siblings (lowest first) leads to, and
// whether every step was well formed: each parent is the longest common
// prefix of its two children, on whose next bit they differ; an empty
// node is only a root's child. It returns the last parent's label length,
// which must be 0 for a root.
func naiveFold(h func([]byte) [32]byte, cur naiveNode, sibs []naiveNode) (root [32]byte, rootLen uint32, ok bool) {
	node := func(bitLen uint32, label [32]byte, value [32]byte) [32]byte {
		var l [36]byte
		binary.BigEndian.PutUint32(l[:], bitLen)
		copy(l[4:], label[:])
		lh := h(l[:])
		return h(append(value[:], lh[:]...))
	}
	bit := func(l [32]byte, i uint32) byte { return l[i/8] >> (7 - i%8) & 1 }
	for _, s := range sibs {
		var n uint32
		if !s.empty && !cur.empty {
			for n < min(s.bitLen, cur.bitLen) && bit(s.label, n) == bit(cur.label, n) {
				n++
			}
			if n == s.bitLen || n == cur.bitLen {
				return root, 0, false // one is a prefix of the other
			}
		} else if s.empty && cur.empty {
			return root, 0, false
		}
		var p [32]byte
		copy(p[:], cur.label[:n/8])
		if n%8 != 0 {
			p[n/8] = cur.label[n/8] & byte(0xff<<(8-n%8))
		}
		real, other := cur, s
		if cur.empty {
			real, other = s, cur
		}
		a, b := real, other // a is the left child
		if bit(real.label, n) == 1 {
			a, b = other, real
		}
		cur = naiveNode{bitLen: n, label: p, hash: node(n, p, h(append(a.hash[:], b.hash[:]...)))}
	}
	return cur.hash, cur.bitLen, true
}

func naiveLeaf(h func([]byte) [32]byte, label, value [32]byte) naiveNode {
	var l [36]byte
	binary.BigEndian.PutUint32(l[:], 256)
	copy(l[4:], label[:])
	lh := h(l[:])
	return naiveNode{bitLen: 256, label: label, hash: h(append(value[:], lh[:]...))}
}

func toNaive(p []prefix.ProofNode) []naiveNode {
	out := make([]naiveNode, len(p))
	for i, n := range p {
		var l [32]byte
		copy(l[:], n.Label.Bytes())
		out[i] = naiveNode{bitLen: n.Label.BitLen(), label: l, hash: n.Hash, empty: n.Label == prefix.EmptyNodeLabel}
	}
	return out
}

// naiveVerifyMember checks a membership proof with naiveFold.
func naiveVerifyMember(h func([]byte) [32]byte, root, label, value [32]byte, p []prefix.ProofNode) bool {
	got, n, ok := naiveFold(h, naiveLeaf(h, label, value), toNaive(p))
	return ok && n == 0 && got == root
}

// pbFields splits a protobuf message into its fields (varints and
// length-delimited ones: all that AKD's proofs use).
type pbField struct {
	num int
	v   uint64
	b   []byte
}

func pbFields(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	for len(b) > 0 {
		k, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("bad protobuf tag")
		}
		b = b[n:]
		f := pbField{num: int(k >> 3)}
		switch k & 7 {
		case 0:
			f.v, n = binary.Uvarint(b)
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatal("bad protobuf length")
			}
			f.b, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("protobuf wire type %d", k&7)
		}
		out = append(out, f)
	}
	return out
}

func pbGet(t *testing.T, b []byte, num int) []pbField {
	var out []pbField
	for _, f := range pbFields(t, b) {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

func pbOne(t *testing.T, b []byte, num int) []byte {
	t.Helper()
	fs := pbGet(t, b, num)
	if len(fs) != 1 {
		t.Fatalf("field %d: %d occurrences", num, len(fs))
	}
	return fs[0].b
}

// akdLabel decodes a NodeLabel: label_val (leading bytes only) and
// label_len (absent for 0).
func akdLabel(t *testing.T, b []byte) prefix.Label {
	t.Helper()
	var full [32]byte
	var n uint32
	for _, f := range pbFields(t, b) {
		switch f.num {
		case 1:
			copy(full[:], f.b)
		case 2:
			n = uint32(f.v)
		}
	}
	l, err := prefix.NewLabel(n, full[:])
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// akdNode turns an AzksElement (a label and a node's value, which AKD
// hashes with the label only in the parent) into torchwood's proof node,
// whose hash already covers the label: H(value || H(len || label)).
func akdNode(t *testing.T, b []byte) prefix.ProofNode {
	l := akdLabel(t, pbOne(t, b, 1))
	v := pbOne(t, b, 2)
	enc := binary.BigEndian.AppendUint32(nil, l.BitLen())
	lh := blake3.Sum256(append(enc, l.Bytes()...))
	return prefix.ProofNode{Label: l, Hash: blake3.Sum256(append(bytes.Clone(v), lh[:]...))}
}

// akdMembership decodes a MembershipProof: label, hash_val, and the
// sibling proofs from the root down, which torchwood wants from the leaf
// up.
func akdMembership(t *testing.T, b []byte) (label prefix.Label, value [32]byte, proof []prefix.ProofNode) {
	label = akdLabel(t, pbOne(t, b, 1))
	copy(value[:], pbOne(t, b, 2))
	for _, sp := range pbGet(t, b, 3) {
		sibs := pbGet(t, sp.b, 2)
		if len(sibs) != 1 {
			t.Fatalf("sibling proof with %d siblings", len(sibs))
		}
		proof = append([]prefix.ProofNode{akdNode(t, sibs[0].b)}, proof...)
	}
	return label, value, proof
}

func label32(l prefix.Label) (out [32]byte) { copy(out[:], l.Bytes()); return out }

// TestAKDVectors checks the tree the registry map is built on against a
// lookup proof that AKD (whatsapp_v1) served, from its repository's test
// vectors (testdata/akd/README.md): its two membership proofs and its
// non-membership proof verify against AKD's root with torchwood's prefix
// package over BLAKE3, and with the test's own verifier (naiveFold), which
// also checks the map's SHA-256 proofs in TestMapAgainstModel; a flipped
// bit in a value, a sibling or the root fails both.
func TestAKDVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/akd/whatsapp_v1-lookup.txt")
	if err != nil {
		t.Fatal(err)
	}
	var hexes [][]byte
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			b, err := hex.DecodeString(line)
			if err != nil {
				t.Fatal(err)
			}
			hexes = append(hexes, b)
		}
	}
	var root [32]byte
	copy(root[:], hexes[0])
	lookup := hexes[1]
	h := blake3.Sum256

	checked := 0
	for _, field := range []int{5, 7} { // existence_proof, marker_proof
		l, v, proof := akdMembership(t, pbOne(t, lookup, field))
		if err := prefix.VerifyMembershipProof(h, label32(l), v, proof, root); err != nil {
			t.Fatalf("field %d: torchwood refuses AKD's membership proof: %v", field, err)
		}
		if !naiveVerifyMember(h, root, label32(l), v, proof) {
			t.Fatalf("field %d: the naive verifier refuses AKD's membership proof", field)
		}
		if naiveVerifyMember(sha256.Sum256, root, label32(l), v, proof) {
			t.Fatalf("field %d: verifies with SHA-256", field)
		}
		bad := v
		bad[0] ^= 1
		badRoot := root
		badRoot[31] ^= 1
		p := append([]prefix.ProofNode(nil), proof...)
		p[len(p)-1].Hash[7] ^= 1
		if prefix.VerifyMembershipProof(h, label32(l), bad, proof, root) == nil || naiveVerifyMember(h, root, label32(l), bad, proof) ||
			prefix.VerifyMembershipProof(h, label32(l), v, proof, badRoot) == nil || naiveVerifyMember(h, badRoot, label32(l), v, proof) ||
			prefix.VerifyMembershipProof(h, label32(l), v, p, root) == nil || naiveVerifyMember(h, root, label32(l), v, p) {
			t.Fatalf("field %d: a tampered value, root or sibling verifies", field)
		}
		checked++
	}

	// freshness_proof: NonMembershipProof {label, longest_prefix,
	// longest_prefix_children (2), longest_prefix_membership_proof}, which
	// torchwood takes as the two children followed by the prefix's path.
	nm := pbOne(t, lookup, 9)
	l := akdLabel(t, pbOne(t, nm, 1))
	lp := akdLabel(t, pbOne(t, nm, 2))
	children := pbGet(t, nm, 3)
	if len(children) != 2 {
		t.Fatalf("%d longest-prefix children", len(children))
	}
	proof := []prefix.ProofNode{akdNode(t, children[0].b), akdNode(t, children[1].b)}
	pl, _, path := akdMembership(t, pbOne(t, nm, 4))
	if pl != lp || !l.HasPrefix(lp) {
		t.Fatalf("longest prefix %s, membership proof of %s, label %s", lp, pl, l)
	}
	proof = append(proof, path...)
	if err := prefix.VerifyNonMembershipProof(h, label32(l), proof, root); err != nil {
		t.Fatalf("torchwood refuses AKD's non-membership proof: %v", err)
	}
	// The naive verifier: the two children fold to the longest prefix,
	// which the label extends and neither child is a prefix of, and the
	// prefix's path folds to the root.
	kids := toNaive(proof[:2])
	top, n, ok := naiveFold(h, kids[0], kids[1:2])
	if !ok || n != lp.BitLen() {
		t.Fatalf("children fold to a node of %d bits (%v), longest prefix has %d", n, ok, lp.BitLen())
	}
	got, n, ok := naiveFold(h, naiveNode{bitLen: lp.BitLen(), label: label32(lp), hash: top}, toNaive(path))
	if !ok || n != 0 || got != root {
		t.Fatal("the naive verifier refuses AKD's non-membership proof")
	}
	for i := range proof {
		p := append([]prefix.ProofNode(nil), proof...)
		p[i].Hash[0] ^= 1
		if prefix.VerifyNonMembershipProof(h, label32(l), p, root) == nil {
			t.Fatalf("non-membership proof with node %d tampered verifies", i)
		}
	}
	// The label it proves absent is not one the membership proofs prove
	// present, and proving one of those absent fails.
	ml, _, _ := akdMembership(t, pbOne(t, lookup, 5))
	if prefix.VerifyNonMembershipProof(h, label32(ml), proof, root) == nil {
		t.Fatal("the non-membership proof also proves a present label absent")
	}
	checked++
	if checked != 3 {
		t.Fatalf("checked %d proofs", checked)
	}
}
