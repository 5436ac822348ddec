package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"filippo.io/torchwood/prefix"
)

// The registry map (issue 15) is a compressed binary Merkle prefix tree
// of the registry's state, whose root each checkpoint commits to. It is
// a pure function of the log's entries: the state that replaying them
// builds, whatever the order of the updates that built it. Its leaves,
// each a 32-byte label and a 32-byte value, are:
//
//   - a principal (a signatory, or the registrar): when it registered,
//     its chain's seq and head, and how many keys it has had;
//   - a key of a principal: the indexes from which it was valid, revoked
//     and void;
//   - an accord: the index of its entry and the digest of its predicate;
//   - a cell (signatory, accord, principle) that has had a pledge: the
//     index and status of its latest pledge that is not void.
//
// A leaf is never removed: a revoked key or a cell whose every pledge was
// voided stays, with its new state. docs/formats.md specifies the
// encodings; the tree is that of filippo.io/torchwood's prefix package,
// AKD's (whatsapp_v1, NodeHashingMode::NoLeafEpoch) with SHA-256 in place
// of BLAKE3.

// The kinds of map leaves: the first byte of a label's preimage and of a
// value.
const (
	MapPrincipal byte = 1
	MapKey       byte = 2
	MapAccord    byte = 3
	MapCell      byte = 4
)

// MapNone stands for an index a value does not have (a key not revoked,
// a cell without a pledge that is not void).
const MapNone = math.MaxUint64

const (
	mapLabelDomain = "pledgelog/map/v1/label\x00"
	mapValueDomain = "pledgelog/map/v1/value\x00"
)

// MapHash is the hash of the map's tree: SHA-256.
func MapHash(b []byte) [32]byte { return sha256.Sum256(b) }

// MapLabel returns the label of a map leaf: SHA-256 of the domain
// "pledgelog/map/v1/label" and a zero byte, the kind, and each part with
// its length as two bytes, big-endian. The parts are: a principal's id;
// a key's owner and key id; an accord's id; a cell's signatory, accord
// and principle.
func MapLabel(kind byte, parts ...string) [32]byte {
	b := make([]byte, 0, 64)
	b = append(b, mapLabelDomain...)
	b = append(b, kind)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return sha256.Sum256(b)
}

// MapLeafValue returns the 32-byte value the tree holds for a leaf whose
// label is label and whose encoded value is value: SHA-256 of the domain
// "pledgelog/map/v1/value" and a zero byte, the label, and the value.
func MapLeafValue(label [32]byte, value []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(mapValueDomain))
	h.Write(label[:])
	h.Write(value)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// A MapLeaf is a leaf of the registry map: its label and its encoded
// value (docs/formats.md, "The registry map").
type MapLeaf struct {
	Label [32]byte
	Value []byte
}

// MapPrincipalValue encodes a principal's state: kind 1, the index of its
// genesis or register event, its chain's seq, its chain head (the leaf
// hash of its last event), and the number of keys it has had (4 bytes).
func MapPrincipalValue(registered, seq uint64, head [32]byte, keys int) []byte {
	b := []byte{MapPrincipal}
	b = binary.BigEndian.AppendUint64(b, registered)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, head[:]...)
	return binary.BigEndian.AppendUint32(b, uint32(keys))
}

// MapKeyValue encodes a key's state: kind 2, the index of the event that
// added it, of the one that revoked it, and the first index from which
// its signatures are void, each MapNone if it has none.
func MapKeyValue(added uint64, revoked, voidFrom *uint64) []byte {
	b := []byte{MapKey}
	b = binary.BigEndian.AppendUint64(b, added)
	b = binary.BigEndian.AppendUint64(b, orNone(revoked))
	return binary.BigEndian.AppendUint64(b, orNone(voidFrom))
}

// MapAccordValue encodes an accord: kind 3, the index of its entry and
// the SHA-256 digest of its canonical predicate.
func MapAccordValue(index uint64, digest [32]byte) []byte {
	b := []byte{MapAccord}
	b = binary.BigEndian.AppendUint64(b, index)
	return append(b, digest[:]...)
}

