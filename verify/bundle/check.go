package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// A Verified is an entry that its holder parsed and verified as a log's
// registry does before it appends a submission (attest.Registry.Verify):
// Envelope is Leaf parsed (by attest.ParseLeaf, or by attest.Canonicalize,
// which returned Leaf), and every one of its signatures verifies, with
// attest.PublicKey.Verify, under the key that the signature's key id
// names. Neither may be modified afterwards.
type Verified struct {
	Leaf     []byte
	Envelope *attest.Envelope
}

// A Checker checks bundles against one policy as Verify does, and
// remembers what it verified so as not to verify it again (Check). It is
// meant for a log that checks the bundles it builds (Builder), and for
// anyone who checks many bundles of one log. It is safe for concurrent
// use.
type Checker struct {
	p         Policy
	policyErr error  // p.check()
	v2Err     error  // p.checkV2()
	quorum    string // Result.Quorum

	mu       sync.Mutex
	trees    map[[32]byte]*opened         // checkpoint's SHA-256 → what opening it proved
	leaves   map[uint64]leafMemo          // evidence index → a leaf proven there, and its hash
	included map[includedKey]includedMemo // evidence proven included in a checkpoint
	chains   map[string]*chain            // chainKey → the evidence chain it verified
	maps     map[[64]byte]mapMemo         // map root and label → a v2 map proof that verified
}

// Bounds of a Checker's memory: a full map is emptied. Leaves and proofs
// are copied (a caller may modify its bundle afterwards), so fewer of
// them are kept.
const (
	maxRemembered = 1 << 15
	maxCopied     = 1 << 12
)

// opened is what opening a checkpoint proved.
type opened struct {
	cp     verify.Checkpoint
	logKey string
	cosigs []Cosignature
}

type leafMemo struct {
	leaf []byte // a copy
	hash verify.Hash
}

// includedKey names an evidence index in a checkpoint (by its SHA-256).
type includedKey struct {
	checkpoint [32]byte
	index      uint64
}

// includedMemo is a leaf hash and a proof (a copy) that verified at
// includedKey.
type includedMemo struct {
	leaf  verify.Hash
	proof []verify.Hash
}

// chain is a verified evidence chain: the keys it proves and its links.
// Neither is modified once remembered.
type chain struct {
	ring  keyring
	links []Link
}

// NewChecker returns a Checker for p, which must not be modified
// afterwards.
func NewChecker(p Policy) *Checker {
	c := &Checker{p: p, policyErr: p.check(), v2Err: p.checkV2(), quorum: "none"}
	if p.Quorum != nil {
		c.quorum = fmt.Sprint(p.Quorum)
	}
	return c
}

