package web

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// The server's bundles are built and checked by verify/bundle's Builder
// (bundle.Builder, bundle.Checker.Check); this file gives it the server's
// log and policy.

// maxNodes bounds the server's node cache (verify.NodeCache).
const maxNodes = 1 << 15

// bundling is the server's bundle builder and the node cache its proofs
// go through. New sets nodes.
type bundling struct {
	nodes   *verify.NodeCache
	builder atomic.Pointer[bundle.Builder] // set once the genesis is known
}

// prover returns a prover of bundles against state's checkpoint.
func (s *Server) prover(state *log.State) (*bundle.Prover, error) {
	b, err := s.builder()
	if err != nil {
		return nil, err
	}
	return b.Prover(state.Checkpoint)
}

// builder returns the server's bundle builder, made once the log has its
// genesis, whose key is in the builder's policy and never changes.
func (s *Server) builder() (*bundle.Builder, error) {
	if b := s.build.builder.Load(); b != nil {
		return b, nil
	}
	p, err := s.selfPolicy()
	if err != nil {
		return nil, err
	}
	b := bundle.NewBuilder(bundleSource{s}, s.build.nodes, p)
	if len(p.RegistrarKeys) > 0 && !s.build.builder.CompareAndSwap(nil, b) {
		return s.build.builder.Load(), nil
	}
	return b, nil
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

// verified is sub as the bundle builder takes it if the request appended
// it (not a duplicate): attestlog.Submit verified it before the append.
func verified(sub attestlog.Submission, duplicate bool) *bundle.Verified {
	if duplicate {
		return nil
	}
	return &bundle.Verified{Leaf: sub.Leaf, Envelope: sub.Envelope}
}

// bundleSource is the server's log as the bundle builder reads it:
// entries from the bundle cache, tiles from the log, keys from the
// registry.
type bundleSource struct{ s *Server }

func (b bundleSource) Entry(ctx context.Context, index uint64) ([]byte, error) {
	return b.s.entry(ctx, index)
}

func (b bundleSource) ReadTile(ctx context.Context, t verify.Tile) ([]byte, error) {
	return b.s.log.ReadTile(ctx, t)
}

func (b bundleSource) KeyAdded(owner, keyid string) (uint64, bool) {
	k, err := b.s.reg.Key(owner, keyid)
	return k.Added, err == nil
}