// MapCellValue encodes a cell: kind 4, the index of its latest pledge
// that is not void (MapNone if none) and that pledge's status, a byte:
// 1 committed, 2 reaffirmed, 3 in-progress, 4 withdrawn, 0 for none.
func MapCellValue(index uint64, status string) []byte {
	b := []byte{MapCell}
	b = binary.BigEndian.AppendUint64(b, index)
	code := byte(0)
	if c, ok := statusCode(status); ok && index != MapNone {
		code = c + 1
	}
	return append(b, code)
}

// ErrMapValue is returned for an encoded map value that is not one of
// the encodings above.
var ErrMapValue = errors.New("attest: malformed map value")

// MapPrincipalState is a principal's leaf, decoded (MapPrincipalValue).
type MapPrincipalState struct {
	Registered uint64   // the index of its genesis or register event
	Seq        uint64   // its chain's seq
	Head       [32]byte // the leaf hash of its last event
	Keys       uint32   // how many keys it has had
}

// MapKeyState is a key's leaf, decoded (MapKeyValue): nil for an index
// the key does not have.
type MapKeyState struct {
	Added    uint64
	Revoked  *uint64
	VoidFrom *uint64
}

// MapAccordState is an accord's leaf, decoded (MapAccordValue).
type MapAccordState struct {
	Index  uint64
	Digest [32]byte
}

// MapCellState is a cell's leaf, decoded (MapCellValue): Index nil and
// Status empty when every pledge of the cell is void.
type MapCellState struct {
	Index  *uint64
	Status string
}

// ParseMapPrincipalValue decodes a principal's value.
func ParseMapPrincipalValue(b []byte) (MapPrincipalState, error) {
	if len(b) != 1+8+8+32+4 || b[0] != MapPrincipal {
		return MapPrincipalState{}, fmt.Errorf("%w: not a principal's value of 53 bytes", ErrMapValue)
	}
	s := MapPrincipalState{Registered: binary.BigEndian.Uint64(b[1:]), Seq: binary.BigEndian.Uint64(b[9:]),
		Keys: binary.BigEndian.Uint32(b[49:])}
	copy(s.Head[:], b[17:49])
	return s, nil
}

// ParseMapKeyValue decodes a key's value.
func ParseMapKeyValue(b []byte) (MapKeyState, error) {
	if len(b) != 1+3*8 || b[0] != MapKey {
		return MapKeyState{}, fmt.Errorf("%w: not a key's value of 25 bytes", ErrMapValue)
	}
	s := MapKeyState{Added: binary.BigEndian.Uint64(b[1:]), Revoked: orNil(binary.BigEndian.Uint64(b[9:])),
		VoidFrom: orNil(binary.BigEndian.Uint64(b[17:]))}
	if s.Added == MapNone {
		return MapKeyState{}, fmt.Errorf("%w: a key's value without the index that added it", ErrMapValue)
	}
	return s, nil
}

// ParseMapAccordValue decodes an accord's value.
func ParseMapAccordValue(b []byte) (MapAccordState, error) {
	if len(b) != 1+8+32 || b[0] != MapAccord {
		return MapAccordState{}, fmt.Errorf("%w: not an accord's value of 41 bytes", ErrMapValue)
	}
	s := MapAccordState{Index: binary.BigEndian.Uint64(b[1:])}
	copy(s.Digest[:], b[9:])
	return s, nil
}

// ParseMapCellValue decodes a cell's value.
func ParseMapCellValue(b []byte) (MapCellState, error) {
	if len(b) != 1+8+1 || b[0] != MapCell {
		return MapCellState{}, fmt.Errorf("%w: not a cell's value of 10 bytes", ErrMapValue)
	}
	index, code := binary.BigEndian.Uint64(b[1:]), b[9]
	switch {
	case index == MapNone && code == 0:
		return MapCellState{}, nil
	case index != MapNone && code >= 1 && int(code) <= len(statuses):
		return MapCellState{Index: &index, Status: statuses[code-1]}, nil
	}
	return MapCellState{}, fmt.Errorf("%w: a cell's index and status code %d disagree", ErrMapValue, code)
}

