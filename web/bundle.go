package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
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

func (b bundleSource) PublicKey(owner, keyid string) (attest.PublicKey, bool) {
	k, err := b.s.reg.Key(owner, keyid)
	return attest.PublicKey{Type: k.Type, SPKI: k.SPKI}, err == nil
}

func (b bundleSource) ProveMap(ctx context.Context, size uint64, label [32]byte) ([]byte, [32]byte, attest.MapProof, error) {
	return b.s.alog.ProveMap(ctx, size, label)
}

// wantsV1 reports whether r asks for a v1 bundle: its Accept header names
// the v1 media type and not v2. Every other request gets a v2 bundle.
func wantsV1(r *http.Request) bool {
	v1, v2 := false, false
	for _, h := range r.Header.Values(echo.HeaderAccept) {
		for _, part := range strings.Split(h, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			v1 = v1 || err == nil && mt == bundle.MediaType
			v2 = v2 || err == nil && mt == bundle.MediaTypeV2
		}
	}
	return v1 && !v2
}

// proofBundle builds the bundle of the entry at index against state's
// checkpoint, in the version r asks for (wantsV1), and returns it with
// its media type. A v2 bundle's map proofs are at exactly that
// checkpoint; if the map cannot prove there any more (the log moved on
// more than attest.MapVersions checkpoints since), latest, if not nil,
// gives a later state to build it against instead, whose checkpoint
// includes the entry too; without it, the error is a 503 map-unavailable.
func (s *Server) proofBundle(r *http.Request, state *log.State, index uint64, v *bundle.Verified, latest func() *log.State) (*bundle.Bundle, error) {
	ctx := r.Context()
	for wait := time.Millisecond; ; wait *= 2 {
		p, err := s.prover(state)
		if err != nil {
			return nil, err
		}
		if wantsV1(r) {
			return p.Bundle(ctx, index, v)
		}
		b, err := p.BundleV2(ctx, index, v)
		switch {
		case !errors.Is(err, attest.ErrMapBusy):
			return b, err
		case latest == nil || wait > 64*time.Millisecond:
			return nil, problemf(kindMapUnavailable, "the registry map cannot be proven at the checkpoint of size "+
				strconv.FormatUint(state.Size, 10)+" (any more); ask again")
		}
		state = latest()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}
