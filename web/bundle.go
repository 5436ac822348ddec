package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// prover builds the proof bundles of one response, all against the same
// checkpoint, reading each entry and proof once.
type prover struct {
	s      *Server
	ctx    context.Context
	state  *log.State
	policy bundle.Policy

	mu      sync.Mutex
	entries map[uint64]bundle.Entry // proven entries by index; guarded by mu
}

func (s *Server) newProver(ctx context.Context, state *log.State) (*prover, error) {
	p, err := s.self.policyOf(s)
	if err != nil {
		return nil, err
	}
	return &prover{s: s, ctx: ctx, state: state, policy: p, entries: map[uint64]bundle.Entry{}}, nil
}

// selfPolicy is what the server checks its own bundles with: its own log
// key and the registrar key of the genesis entry.
func (s *Server) selfPolicy() (bundle.Policy, error) {
	v, err := verify.NewVerifier(s.log.VerifierKey())
	if err != nil {
		return bundle.Policy{}, fmt.Errorf("log verifier key: %w", err)
	}
	p := bundle.Policy{Origin: s.log.Origin(), LogKeys: []verify.Verifier{v}}
	info, _ := s.reg.Signatory(attest.RegistrarID)
	for _, k := range info.Keys {
		if k.Added == 0 {
			p.RegistrarKeys = append(p.RegistrarKeys, attest.PublicKey{Type: k.Type, SPKI: k.SPKI})
		}
	}
	return p, nil
}

// fresh is an entry that the request appended (not a duplicate): its
// leaf, and its envelope, whose signatures and registry rules the request
// verified before the append.
type fresh struct {
	leaf []byte
	env  *attest.Envelope
}

// bundle returns the self-checked proof bundle of the entry at index;
// f is the entry if this request appended it, else nil.
func (p *prover) bundle(index uint64, f *fresh) (*bundle.Bundle, error) {
	var e bundle.Entry
	var env *attest.Envelope
	var err error
	if f != nil {
		e, err = p.proven(index, f.leaf)
		env = f.env
	} else {
		e, env, err = p.entry(index)
	}
	if err != nil {
		return nil, err
	}
	b := &bundle.Bundle{Entry: e, Checkpoint: p.state.Checkpoint}
	if b.Evidence, err = p.evidence(env, index); err != nil {
		return nil, err
	}
	if f != nil {
		err = p.signedByEvidence(f.env, b.Evidence)
	}
	if err == nil {
		err = p.s.self.check(b, p.policy, f != nil)
	}
	if err != nil {
		return nil, fmt.Errorf("self-check of the bundle of entry %d: %w", index, err)
	}
	return b, nil
}

// signedByEvidence checks that every key that signed env is introduced
// by one of the evidence entries or by env itself, as bundle.Verify would:
// the self-check's shortcut (selfCheck.check) relies on it.
func (p *prover) signedByEvidence(env *attest.Envelope, evidence []bundle.Entry) error {
	keys := map[string]bool{}
	if k := introducedKey(env); k != "" {
		keys[k] = true
	}
	for _, e := range evidence {
		ev, err := p.evidenceEnvelope(e.Index)
		if err != nil {
			return err
		}
		keys[introducedKey(ev)] = true
	}
	for _, sig := range env.Signatures {
		if !keys[sig.KeyID] {
			return fmt.Errorf("key %s is not introduced by the evidence", sig.KeyID)
		}
	}
	return nil
}

// introducedKey is the id of the key a registry event introduces, or "".
func introducedKey(env *attest.Envelope) string {
	switch p := env.Statement.Predicate.(type) {
	case *attest.Registrar:
		return p.Key.ID()
	case *attest.SignatoryEvent:
		if p.Key != nil {
			return p.Key.ID()
		}
	}
	return ""
}

// proven returns the entry at index with its inclusion proof, read (unless
// leaf is given) and proven once per prover.
func (p *prover) proven(index uint64, leaf []byte) (bundle.Entry, error) {
	p.mu.Lock()
	e, ok := p.entries[index]
	p.mu.Unlock()
	if ok {
		return e, nil
	}
	var err error
	if leaf == nil {
		if leaf, err = p.s.entry(p.ctx, index); err != nil {
			return e, err
		}
	}
	proof, err := p.prove(index)
	if err != nil {
		return e, err
	}
	e = bundle.Entry{Index: index, Leaf: leaf, Proof: proof}
	p.mu.Lock()
	p.entries[index] = e
	p.mu.Unlock()
	return e, nil
}

