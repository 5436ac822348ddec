package attest

import (
	"crypto"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// A Registry is the state that registry events build: the registrar key,
// each signatory's chain head and key history, the accords, and the
// pledges with the latest one per (signatory, accord, principle).
//
// Concurrency: one goroutine (the log's sequencer) mutates a Registry
// through Admit, the undo functions Admit returns, Replay, RestorePledge
// and Close; any number of goroutines may read it concurrently through
// Verify, Key, Version and the read models. A sync.RWMutex guards every
// field; readers copy what they return, and signatures are verified outside
// the lock with immutable verifiers. The pledge store is read under the
// read lock (an on-disk one with ReadAt) and written under the write lock.
type Registry struct {
	origin string

	mu         sync.RWMutex
	principals map[string]*principal // signatories, and the registrar under RegistrarID
	keys       map[string]*keyState  // every key ever added, by key id
	keyList    []*keyState           // the same keys, by keyState.ord
	accords    map[string]*accordState
	cells      map[cell]*cellState // every cell that has had a pledge
	cellList   []*cellState        // the same cells, by cellState.ord
	store      pledgeStore         // a record of every pledge, in index order
	failed     error               // an ErrStore: every later check fails with it
	pending    map[uint64][]Row    // rows computed by Admit, handed out by Index
	version    atomic.Uint64       // bumped whenever key validity may have changed; never goes back
	mapDirty   map[mapKey]struct{} // leaves of the map touched since MapChanges; nil: not tracked (TrackMap)

}

// NewRegistry returns an empty registry for the log named origin. It
// keeps its pledge records in memory, 24 bytes each.
func NewRegistry(origin string) *Registry {
	return &Registry{
		origin:     origin,
		principals: map[string]*principal{},
		keys:       map[string]*keyState{},
		accords:    map[string]*accordState{},
		cells:      map[cell]*cellState{},
		store:      &memStore{},
		pending:    map[uint64][]Row{},
	}
}

// principal is a signatory, or the registrar.
type principal struct {
	info   SignatoryInfo // Keys and Events are rebuilt on read
	keys   []*keyState
	events []Event
	seq    uint64
	head   [32]byte // leaf hash of the last chain event
}

type keyState struct {
	*verifyKey
	ord      uint32 // position in Registry.keyList
	owner    string
	added    uint64
	addedBy  string // key id that authorised the add, or RegistrarID
	revoked  *uint64
	reason   string
	voidFrom *uint64
	children []*keyState // keys whose add-key this key signed
}

func (k *keyState) valid() bool { return k.revoked == nil }

// voidAt reports whether k's signature on the entry at index is void.
func (k *keyState) voidAt(index uint64) bool { return k.voidFrom != nil && index >= *k.voidFrom }

type accordState struct {
	info AccordInfo
}

type cell struct{ signatory, accord, principle string }

type cellState struct {
	cell
	ord    uint32    // position in Registry.cellList
	latest pledgeRef // the pledge with the highest index that is not void
}

// pledgeRef is the latest pledge of a cell: key is nil if it has none.
type pledgeRef struct {
	pos    int // position in Registry.store
	index  uint64
	key    *keyState
	status uint8
}

// KeyInfo describes a key and its history.
type KeyInfo struct {
	ID       string           `json:"keyid"`
	Type     KeyType          `json:"type"`
	SPKI     []byte           `json:"spki"`
	Public   crypto.PublicKey `json:"-"`
	Owner    string           `json:"owner"`
	Added    uint64           `json:"added"`             // index of the event that added it
	AddedBy  string           `json:"addedBy"`           // key id, or "registrar"
	Revoked  *uint64          `json:"revoked,omitempty"` // index of the revocation
	Reason   string           `json:"reason,omitempty"`
	VoidFrom *uint64          `json:"voidFrom,omitempty"` // its signatures from here on are void
}

// Valid reports whether the key may sign new entries.
func (k KeyInfo) Valid() bool { return k.Revoked == nil }

// Event is one link of a principal's registry chain.
type Event struct {
	Index  uint64 `json:"index"`
	Action string `json:"action"`
	KeyID  string `json:"keyid"` // the key added or revoked
}

// SignatoryInfo is the read model of a signatory (or of the registrar,
// with ID RegistrarID): the register event's fields, its chain head, its
// keys and its events.
type SignatoryInfo struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Website    string    `json:"website,omitempty"`
	Notice     string    `json:"notice,omitempty"`
	Registered uint64    `json:"registered"`
	Seq        uint64    `json:"seq"`
	Head       string    `json:"head"` // leaf hash (hex) of the last event: the next prev
	Keys       []KeyInfo `json:"keys"`
	Events     []Event   `json:"events"`
}

