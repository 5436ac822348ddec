package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// A Source is what a Builder reads of a log: its entries, its hash tiles
// and, from the registry that its entries build, the entry that
// introduced each key. What it returns need not be trusted: the Builder
// checks every bundle it builds (Checker.Check), so a wrong answer makes
// a bundle fail, never pass.
type Source interface {
	// Entry returns the leaf at index. The Builder does not modify it.
	Entry(ctx context.Context, index uint64) ([]byte, error)
	// ReadTile returns a hash tile (verify.TileReader).
	verify.TileReader
	// KeyAdded returns the index of the registry event that introduced
	// the key keyid for owner (a signatory id or attest.RegistrarID), and
	// false if owner has no such key.
	KeyAdded(owner, keyid string) (index uint64, ok bool)
}

// A Builder builds the bundles of one log, as the log answers them: the
// entry, its inclusion proof in a checkpoint, and as evidence the
// registry events that introduced the keys that signed it, and
// recursively those that introduced the keys that signed them, back to
// the genesis, each with its inclusion proof in the same checkpoint. It
// checks each bundle with a Checker of its policy before returning it.
//
// It remembers what never changes: the registry events it used as
// evidence (parsed), the index that introduced each key, the evidence's
// inclusion proofs per tree size, and, through the verify.NodeCache it is
// given, the hashes of complete subtrees. It is safe for concurrent use.
type Builder struct {
	src   Source
	nodes *verify.NodeCache
	check *Checker

	added  sync.Map // signatory + "/" + keyid → uint64 index of the event that introduced the key
	events sync.Map // uint64 index → *event, registry events only

	mu     sync.Mutex
	proofs map[[2]uint64][]verify.Hash // (index, size) → evidence inclusion proof
}

// event is a registry event used as evidence: its leaf and the leaf
// parsed.
type event struct {
	leaf []byte
	env  *attest.Envelope
}

// NewBuilder returns a Builder of src's bundles that proves through nodes
// and checks every bundle against p (see NewChecker).
func NewBuilder(src Source, nodes *verify.NodeCache, p Policy) *Builder {
	return &Builder{src: src, nodes: nodes, check: NewChecker(p)}
}

// A Prover builds bundles against one checkpoint, reading and proving
// each entry once. It is safe for concurrent use.
type Prover struct {
	b          *Builder
	checkpoint []byte
	size       uint64

	mu      sync.Mutex
	entries map[uint64]Entry // proven entries by index
}

// Prover returns a Prover of bundles against checkpoint, a signed
// checkpoint note of the Builder's log, which must not be modified
// afterwards.
func (b *Builder) Prover(checkpoint []byte) (*Prover, error) {
	n, err := verify.ParseNote(checkpoint)
	if err != nil {
		return nil, err
	}
	cp, err := verify.ParseCheckpoint(n.Text)
	if err != nil {
		return nil, err
	}
	return &Prover{b: b, checkpoint: checkpoint, size: cp.Size, entries: map[uint64]Entry{}}, nil
}

// Bundle returns the checked bundle of the entry at index. v, if not nil,
// is that entry as the caller verified it (it appended it): its leaf is
// not read again, and Check skips what v's holder did.
func (p *Prover) Bundle(ctx context.Context, index uint64, v *Verified) (*Bundle, error) {
	e, env, err := p.entryOf(ctx, index, v)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Entry: e, Checkpoint: p.checkpoint}
	if b.Evidence, err = p.evidence(ctx, env, index); err != nil {
		return nil, err
	}
	if _, err := p.b.check.Check(b, v); err != nil {
		return nil, fmt.Errorf("self-check of the bundle of entry %d: %w", index, err)
	}
	return b, nil
}

// proven returns the entry at index with its inclusion proof, read
// entryOf returns the entry at index with its inclusion proof, and its
// envelope: v's, if the caller verified it, else read and parsed.
func (p *Prover) entryOf(ctx context.Context, index uint64, v *Verified) (Entry, *attest.Envelope, error) {
	if v != nil {
		e, err := p.proven(ctx, index, v.Leaf)
		return e, v.Envelope, err
	}
	return p.entry(ctx, index)
}

