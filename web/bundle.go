package web

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	p, err := s.selfPolicy()
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

// bundle returns the self-checked proof bundle of the entry at index.
func (p *prover) bundle(index uint64) (*bundle.Bundle, error) {
	e, env, err := p.entry(index)
	if err != nil {
		return nil, err
	}
	b := &bundle.Bundle{Entry: e, Checkpoint: p.state.Checkpoint}
	if b.Evidence, err = p.evidence(env, index); err != nil {
		return nil, err
	}
	if _, err := bundle.Verify(b, p.policy); err != nil {
		return nil, fmt.Errorf("self-check of the bundle of entry %d: %w", index, err)
	}
	return b, nil
}

// entry returns the entry at index with its inclusion proof, and its
// parsed envelope.
func (p *prover) entry(index uint64) (bundle.Entry, *attest.Envelope, error) {
	p.mu.Lock()
	e, ok := p.entries[index]
	p.mu.Unlock()
	if !ok {
		leaf, err := p.s.log.Entry(p.ctx, index)
		if err != nil {
			return e, nil, err
		}
		proof, err := p.s.log.InclusionProof(p.ctx, index, p.state.Size)
		if err != nil {
			return e, nil, err
		}
		e = bundle.Entry{Index: index, Leaf: leaf, Proof: proof.Hashes}
		p.mu.Lock()
		p.entries[index] = e
		p.mu.Unlock()
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
		e, _, err := p.entry(i)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
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
		_, ev, err := p.entry(added)
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
	for _, owner := range []string{st.Signatory(), attest.RegistrarID} {
		if k, err := p.s.reg.Key(owner, keyid); err == nil {
			return k.Added, nil
		}
	}
	return 0, fmt.Errorf("key %s of a logged entry is not in the registry", keyid)
}