func orNil(v uint64) *uint64 {
	if v == MapNone {
		return nil
	}
	return &v
}

func orNone(p *uint64) uint64 {
	if p == nil {
		return MapNone
	}
	return *p
}

// mapKey names a leaf of the map in the registry's terms.
type mapKey struct {
	kind    byte
	a, b, c string
}

func (k mapKey) label() [32]byte {
	switch k.kind {
	case MapPrincipal, MapAccord:
		return MapLabel(k.kind, k.a)
	case MapKey:
		return MapLabel(k.kind, k.a, k.b)
	default:
		return MapLabel(k.kind, k.a, k.b, k.c)
	}
}

// TrackMap makes the registry record which leaves of the map its changes
// touch, for MapChanges. Call it once the registry holds the state the
// map was last updated to (after loading it at start).
func (r *Registry) TrackMap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mapDirty = map[mapKey]struct{}{}
}

// mark records that leaf k may have changed. The caller holds r.mu.
// Marks are not undone: MapChanges reads the state as it is then.
func (r *Registry) mark(kind byte, a, b, c string) {
	if r.mapDirty != nil {
		r.mapDirty[mapKey{kind, a, b, c}] = struct{}{}
	}
}

// MapChanges returns the leaves that changed since the last call (or
// since TrackMap), each with its value as of now, by label; a leaf
// touched by an entry that was undone since is returned with its value
// as of now, or not at all if it no longer exists.
func (r *Registry) MapChanges() []MapLeaf {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]MapLeaf, 0, len(r.mapDirty))
	for k := range r.mapDirty {
		if v := r.mapValue(k); v != nil {
			out = append(out, MapLeaf{k.label(), v})
		}
	}
	if r.mapDirty != nil {
		clear(r.mapDirty)
	}
	sortLeaves(out)
	return out
}

// MapLeaves returns every leaf of the map as of now, by label.
func (r *Registry) MapLeaves() []MapLeaf {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []MapLeaf
	add := func(k mapKey) { out = append(out, MapLeaf{k.label(), r.mapValue(k)}) }
	for id, p := range r.principals {
		add(mapKey{kind: MapPrincipal, a: id})
		for _, k := range p.keys {
			add(mapKey{kind: MapKey, a: id, b: k.id})
		}
	}
	for id := range r.accords {
		add(mapKey{kind: MapAccord, a: id})
	}
	for c := range r.cells {
		add(mapKey{MapCell, c.signatory, c.accord, c.principle})
	}
	sortLeaves(out)
	return out
}

func sortLeaves(l []MapLeaf) {
	slices.SortFunc(l, func(a, b MapLeaf) int { return bytes.Compare(a.Label[:], b.Label[:]) })
}

// mapValue is the encoded value of leaf k, or nil if the registry has no
// such thing. The caller holds r.mu.
func (r *Registry) mapValue(k mapKey) []byte {
	switch k.kind {
	case MapPrincipal:
		if p := r.principals[k.a]; p != nil {
			return MapPrincipalValue(p.info.Registered, p.seq, p.head, len(p.keys))
		}
	case MapKey:
		if ks := r.keys[k.b]; ks != nil && ks.owner == k.a {
			return MapKeyValue(ks.added, ks.revoked, ks.voidFrom)
		}
	case MapAccord:
		if a := r.accords[k.a]; a != nil {
			var d [32]byte
			hex.Decode(d[:], []byte(a.info.Digest))
			return MapAccordValue(a.info.Index, d)
		}
	case MapCell:
		if cs := r.cells[cell{k.a, k.b, k.c}]; cs != nil {
			if cs.latest.key == nil {
				return MapCellValue(MapNone, "")
			}
			return MapCellValue(cs.latest.index, statuses[cs.latest.status])
		}
	}
	return nil
}

// A Map is the registry map's tree over a prefix.Storage: the server's
// rows, or memory for an auditor.
type Map struct {
	st   prefix.Storage
	tree *prefix.Tree
}

// ErrMapProof is returned for a map proof that does not prove what it
// is checked for.
var ErrMapProof = errors.New("attest: map proof does not verify")