// entry returns the entry at index with its inclusion proof, and its
// parsed envelope.
func (p *prover) entry(index uint64) (bundle.Entry, *attest.Envelope, error) {
	e, err := p.proven(index, nil)
	if err != nil {
		return e, nil, err
	}
	env, err := attest.ParseLeaf(e.Leaf)
	if err != nil {
		return e, nil, fmt.Errorf("stored entry %d: %w", index, err)
	}
	return e, env, nil
}

// evidence returns the registry events that introduced the keys that
// signed env (at index), and recursively those that introduced the keys
// that signed them, back to genesis, in index order.
func (p *prover) evidence(env *attest.Envelope, index uint64) ([]bundle.Entry, error) {
	seen := map[uint64]bool{}
	if err := p.walk(env, index, seen); err != nil {
		return nil, err
	}
	var out []bundle.Entry
	for _, i := range slices.Sorted(maps.Keys(seen)) {
		env, err := p.evidenceEnvelope(i)
		if err != nil {
			return nil, err
		}
		leaf := env.Leaf()
		proof, err := p.s.self.evidenceProof(p, i, leaf)
		if err != nil {
			return nil, err
		}
		out = append(out, bundle.Entry{Index: i, Leaf: leaf, Proof: proof})
	}
	return out, nil
}

func (p *prover) walk(env *attest.Envelope, index uint64, seen map[uint64]bool) error {
	for _, sig := range env.Signatures {
		added, err := p.added(env.Statement, sig.KeyID)
		if err != nil {
			return err
		}
		if added >= index || seen[added] {
			continue // the entry introduces this key itself
		}
		seen[added] = true
		ev, err := p.evidenceEnvelope(added)
		if err != nil {
			return err
		}
		if err := p.walk(ev, added, seen); err != nil {
			return err
		}
	}
	return nil
}

// added returns the index of the event that introduced keyid, a key of
// the statement's signatory or of the registrar.
func (p *prover) added(st *attest.Statement, keyid string) (uint64, error) {
	cacheKey := st.Signatory() + "/" + keyid
	if i, ok := p.s.self.added.Load(cacheKey); ok {
		return i.(uint64), nil
	}
	for _, owner := range []string{st.Signatory(), attest.RegistrarID} {
		if k, err := p.s.reg.Key(owner, keyid); err == nil {
			p.s.self.added.Store(cacheKey, k.Added) // never changes, even on revocation
			return k.Added, nil
		}
	}
	return 0, fmt.Errorf("key %s of a logged entry is not in the registry", keyid)
}

// evidenceEnvelope returns the parsed registry event at index, parsed
// once per server: entries are immutable, and registry events are few.
func (p *prover) evidenceEnvelope(index uint64) (*attest.Envelope, error) {
	if env, ok := p.s.self.parsed.Load(index); ok {
		return env.(*attest.Envelope), nil
	}
	_, env, err := p.entry(index)
	if err != nil {
		return nil, err
	}
	p.s.self.parsed.Store(index, env)
	return env, nil
}

// selfCheck is what the server remembers between responses so as not to
// redo work on immutable data when it proves and checks its own bundles:
// its policy, the registry events used as evidence (parsed), the index
// that introduced each key, inclusion proofs of evidence, opened
// checkpoints, and the evidence chains whose signatures bundle.Verify
// accepted. New sets its node cache; the rest starts empty.
type selfCheck struct {
	added  sync.Map // signatory + "/" + keyid → uint64 index that added the key
	parsed sync.Map // uint64 index → *attest.Envelope, registry events only

	mu       sync.Mutex
	policy   *bundle.Policy              // set once the genesis is known
	proofs   map[[2]uint64][]verify.Hash // (index, size) → evidence inclusion proof
	trees    map[[32]byte]tree           // checkpoint hash → its verified tree
	accepted map[string]bool             // evidence indexes whose signatures verified
	included map[includedKey]bool        // evidence proven in a checkpoint

	cache *verify.NodeCache // complete subtrees' hashes; set by New
}

// tree is the size and root of a verified checkpoint.
type tree struct {
	size uint64
	root verify.Hash
}

// maxRemembered bounds each map of selfCheck; a full map is emptied.
const maxRemembered = 1 << 15