// (unless leaf is given) and proven once per Prover.
func (p *Prover) proven(ctx context.Context, index uint64, leaf []byte) (Entry, error) {
	p.mu.Lock()
	e, ok := p.entries[index]
	p.mu.Unlock()
	if ok {
		return e, nil
	}
	var err error
	if leaf == nil {
		if leaf, err = p.b.src.Entry(ctx, index); err != nil {
			return e, err
		}
	}
	proof, err := p.prove(ctx, index)
	if err != nil {
		return e, err
	}
	e = Entry{Index: index, Leaf: leaf, Proof: proof}
	p.mu.Lock()
	p.entries[index] = e
	p.mu.Unlock()
	return e, nil
}

// entry returns the entry at index with its inclusion proof, and its
// parsed envelope.
func (p *Prover) entry(ctx context.Context, index uint64) (Entry, *attest.Envelope, error) {
	e, err := p.proven(ctx, index, nil)
	if err != nil {
		return e, nil, err
	}
	env, err := attest.ParseLeaf(e.Leaf)
	if err != nil {
		return e, nil, fmt.Errorf("stored entry %d: %w", index, err)
	}
	return e, env, nil
}

// prove returns the inclusion proof of the entry at index in the
// Prover's tree, through the Builder's node cache.
func (p *Prover) prove(ctx context.Context, index uint64) ([]verify.Hash, error) {
	return p.b.nodes.ProveInclusion(ctx, p.b.src, index, p.size)
}

// evidence returns the registry events that introduced the keys that
// signed env (at index), and recursively those that introduced the keys
// that signed them, back to the genesis, in index order.
func (p *Prover) evidence(ctx context.Context, env *attest.Envelope, index uint64) ([]Entry, error) {
	seen := map[uint64]bool{}
	if err := p.walk(ctx, env, index, seen); err != nil {
		return nil, err
	}
	var out []Entry
	for _, i := range slices.Sorted(maps.Keys(seen)) {
		ev, err := p.b.event(ctx, i)
		if err != nil {
			return nil, err
		}
		proof, err := p.evidenceProof(ctx, i)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Index: i, Leaf: ev.leaf, Proof: proof})
	}
	return out, nil
}

func (p *Prover) walk(ctx context.Context, env *attest.Envelope, index uint64, seen map[uint64]bool) error {
	for _, sig := range env.Signatures {
		added, err := p.b.keyAdded(env.Statement, sig.KeyID)
		if err != nil {
			return err
		}
		if added >= index || seen[added] {
			continue // the entry introduces this key itself
		}
		seen[added] = true
		ev, err := p.b.event(ctx, added)
		if err != nil {
			return err
		}
		if err := p.walk(ctx, ev.env, added, seen); err != nil {
			return err
		}
	}
	return nil
}

// evidenceProof returns the inclusion proof of evidence entry index in
// the Prover's tree, proven once per tree size.
func (p *Prover) evidenceProof(ctx context.Context, index uint64) ([]verify.Hash, error) {
	k := [2]uint64{index, p.size}
	p.b.mu.Lock()
	h, ok := p.b.proofs[k]
	p.b.mu.Unlock()
	if ok {
		return h, nil
	}
	proof, err := p.prove(ctx, index)
	if err != nil {
		return nil, err
	}
	p.b.mu.Lock()
	remember(&p.b.proofs, k, proof, maxRemembered)
	p.b.mu.Unlock()
	return proof, nil
}

// keyAdded returns the index of the event that introduced keyid, a key of
// the statement's signatory or of the registrar.
func (b *Builder) keyAdded(st *attest.Statement, keyid string) (uint64, error) {
	cacheKey := st.Signatory() + "/" + keyid
	if i, ok := b.added.Load(cacheKey); ok {
		return i.(uint64), nil
	}
	for _, owner := range []string{st.Signatory(), attest.RegistrarID} {
		if i, ok := b.src.KeyAdded(owner, keyid); ok {
			b.added.Store(cacheKey, i) // never changes, even on revocation
			return i, nil
		}
	}
	return 0, fmt.Errorf("key %s of a logged entry is not in the registry", keyid)
}

// event returns the registry event at index, read and parsed once:
// entries are immutable, and registry events are few.
func (b *Builder) event(ctx context.Context, index uint64) (*event, error) {
	if ev, ok := b.events.Load(index); ok {
		return ev.(*event), nil
	}
	leaf, err := b.src.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return nil, fmt.Errorf("stored entry %d: %w", index, err)
	}
	ev := &event{leaf: bytes.Clone(leaf), env: env} // not to pin a larger array of src's
	b.events.Store(index, ev)
	return ev, nil
}