// NewMap returns the map held in st, initialising st to the empty map if
// it holds no root.
func NewMap(ctx context.Context, st prefix.Storage) (*Map, error) {
	if _, err := st.Load(ctx, prefix.RootLabel); errors.Is(err, prefix.ErrNodeNotFound) {
		if err := prefix.InitStorage(ctx, MapHash, st); err != nil {
			return nil, fmt.Errorf("map: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("map: loading the root: %w", err)
	}
	return &Map{st: st, tree: prefix.NewTree(MapHash, st)}, nil
}

// Root returns the map's root hash.
func (m *Map) Root(ctx context.Context) ([32]byte, error) { return m.tree.RootHash(ctx) }

// Update sets each leaf to its value (inserting those that are new):
// O(log n) hashes and node loads a leaf.
func (m *Map) Update(ctx context.Context, leaves []MapLeaf) error {
	for _, l := range leaves {
		if err := m.tree.Insert(ctx, l.Label, MapLeafValue(l.Label, l.Value)); err != nil {
			return fmt.Errorf("map: updating %x: %w", l.Label[:8], err)
		}
	}
	return nil
}

// A MapProof proves that a label is in the map with a value, or is not
// in it: the sibling nodes from the leaf's (or from where it would be)
// up to the root's child (prefix.Tree.Lookup).
type MapProof []prefix.ProofNode

// Prove returns whether label is in the map and a proof of it.
func (m *Map) Prove(ctx context.Context, label [32]byte) (bool, MapProof, error) {
	found, p, err := m.tree.Lookup(ctx, label)
	if err != nil {
		return false, nil, err
	}
	// torchwood v0.9.0 leaves out the empty sibling when label falls on
	// the empty side of a root with one child: the proof is that child
	// alone, which VerifyNonMembershipProof refuses. The empty node is the
	// other child of the longest prefix (the root), as in AKD's proofs.
	if !found && len(p) == 1 && p[0].Label != prefix.EmptyNodeLabel {
		empty, err := m.st.Load(ctx, prefix.EmptyNodeLabel)
		if err != nil {
			return false, nil, fmt.Errorf("map: loading the empty node: %w", err)
		}
		p = append(p, prefix.ProofNode{Label: empty.Label, Hash: empty.Hash})
	}
	return found, p, nil
}

// VerifyMapProof checks proof against root: that label is in the map with
// the encoded value, or, for a nil value, that it is not in the map.
func VerifyMapProof(root, label [32]byte, value []byte, proof MapProof) error {
	var err error
	if value == nil {
		err = prefix.VerifyNonMembershipProof(MapHash, label, proof, root)
	} else {
		err = prefix.VerifyMembershipProof(MapHash, label, MapLeafValue(label, value), proof, root)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMapProof, err)
	}
	return nil
}

// MapRoot returns the root of a map of exactly leaves, built in memory:
// what an auditor recomputes.
func MapRoot(ctx context.Context, leaves []MapLeaf) ([32]byte, error) {
	m, err := NewMap(ctx, prefix.NewMemoryStorage())
	if err != nil {
		return [32]byte{}, err
	}
	if err := m.Update(ctx, leaves); err != nil {
		return [32]byte{}, err
	}
	return m.Root(ctx)
}

// MapExtensionPrefix starts the checkpoint extension line that commits to
// the registry map: "pledgelog/map/v1 " and the map's root hash in
// standard base64. The log's checkpoint at size N carries the root of the
// map of the registry that its first N entries build.
const MapExtensionPrefix = "pledgelog/map/v1 "

// ErrMapExtension is returned for a checkpoint whose map extension lines
// are malformed or more than one.
var ErrMapExtension = errors.New("attest: malformed map extension line")

// MapExtension returns the checkpoint extension line committing to root.
func MapExtension(root [32]byte) string {
	return MapExtensionPrefix + base64.StdEncoding.EncodeToString(root[:])
}

// ParseMapExtension finds the map root among a checkpoint's extension
// lines. ok is false if none is a map line (a checkpoint signed before
// the log committed to its map); lines of other extensions are ignored.
func ParseMapExtension(extensions []string) (root [32]byte, ok bool, err error) {
	for _, ext := range extensions {
		b64, isMap := strings.CutPrefix(ext, MapExtensionPrefix)
		if !isMap {
			continue
		}
		if ok {
			return [32]byte{}, false, fmt.Errorf("%w: more than one", ErrMapExtension)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(b) != 32 || base64.StdEncoding.EncodeToString(b) != b64 {
			return [32]byte{}, false, fmt.Errorf("%w: %q", ErrMapExtension, ext)
		}
		root, ok = [32]byte(b), true
	}
	return root, ok, nil
}

// MapTracker keeps the map of a registry that changes, for a log that
// commits to it at every checkpoint: Root brings the map up to the
// registry's state and returns its root. The first Root builds the map
// from every leaf; later ones apply the leaves changed since
// (Registry.MapChanges), O(log n) hashes each. Invalidate, after the
// registry undid entries, makes the next Root rebuild the map, since a
// leaf is never removed from the tree. Root and Invalidate are called by
// the log's sequencer; Prove may be called concurrently with them.
//
// Prove answers at the latest size and at the MapVersions sizes before
// it: each Root keeps what it overwrote (the nodes and values as they
// were), so that a bundle can be proven at a checkpoint that is not the
// latest (a submission's, once later batches committed; the published
// one, behind the latest while witnesses cosign). Proving at the latest
// size reads the map as it is; at an older size, through the records of
// the updates since.
type MapTracker struct {
	reg *Registry

	mu       sync.Mutex
	st       *recordingStorage
	m        *Map
	values   map[[32]byte][]byte // the encoded value of every leaf in m
	versions []mapVersion        // oldest first; the last is the latest Root's
	stale    bool
}

// MapVersions is how many sizes before the latest MapTracker.Prove
// answers at, at most: fewer if their records would hold more than
// maxRecordedNodes nodes.
const MapVersions = 64

// maxRecordedNodes bounds the nodes a MapTracker keeps for past sizes
// (some 64 MiB of map entries).
const maxRecordedNodes = 1 << 20

// mapVersion is the map at one log size, and what the update after it
// overwrote: each node and value as it was at size (nil: absent), empty
// for the latest.
type mapVersion struct {
	size   uint64
	root   [32]byte
	nodes  map[prefix.Label]*prefix.Node
	values map[[32]byte][]byte
}

// recordingStorage is a prefix.Storage in memory that, while rec is set,
// records in it the node each Store replaces (nil for a new label), the
// first time it replaces it.
type recordingStorage struct {
	nodes map[prefix.Label]*prefix.Node
	rec   map[prefix.Label]*prefix.Node
}

func (s *recordingStorage) Load(_ context.Context, l prefix.Label) (*prefix.Node, error) {
	if n, ok := s.nodes[l]; ok {
		return n, nil
	}
	return nil, prefix.ErrNodeNotFound
}

func (s *recordingStorage) Store(_ context.Context, nodes ...*prefix.Node) error {
	for _, n := range nodes {
		if s.rec != nil {
			if _, done := s.rec[n.Label]; !done {
				s.rec[n.Label] = s.nodes[n.Label]
			}
		}
		s.nodes[n.Label] = n
	}
	return nil
}

// pastStorage is the map as of versions[0]: a node is the first record
// of it in versions (the one of the oldest update after), else the
// latest. It is read-only.
type pastStorage struct {
	now      *recordingStorage
	versions []mapVersion
}

func (s pastStorage) Load(ctx context.Context, l prefix.Label) (*prefix.Node, error) {
	for _, v := range s.versions {
		if n, ok := v.nodes[l]; ok {
			if n == nil {
				return nil, prefix.ErrNodeNotFound
			}
			return n, nil
		}
	}
	return s.now.Load(ctx, l)
}

func (s pastStorage) Store(context.Context, ...*prefix.Node) error {
	return errors.New("map: a past version is read-only")
}

// NewMapTracker returns a tracker of reg's map, held in memory.
func NewMapTracker(reg *Registry) *MapTracker { return &MapTracker{reg: reg} }

// Invalidate makes the next Root rebuild the map from every leaf, and
// Prove fail until then.
func (t *MapTracker) Invalidate() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stale = true
}

// Root returns the root of the map of the registry as it is now, which
// the caller says is the registry of the log's first size entries.
func (t *MapTracker) Root(ctx context.Context, size uint64) ([32]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || t.stale {
		st := &recordingStorage{nodes: map[prefix.Label]*prefix.Node{}}
		m, err := NewMap(ctx, st)
		if err != nil {
			return [32]byte{}, err
		}
		t.reg.TrackMap()
		leaves := t.reg.MapLeaves()
		if err := m.Update(ctx, leaves); err != nil {
			return [32]byte{}, err
		}
		t.st, t.m, t.stale, t.values, t.versions = st, m, false, make(map[[32]byte][]byte, len(leaves)), nil
		for _, l := range leaves {
			t.values[l.Label] = l.Value
		}
	} else {
		changes := t.reg.MapChanges()
		last := &t.versions[len(t.versions)-1]
		last.nodes, last.values = map[prefix.Label]*prefix.Node{}, make(map[[32]byte][]byte, len(changes))
		t.st.rec = last.nodes
		err := t.m.Update(ctx, changes)
		t.st.rec = nil
		if err != nil {
			t.stale = true
			return [32]byte{}, err
		}
		for _, l := range changes {
			if _, done := last.values[l.Label]; !done {
				last.values[l.Label] = t.values[l.Label]
			}
			t.values[l.Label] = l.Value
		}
	}
	root, err := t.m.Root(ctx)
	if err != nil {
		t.stale = true
		return [32]byte{}, err
	}
	t.versions = append(t.versions, mapVersion{size: size, root: root})
	if len(t.versions) > MapVersions+1 {
		t.versions = slices.Delete(t.versions, 0, len(t.versions)-MapVersions-1)
	}
	// The records hold the nodes the updates replaced: bounded too, for
	// batches that change many leaves.
	recorded := 0
	for _, v := range t.versions {
		recorded += len(v.nodes)
	}
	for recorded > maxRecordedNodes && len(t.versions) > 1 {
		recorded -= len(t.versions[0].nodes)
		t.versions = slices.Delete(t.versions, 0, 1)
	}
	return root, nil
}

// ErrMapBusy is returned by MapTracker.Prove when the map is not at the
// size asked for: it moved on more than MapVersions sizes since, or has
// not reached it yet, or a commit is under way or failed. Ask again with
// the log's latest size.
var ErrMapBusy = errors.New("attest: the map is not at that log size")

// Prove returns the value of label in the map as of log size size (nil if
// the label is not in the map), the map's root, and a proof of either
// against that root. It fails with ErrMapBusy unless the map was brought
// to size by the latest Root or one of the MapVersions before it.
func (t *MapTracker) Prove(ctx context.Context, size uint64, label [32]byte) (value []byte, root [32]byte, proof MapProof, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || t.stale {
		return nil, [32]byte{}, nil, ErrMapBusy
	}
	i := len(t.versions) - 1
	for i >= 0 && t.versions[i].size != size {
		i--
	}
	if i < 0 {
		return nil, [32]byte{}, nil, ErrMapBusy
	}
	m := t.m
	if i < len(t.versions)-1 {
		past := pastStorage{now: t.st, versions: t.versions[i : len(t.versions)-1]}
		m = &Map{st: past, tree: prefix.NewTree(MapHash, past)}
	}
	found, proof, err := m.Prove(ctx, label)
	if err != nil {
		return nil, [32]byte{}, nil, err
	}
	if found {
		value = bytes.Clone(t.valueAt(i, label)) // the caller's to keep, or change
	}
	return value, t.versions[i].root, proof, nil
}

// valueAt is label's value as of versions[i]: its first record in the
// updates after, else its value now.
func (t *MapTracker) valueAt(i int, label [32]byte) []byte {
	for _, v := range t.versions[i : len(t.versions)-1] {
		if old, ok := v.values[label]; ok {
			return old
		}
	}
	return t.values[label]
}
