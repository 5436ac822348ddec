// Package monitor follows a pledgelog log from its tiles and reports what
// happens to the signatories it watches (Poll): new pledges, keys added
// or revoked, recover events, and registrar rotations. It keeps, between
// polls, the last verified checkpoint and the compact range of its tree
// (State): the new entries of each poll are hashed onto that range and
// must lead to the new signed root, which proves both that every new entry
// is authentic and that the log only grew. Otherwise Poll reports an
// inconsistency (ErrInconsistent) and keeps the old state.
//
// A monitor reports what the log says; it does not verify signatures or
// registry rules (an audit does, verify/audit).
package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
	"github.com/transparency-dev/merkle/compact"
)

// ErrInconsistent means the log's new checkpoint does not extend the one
// verified before, or its entries do not lead to its root: a split view,
// a rewritten history, or tampered tiles. Keep the evidence.
var ErrInconsistent = errors.New("log inconsistent with the last verified checkpoint")

// Event types.
const (
	TypePledge        = "pledge"
	TypeRegister      = attest.ActionRegister
	TypeAddKey        = attest.ActionAddKey
	TypeRevokeKey     = attest.ActionRevoke
	TypeRecover       = attest.ActionRecover
	TypeRotate        = "registrar-rotate"
	TypeInconsistency = "inconsistency"
)