// AccordInfo is the read model of an accord.
type AccordInfo struct {
	Accord
	Index  uint64 `json:"index"`
	Digest string `json:"digest"` // SHA-256 of the canonical predicate: pledges' subject digest
}

// LatestPledge is one cell of the latest-pledge matrix.
type LatestPledge struct {
	Signatory string `json:"signatory"`
	Accord    string `json:"accord"`
	Principle string `json:"principle"`
	Index     uint64 `json:"index"`
	Status    string `json:"status"`
}

// Origin returns the log origin the registry checks statements against.
func (r *Registry) Origin() string { return r.origin }

// Version returns a counter that changes whenever a key may have become
// invalid (or an admitted key was undone). Caches of verified session
// tokens compare it and re-check their key when it moved.
// It takes no lock: every authenticated request reads it.
func (r *Registry) Version() uint64 { return r.version.Load() }

// Key returns the key keyid of owner (a signatory id or RegistrarID). It
// fails with ErrUnknownKey if there is no such key and ErrForeignKey if it
// belongs to someone else; a revoked key is returned with Valid() false.
func (r *Registry) Key(owner, keyid string) (KeyInfo, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := r.keys[keyid]
	if k == nil {
		return KeyInfo{}, ErrUnknownKey
	}
	if k.owner != owner {
		return KeyInfo{}, ErrForeignKey
	}
	return k.info(), nil
}

func (k *keyState) info() KeyInfo {
	return KeyInfo{ID: k.id, Type: k.typ, SPKI: k.spki, Public: k.pub, Owner: k.owner, Added: k.added,
		AddedBy: k.addedBy, Revoked: k.revoked, Reason: k.reason, VoidFrom: k.voidFrom}
}

func (p *principal) snapshot() SignatoryInfo {
	s := p.info
	s.Seq, s.Head = p.seq, hex.EncodeToString(p.head[:])
	s.Keys = make([]KeyInfo, len(p.keys))
	for i, k := range p.keys {
		s.Keys[i] = k.info()
	}
	s.Events = slices.Clone(p.events)
	return s
}

// Signatory returns a signatory by id (RegistrarID for the registrar).
func (r *Registry) Signatory(id string) (SignatoryInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p := r.principals[id]
	if p == nil {
		return SignatoryInfo{}, false
	}
	return p.snapshot(), true
}

// Signatories returns every signatory, without the registrar, by id.
func (r *Registry) Signatories() []SignatoryInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []SignatoryInfo
	for id, p := range r.principals {
		if id != RegistrarID {
			out = append(out, p.snapshot())
		}
	}
	slices.SortFunc(out, func(a, b SignatoryInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Accord returns an accord by id.
func (r *Registry) Accord(id string) (AccordInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a := r.accords[id]
	if a == nil {
		return AccordInfo{}, false
	}
	return a.info, true
}

// Accords returns every accord, by id.
func (r *Registry) Accords() []AccordInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []AccordInfo
	for _, a := range r.accords {
		out = append(out, a.info)
	}
	slices.SortFunc(out, func(a, b AccordInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Latest returns the latest pledge of each (signatory, accord, principle)
// cell that has one; signatory "" means every signatory. Sorted by cell.
func (r *Registry) Latest(signatory string) []LatestPledge {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []LatestPledge
	for c, cs := range r.cells {
		if signatory != "" && c.signatory != signatory || cs.latest.key == nil {
			continue
		}
		out = append(out, cs.latestPledge())
	}
	slices.SortFunc(out, func(a, b LatestPledge) int {
		return strings.Compare(a.Signatory+"/"+a.Accord+"/"+a.Principle, b.Signatory+"/"+b.Accord+"/"+b.Principle)
	})
	return out
}

func (cs *cellState) latestPledge() LatestPledge {
	return LatestPledge{cs.signatory, cs.accord, cs.principle, cs.latest.index, statuses[cs.latest.status]}
}