// Check checks b as Verify(b, p) does, p the Checker's policy, and
// returns what Verify returns: the same Result, or the same first error.
// It accepts only what Verify accepts. It differs only in the work it
// skips, which is this:
//
//   - What it proved before, remembered by the exact bytes it is a
//     function of: a checkpoint's signatures and cosignatures (by the
//     note's SHA-256); an evidence entry's inclusion (the same checkpoint,
//     index, leaf hash and proof); an evidence chain's validity (the same
//     indexes and leaf hashes, in order): its parsing, its signatures and
//     the registry rules of each link; and the hash of an evidence leaf
//     (by the leaf's bytes, compared). Each of these is a pure function of
//     those bytes and of the policy, so the same bytes give the same
//     answer; a SHA-256 collision would be needed to pass other bytes off
//     as remembered ones. Only successes are remembered, and only copies of
//     what the caller passed, so that changing a bundle after Check
//     changes nothing remembered.
//   - With v, and only if v.Leaf is the entry's leaf, parsing the entry
//     and verifying its signatures: v's holder did both (see Verified),
//     with the keys that Verify would use, since a key id is the SHA-256
//     of the key. Every other check of the entry still runs, against the
//     keys that the bundle's evidence proves: its origin, the key it
//     introduces, who may sign it, and that exactly one signature is by an
//     authorising key the evidence introduced and every other by the key
//     it introduces. A v whose leaf is not the entry's is ignored.
//
// It never skips the entry's inclusion, nor any check of a bundle part it
// has not seen with the same bytes.
//
// A v2 bundle is checked as Verify checks it, with the checkpoint's
// opening and each map proof that verified (by root, label, value and
// proof) remembered and, with v as above, the entry neither parsed nor
// its signatures verified again.
func (c *Checker) Check(b *Bundle, v *Verified) (*Result, error) {
	if b.IsV2() {
		return c.checkV2(b, v)
	}
	if c.policyErr != nil {
		return nil, c.policyErr
	}
	p := &c.p
	h := verify.LeafHash(b.Entry.Leaf)
	r := &Result{Quorum: c.quorum, Index: b.Entry.Index, LeafHash: h, Version: 1}
	cpHash := sha256.Sum256(b.Checkpoint)
	cp, err := c.open(b.Checkpoint, cpHash, r)
	if err != nil {
		return nil, err
	}
	if err := includeHash("entry", b.Entry, h, cp); err != nil {
		return nil, err
	}
	hashes, err := c.includeEvidence(b, cpHash, cp)
	if err != nil {
		return nil, err
	}
	ring, err := c.walk(b, hashes, r)
	if err != nil {
		return nil, err
	}
	var env *attest.Envelope
	if v != nil && bytes.Equal(v.Leaf, b.Entry.Leaf) {
		env = v.Envelope
	}
	if err := authoriseEntry(b.Entry, env, ring, p, r); err != nil {
		return nil, err
	}
	if err := checkAudit(p.Audit, cp, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (c *Checker) checkV2(b *Bundle, v *Verified) (*Result, error) {
	if c.v2Err != nil {
		return nil, c.v2Err
	}
	r := &Result{Quorum: c.quorum, Index: b.Entry.Index, LeafHash: verify.LeafHash(b.Entry.Leaf)}
	var env *attest.Envelope
	if v != nil && bytes.Equal(v.Leaf, b.Entry.Leaf) {
		env = v.Envelope
	}
	r.Version = 2
	cp, err := c.open(b.Checkpoint, sha256.Sum256(b.Checkpoint), r)
	if err != nil {
		return nil, err
	}
	if err := verifyV2(b, cp, &c.p, env, r, c.verifyMap); err != nil {
		return nil, err
	}
	return r, nil
}

// open is openCheckpoint, once per checkpoint.
func (c *Checker) open(note []byte, h [32]byte, r *Result) (verify.Checkpoint, error) {
	c.mu.Lock()
	o := c.trees[h]
	c.mu.Unlock()
	if o == nil {
		var or Result
		cp, err := openCheckpoint(note, &c.p, &or)
		if err != nil {
			return cp, err
		}
		o = &opened{cp: cp, logKey: or.LogKey, cosigs: or.Cosignatures}
		c.mu.Lock()
		remember(&c.trees, h, o, maxRemembered)
		c.mu.Unlock()
	}
	r.Origin, r.Size, r.Root, r.LogKey = o.cp.Origin, o.cp.Size, o.cp.Root, o.logKey
	r.Cosignatures = slices.Clone(o.cosigs)
	return o.cp, nil
}

// includeEvidence is the evidence part of includeAll, with each evidence
// leaf's hash and inclusion remembered. It returns the leaves' hashes.
func (c *Checker) includeEvidence(b *Bundle, cpHash [32]byte, cp verify.Checkpoint) ([]verify.Hash, error) {
	hashes := make([]verify.Hash, len(b.Evidence))
	for i, e := range b.Evidence {
		if err := checkOrder(b, i); err != nil {
			return nil, err
		}
		k := includedKey{cpHash, e.Index}
		c.mu.Lock()
		lm, hashed := c.leaves[e.Index]
		hashed = hashed && bytes.Equal(lm.leaf, e.Leaf)
		im, done := c.included[k]
		c.mu.Unlock()
		h := lm.hash
		if !hashed {
			h = verify.LeafHash(e.Leaf)
		}
		hashes[i] = h
		if done && im.leaf == h && slices.Equal(im.proof, e.Proof) {
			continue
		}
		if err := includeHash(evidenceField(i), e, h, cp); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if !hashed {
			remember(&c.leaves, e.Index, leafMemo{bytes.Clone(e.Leaf), h}, maxCopied)
		}
		remember(&c.included, k, includedMemo{h, slices.Clone(e.Proof)}, maxCopied)
		c.mu.Unlock()
	}
	return hashes, nil
}

// walk is walkEvidence, once per chain: the chain is named by the
// evidence's indexes and leaf hashes.
func (c *Checker) walk(b *Bundle, hashes []verify.Hash, r *Result) (keyring, error) {
	var buf [MaxEvidence * (8 + verify.HashSize)]byte
	key := buf[:0]
	if len(b.Evidence) <= MaxEvidence {
		for i, e := range b.Evidence {
			key = binary.BigEndian.AppendUint64(key, e.Index)
			key = append(key, hashes[i][:]...)
		}
		c.mu.Lock()
		ch := c.chains[string(key)]
		c.mu.Unlock()
		if ch != nil {
			r.Evidence = slices.Clone(ch.links)
			return ch.ring, nil
		}
	}
	ring, err := walkEvidence(b, &c.p, r)
	if err != nil {
		return nil, err
	}
	if len(b.Evidence) <= MaxEvidence {
		c.mu.Lock()
		remember(&c.chains, string(key), &chain{ring: ring, links: slices.Clone(r.Evidence)}, maxRemembered)
		c.mu.Unlock()
	}
	return ring, nil
}

// remember sets m[k] = v, first emptying m if it holds max entries.
func remember[K comparable, V any](m *map[K]V, k K, v V, max int) {
	if *m == nil || len(*m) >= max {
		*m = map[K]V{}
	}
	(*m)[k] = v
}