// An Event is one thing that happened in the log.
type Event struct {
	Type      string `json:"type"`
	Index     uint64 `json:"index"`
	Size      uint64 `json:"size"` // the size of the checkpoint that proved it
	Signatory string `json:"signatory,omitempty"`
	KeyID     string `json:"keyid,omitempty"`
	Accord    string `json:"accord,omitempty"`
	Principle string `json:"principle,omitempty"`
	Status    string `json:"status,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// A Fetcher reads entry bundles; *client.Client is one.
type Fetcher interface {
	Entries(ctx context.Context, n uint64, width int) ([][]byte, error)
}

// A Config says what to follow.
type Config struct {
	Fetcher Fetcher
	// Open verifies a signed checkpoint with the pinned keys.
	Open func(note []byte) (verify.Checkpoint, error)
	// Signatories are the ids watched; none means every one. Recover
	// events and registrar rotations are reported whatever the filter.
	Signatories []string
}

var rangeFactory = compact.RangeFactory{Hash: func(l, r []byte) []byte {
	h := verify.NodeHash(verify.Hash(l), verify.Hash(r))
	return h[:]
}}

// Poll verifies note, the log's latest checkpoint, against the state of
// the previous poll (nil for the first: the log is followed from its
// first entry) and returns the events of the new entries and the new
// state. A checkpoint smaller than the state's yields no events and the
// old state once it is proven a prefix of it from the tiles the log serves
// (Fetcher must then be a verify.TileReader); a smaller tree the log cannot
// prove a prefix is an ErrInconsistent.
func Poll(ctx context.Context, cfg Config, st *State, note []byte) ([]Event, *State, error) {
	cp, err := cfg.Open(note)
	if err != nil {
		return nil, st, err
	}
	if st == nil {
		st = &State{}
	}
	old, rng, err := st.tree()
	if err != nil {
		return nil, st, err
	}
	if cp.Size == old.Size && cp.Root != old.Root {
		return nil, st, fmt.Errorf("two roots for size %d, %s and %s: %w", cp.Size, old.Root, cp.Root, ErrInconsistent)
	}
	if cp.Size < old.Size {
		return nil, st, cfg.prefix(ctx, cp, old)
	}
	if cp.Size == old.Size {
		return nil, st, nil
	}
	events, err := follow(ctx, cfg, rng, cp)
	if err != nil {
		return nil, st, err
	}
	return events, &State{Checkpoint: note, Range: hashes(rng), Keys: cfg.track(st.Keys, events)}, nil
}

// track returns keys updated with the registry events of the watched
// signatories among events; nothing when every signatory is watched.
func (cfg Config) track(keys []Key, events []Event) []Key {
	if len(cfg.Signatories) == 0 {
		return nil
	}
	out := slices.Clone(keys)
	for _, e := range events {
		if !cfg.watched(e.Signatory) || e.KeyID == "" {
			continue
		}
		switch e.Type {
		case TypeRegister, TypeAddKey, TypeRecover:
			out = append(out, Key{Signatory: e.Signatory, KeyID: e.KeyID, Added: e.Index})
		case TypeRevokeKey:
			for i := range out {
				if out[i].Signatory == e.Signatory && out[i].KeyID == e.KeyID && out[i].Revoked == nil {
					index := e.Index
					out[i].Revoked = &index
				}
			}
		}
	}
	return out
}

// prefix proves that cp, smaller than the state's tree old, is a prefix of
// it, from the tiles of the log that served cp: a log must serve the tiles
// of every tree it signed, so a tile it answers 404 for is an
// inconsistency, as is a proof that fails; a failed fetch is only that.
func (cfg Config) prefix(ctx context.Context, cp, old verify.Checkpoint) error {
	tiles, ok := cfg.Fetcher.(verify.TileReader)
	if !ok {
		return fmt.Errorf("size %d, behind %d, and no tiles to prove it a prefix: %w", cp.Size, old.Size, ErrInconsistent)
	}
	proof, err := verify.ProveConsistency(ctx, tiles, cp.Size, old.Size)
	if errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("size %d, behind %d, and the log has not the tiles to prove it a prefix: %v: %w", cp.Size, old.Size, err, ErrInconsistent)
	}
	if err != nil {
		return err
	}
	if err := verify.Consistency(cp.Size, old.Size, proof, cp.Root, old.Root); err != nil {
		return fmt.Errorf("size %d is not a prefix of the %d verified before: %v: %w", cp.Size, old.Size, err, ErrInconsistent)
	}
	return nil
}

// follow fetches the entries of cp beyond rng, hashes them onto it and
// checks the root, and returns their events.
func follow(ctx context.Context, cfg Config, rng *compact.Range, cp verify.Checkpoint) ([]Event, error) {
	var events []Event
	for next := rng.End(); next < cp.Size; {
		t := verify.TileForIndex(verify.EntriesLevel, next, cp.Size)
		entries, err := cfg.Fetcher.Entries(ctx, t.N, t.Width)
		if err != nil {
			return nil, err
		}
		for i := next % verify.TileWidth; i < uint64(len(entries)); i++ {
			h := verify.LeafHash(entries[i])
			if err := rng.Append(h[:], nil); err != nil {
				return nil, err
			}
			events = append(events, cfg.events(next, cp.Size, entries[i])...)
			next++
		}
	}
	root, err := rng.GetRootHash(nil)
	if err != nil || verify.Hash(root) != cp.Root {
		return nil, fmt.Errorf("entries up to %d do not lead to the signed root %s: %w", cp.Size, cp.Root, ErrInconsistent)
	}
	return events, nil
}

// events returns the events of one entry.
func (cfg Config) events(index, size uint64, leaf []byte) []Event {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return nil
	}
	e := Event{Index: index, Size: size}
	switch p := env.Statement.Predicate.(type) {
	case *attest.Registrar:
		if p.Action != "rotate" {
			return nil
		}
		e.Type, e.KeyID = TypeRotate, p.Key.ID()
	case *attest.SignatoryEvent:
		if !cfg.watched(p.Signatory) && p.Action != attest.ActionRecover {
			return nil
		}
		e.Type, e.Signatory, e.KeyID, e.Reason = p.Action, p.Signatory, p.KeyID, p.Reason
		if p.Key != nil {
			e.KeyID = p.Key.ID()
		}
	case *attest.Pledge:
		if !cfg.watched(p.Signatory) {
			return nil
		}
		e.Type, e.Signatory, e.Accord, e.Principle, e.Status = TypePledge, p.Signatory, p.Accord, p.Principle, p.Status
		e.KeyID = env.Signatures[0].KeyID
	default:
		return nil
	}
	return []Event{e}
}

func (cfg Config) watched(id string) bool {
	return len(cfg.Signatories) == 0 || slices.Contains(cfg.Signatories, id)
}

func hashes(rng *compact.Range) []verify.Hash {
	var out []verify.Hash
	for _, h := range rng.Hashes() {
		out = append(out, verify.Hash(h))
	}
	return out
}