// A MapSource is a Source that also proves the registry map, as a
// Builder's source must for v2 bundles (Prover.BundleV2). What it returns
// need not be trusted either: every bundle is checked.
type MapSource interface {
	Source
	// PublicKey returns the key keyid of owner, revoked or not.
	PublicKey(owner, keyid string) (attest.PublicKey, bool)
	// ProveMap returns label's encoded value in the registry map as of
	// log size size (nil if absent), the map's root then, and a proof
	// (attest.MapTracker.Prove); attest.ErrMapBusy if it cannot prove at
	// that size (any more, or yet).
	ProveMap(ctx context.Context, size uint64, label [32]byte) ([]byte, [32]byte, attest.MapProof, error)
}

// BundleV2 returns the checked v2 bundle of the entry at index, its map
// proofs at the Prover's checkpoint: the leaves of the key that
// authorised the entry, of its owner and, for a pledge, of the accord. v
// is as for Bundle. The Builder's Source must be a MapSource; an error
// wrapping attest.ErrMapBusy means the map cannot be proven at this
// checkpoint: prove against a later one.
func (p *Prover) BundleV2(ctx context.Context, index uint64, v *Verified) (*Bundle, error) {
	src, ok := p.b.src.(MapSource)
	if !ok {
		return nil, errors.New("bundle: the Builder's source proves no map")
	}
	e, env, err := p.entryOf(ctx, index, v)
	if err != nil {
		return nil, err
	}
	m, err := p.b.signer(env, index, src)
	if err != nil {
		return nil, err
	}
	prove := func(l *MapLeafProof, label [32]byte, what string) error {
		value, _, proof, err := src.ProveMap(ctx, p.size, label)
		if err != nil {
			return fmt.Errorf("proving %s in the map at size %d: %w", what, p.size, err)
		}
		if value == nil {
			return fmt.Errorf("%s is not in the map at size %d", what, p.size)
		}
		*l = MapLeafProof{Value: value, Proof: proof}
		return nil
	}
	if err := prove(&m.Principal, attest.MapLabel(attest.MapPrincipal, m.Owner), "principal "+m.Owner); err != nil {
		return nil, err
	}
	if err := prove(&m.Key, attest.MapLabel(attest.MapKey, m.Owner, m.Signer.ID()), "key "+m.Signer.ID()); err != nil {
		return nil, err
	}
	if pl, ok := env.Statement.Predicate.(*attest.Pledge); ok {
		m.Accord = &MapLeafProof{}
		if err := prove(m.Accord, attest.MapLabel(attest.MapAccord, pl.Accord), "accord "+pl.Accord); err != nil {
			return nil, err
		}
	}
	b := &Bundle{Entry: e, Checkpoint: p.checkpoint, Map: m}
	if _, err := p.b.check.Check(b, v); err != nil {
		return nil, fmt.Errorf("self-check of the v2 bundle of entry %d: %w", index, err)
	}
	return b, nil
}

// signer returns the key that authorised env (at index) and its owner:
// of its signatures, the one not by the key the entry introduces (the
// genesis: by that key).
func (b *Builder) signer(env *attest.Envelope, index uint64, src MapSource) (*MapEvidence, error) {
	st := env.Statement
	_, action, newKey := introduced(st)
	for _, sig := range env.Signatures {
		if newKey != nil && sig.KeyID == newKey.ID() && action != "genesis" {
			continue
		}
		for _, owner := range []string{st.Signatory(), attest.RegistrarID} {
			if !mayAuthorise(st, owner) && action != "genesis" {
				continue
			}
			added, ok := src.KeyAdded(owner, sig.KeyID)
			if !ok || added >= index && action != "genesis" {
				continue
			}
			pub, ok := src.PublicKey(owner, sig.KeyID)
			if !ok {
				return nil, fmt.Errorf("key %s of %s is in the registry without its public key", sig.KeyID, owner)
			}
			return &MapEvidence{Owner: owner, Signer: pub}, nil
		}
	}
	return nil, fmt.Errorf("no signature of entry %d is by a key of the registry that may authorise it", index)
}