func remember[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil || len(*m) >= maxRemembered {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

func (c *selfCheck) policyOf(s *Server) (bundle.Policy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policy != nil {
		return *c.policy, nil
	}
	p, err := s.selfPolicy()
	if err == nil && len(p.RegistrarKeys) > 0 {
		c.policy = &p // the genesis key never changes
	}
	return p, err
}

// evidenceProof returns the inclusion proof of evidence entry index in the
// tree of size, proven once.
func (c *selfCheck) evidenceProof(p *prover, index uint64, leaf []byte) ([]verify.Hash, error) {
	k := [2]uint64{index, p.state.Size}
	c.mu.Lock()
	h, ok := c.proofs[k]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	proof, err := p.prove(index)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	remember(&c.proofs, k, proof)
	c.mu.Unlock()
	return proof, nil
}

// check checks a bundle before it is sent. For an entry that the request
// verified itself (signatures and registry rules, before the append) and
// whose evidence chain's signatures bundle.Verify already accepted in
// another bundle, it checks everything else: the checkpoint's signature
// (once per checkpoint), and the inclusion of the entry and of every
// evidence entry in it. Any other bundle goes through bundle.Verify.
func (c *selfCheck) check(b *bundle.Bundle, p bundle.Policy, verified bool) error {
	key := evidenceKey(b)
	c.mu.Lock()
	known := c.accepted[key]
	c.mu.Unlock()
	if !verified || !known {
		return c.full(b, p, key)
	}
	t, err := c.open(b.Checkpoint, p)
	if err != nil {
		return err
	}
	if err := included(b.Entry, t); err != nil {
		return err
	}
	cp := sha256.Sum256(b.Checkpoint)
	for _, e := range b.Evidence {
		if err := c.evidenceIncluded(e, cp, t); err != nil {
			return err
		}
	}
	return nil
}

// full checks b with bundle.Verify and remembers its evidence chain and
// checkpoint as accepted.
func (c *selfCheck) full(b *bundle.Bundle, p bundle.Policy, key string) error {
	res, err := bundle.Verify(b, p)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	remember(&c.accepted, key, true)
	remember(&c.trees, sha256.Sum256(b.Checkpoint), tree{res.Size, res.Root})
	return nil
}

// evidenceIncluded checks the inclusion of evidence entry e in the
// checkpoint whose hash is cp, once per checkpoint: the evidence proofs
// of one checkpoint are proven once (evidenceProof).
func (c *selfCheck) evidenceIncluded(e bundle.Entry, cp [32]byte, t tree) error {
	k := includedKey{cp, e.Index}
	c.mu.Lock()
	done := c.included[k]
	c.mu.Unlock()
	if done {
		return nil
	}
	if err := included(e, t); err != nil {
		return err
	}
	c.mu.Lock()
	remember(&c.included, k, true)
	c.mu.Unlock()
	return nil
}

// includedKey names an evidence entry proven included in a checkpoint.
type includedKey struct {
	checkpoint [32]byte
	index      uint64
}

func included(e bundle.Entry, t tree) error {
	if err := verify.Inclusion(verify.LeafHash(e.Leaf), e.Index, t.size, e.Proof, t.root); err != nil {
		return fmt.Errorf("entry %d: %w", e.Index, err)
	}
	return nil
}

// open verifies a checkpoint's signature with the log key, once.
func (c *selfCheck) open(note []byte, p bundle.Policy) (tree, error) {
	h := sha256.Sum256(note)
	c.mu.Lock()
	t, ok := c.trees[h]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	cp, _, err := verify.OpenCheckpoint(note, p.Origin, p.LogKeys, nil, 0)
	if err != nil {
		return t, err
	}
	t = tree{cp.Size, cp.Root}
	c.mu.Lock()
	remember(&c.trees, h, t)
	c.mu.Unlock()
	return t, nil
}

// evidenceKey names a bundle's evidence chain by its indexes: an index
// names immutable bytes.
func evidenceKey(b *bundle.Bundle) string {
	var k strings.Builder
	for _, e := range b.Evidence {
		k.WriteString(strconv.FormatUint(e.Index, 10) + "/")
	}
	return k.String()
}

// prove returns the inclusion proof of the entry at index in the tree of
// the prover's state; selfCheck.check checks it. The proof's nodes come
// from the server's node cache where they can (verify.NodeCache).
func (p *prover) prove(index uint64) ([]verify.Hash, error) {
	return p.s.self.cache.ProveInclusion(p.ctx, verify.TileReaderFunc(p.s.log.ReadTile), index, p.state.Size)
}
