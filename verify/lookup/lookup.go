// Package lookup proves what a pledgelog log's registry map holds for one
// leaf (a signatory, one of its keys, an accord, or a signatory's latest
// pledge to an accord's principle) from GET /api/v1/map, trusting only
// pinned keys: the answer's checkpoint must verify with them, consistent
// with the last one the caller verified if it keeps one; the map root
// must be the one the checkpoint's "pledgelog/map/v1" line commits to;
// the label is recomputed from what was asked, never read from the
// answer; the proof must prove the value (or the absence) against that
// root; and the value must decode. Nothing else the server says is
// used. docs/formats.md specifies the map; docs/auditing.md the command
// built on it (pledge-verify lookup).
//
// An error wrapping ErrVerify is evidence against the server (it
// answered something that does not verify); one wrapping client.ErrFetch
// is only a network or server failure.
package lookup

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/client"
)

// ErrVerify means the server's answer does not prove what was asked: a
// checkpoint the pinned keys do not verify or that is inconsistent with
// the last one verified, a map root the checkpoint does not commit to, a
// label that is not the one asked for, a proof that fails, or a value
// that does not decode.
var ErrVerify = errors.New("map lookup does not verify")

// ErrQuery means the query names no leaf of the map: its fields are not
// one of the four combinations, or not ids.
var ErrQuery = errors.New("not a map query")

// The kinds of leaves, as the API names them.
const (
	KindPrincipal = "principal"
	KindKey       = "key"
	KindAccord    = "accord"
	KindCell      = "cell"
)

// A Query names one leaf of the map: Signatory alone (a principal: a
// signatory or the registrar), Signatory and KeyID (a key), Accord alone
// (an accord), or Signatory, Accord and Principle (the cell of the
// signatory's latest pledge to the principle).
type Query struct {
	Signatory, KeyID, Accord, Principle string
}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	keyIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Kind returns the kind of leaf q names and its label (attest.MapLabel),
// or an error wrapping ErrQuery naming the field at fault.
func (q Query) Kind() (string, [32]byte, error) {
	for _, f := range []struct{ name, v string }{{"signatory", q.Signatory}, {"accord", q.Accord}, {"principle", q.Principle}} {
		if f.v != "" && !idPattern.MatchString(f.v) && (f.name != "signatory" || f.v != attest.RegistrarID) {
			return "", [32]byte{}, fmt.Errorf("%w: %s %q: not an id (lowercase letters, digits and '-')", ErrQuery, f.name, f.v)
		}
	}
	if q.KeyID != "" && !keyIDPattern.MatchString(q.KeyID) {
		return "", [32]byte{}, fmt.Errorf("%w: keyid %q: not 64 lowercase hex digits", ErrQuery, q.KeyID)
	}
	s, k, a, p := q.Signatory != "", q.KeyID != "", q.Accord != "", q.Principle != ""
	switch {
	case s && k && !a && !p:
		return KindKey, attest.MapLabel(attest.MapKey, q.Signatory, q.KeyID), nil
	case s && a && p && !k:
		return KindCell, attest.MapLabel(attest.MapCell, q.Signatory, q.Accord, q.Principle), nil
	case s && !k && !a && !p:
		return KindPrincipal, attest.MapLabel(attest.MapPrincipal, q.Signatory), nil
	case a && !s && !k && !p:
		return KindAccord, attest.MapLabel(attest.MapAccord, q.Accord), nil
	}
	return "", [32]byte{}, fmt.Errorf("%w: give a signatory; a signatory and a keyid; an accord; or a signatory, an accord and a principle", ErrQuery)
}

// Path is q's request path, relative to the log's prefix.
func (q Query) Path() string {
	v := url.Values{}
	for k, s := range map[string]string{"signatory": q.Signatory, "keyid": q.KeyID, "accord": q.Accord, "principle": q.Principle} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return "api/v1/map?" + v.Encode()
}

// String names the leaf q asks for, for messages.
func (q Query) String() string {
	kind, _, _ := q.Kind()
	switch kind {
	case KindKey:
		return fmt.Sprintf("key %s of %s", q.KeyID, q.Signatory)
	case KindCell:
		return fmt.Sprintf("%s's latest pledge to %s/%s", q.Signatory, q.Accord, q.Principle)
	case KindAccord:
		return "accord " + q.Accord
	}
	return "principal " + q.Signatory
}

// A Result is a leaf of the map, or its absence, proven against a
// checkpoint verified with the pinned keys. Exactly one of the decoded
// states is set when Value is not nil: the one of the query's kind.
type Result struct {
	Query      Query
	Kind       string
	Label      [32]byte
	Note       []byte            // the signed checkpoint
	Checkpoint verify.Checkpoint // verified
	Root       [32]byte          // the map root it commits to
	Value      []byte            // the leaf's encoded value; nil: proven absent

	Principal *attest.MapPrincipalState
	Key       *attest.MapKeyState
	Accord    *attest.MapAccordState
	Cell      *attest.MapCellState
}

// Present reports whether the leaf is in the map (else its absence is
// what was proven).
func (r *Result) Present() bool { return r.Value != nil }

// A Verifier proves lookups against one log.
type Verifier struct {
	// Open verifies a signed checkpoint with the pinned keys: the log's
	// signature, and the witnesses' cosignatures if the caller's policy
	// requires them.
	Open func(note []byte) (verify.Checkpoint, error)
	// Previous, if its Size is not 0, is the last checkpoint the caller
	// verified of this log: the answer's checkpoint must be consistent
	// with it, proven from Tiles.
	Previous verify.Checkpoint
	// Tiles serves the log's hash tiles for that proof; a *client.Client
	// is one.
	Tiles verify.TileReader
}

// maxAnswer bounds the JSON of an answer: a checkpoint with its
// cosignatures and a proof of at most 256 nodes.
const maxAnswer = 1 << 17

// answer is api.MapLookup as read by a client (a verifier does not link
// the api package): what the server says, none of it trusted.
type answer struct {
	Checkpoint string      `json:"checkpoint"`
	Size       uint64      `json:"size"`
	MapRoot    []byte      `json:"map_root"`
	Kind       string      `json:"kind"`
	Label      []byte      `json:"label"`
	Value      []byte      `json:"value"`
	Proof      []proofNode `json:"proof"`
}

type proofNode struct {
	Label []byte `json:"label"`
	Bits  uint32 `json:"bits"`
	Hash  []byte `json:"hash"`
}

// Lookup fetches q from the log c serves and verifies the answer
// (Verify).
func (v *Verifier) Lookup(ctx context.Context, c *client.Client, q Query) (*Result, error) {
	if _, _, err := q.Kind(); err != nil {
		return nil, err
	}
	body, err := c.Get(ctx, q.Path(), maxAnswer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	return v.Verify(ctx, q, body)
}

// Verify checks body, the server's answer to q, and returns what it
// proves. Every failure wraps ErrVerify (but a query that names no leaf,
// ErrQuery, and a failure to fetch the tiles of a consistency proof,
// client.ErrFetch) and says what failed.
func (v *Verifier) Verify(ctx context.Context, q Query, body []byte) (*Result, error) {
	kind, label, err := q.Kind()
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", q, ErrVerify, fmt.Sprintf(format, args...))
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, bad("the answer is not a map lookup: %v", err)
	}
	r := &Result{Query: q, Kind: kind, Label: label, Note: []byte(a.Checkpoint)}
	if r.Checkpoint, err = v.Open(r.Note); err != nil {
		return nil, bad("checkpoint: %v", err)
	}
	cp := r.Checkpoint
	if a.Size != cp.Size {
		return nil, bad("the answer says size %d, its signed checkpoint %d", a.Size, cp.Size)
	}
	if err := v.consistent(ctx, cp); err != nil {
		if errors.Is(err, client.ErrFetch) {
			return nil, fmt.Errorf("%s: proving checkpoint %d consistent with %d: %w", q, cp.Size, v.Previous.Size, err)
		}
		return nil, bad("%v", err)
	}
	committed, ok, err := attest.ParseMapExtension(cp.Extensions)
	switch {
	case err != nil:
		return nil, bad("checkpoint %d: %v", cp.Size, err)
	case !ok:
		return nil, bad("checkpoint %d commits to no registry map (no %q line)", cp.Size, attest.MapExtensionPrefix)
	case len(a.MapRoot) != 32 || [32]byte(a.MapRoot) != committed:
		return nil, bad("the answer's map_root %x is not the root %x that checkpoint %d commits to", a.MapRoot, committed, cp.Size)
	}
	r.Root = committed
	if a.Kind != kind {
		return nil, bad("asked for a %s, the answer is a %q", kind, a.Kind)
	}
	if len(a.Label) != 32 || [32]byte(a.Label) != label {
		return nil, bad("the answer's label %x is not %x, the label of %s", a.Label, label, q)
	}
	proof, err := parseProof(a.Proof)
	if err != nil {
		return nil, bad("proof: %v", err)
	}
	if err := attest.VerifyMapProof(committed, label, a.Value, proof); err != nil {
		what := "membership with the answer's value"
		if a.Value == nil {
			what = "absence"
		}
		return nil, bad("the proof of %s fails against the map root of checkpoint %d: %v", what, cp.Size, err)
	}
	if a.Value != nil {
		if err := r.decode(a.Value); err != nil {
			return nil, bad("value: %v", err)
		}
	}
	r.Value = a.Value
	return r, nil
}

// consistent checks cp against v.Previous: the same root at the same
// size, else a consistency proof from the tiles, either way.
func (v *Verifier) consistent(ctx context.Context, cp verify.Checkpoint) error {
	old := v.Previous
	if old.Size == 0 {
		return nil
	}
	if cp.Size == old.Size {
		if cp.Root != old.Root {
			return fmt.Errorf("checkpoint %d has root %s, the one verified before %s: a split view", cp.Size, cp.Root, old.Root)
		}
		return nil
	}
	if v.Tiles == nil {
		return fmt.Errorf("checkpoint %d differs from the %d verified before, and no tiles to prove them consistent", cp.Size, old.Size)
	}
	small, big := old, cp
	if cp.Size < old.Size {
		small, big = cp, old
	}
	proof, err := verify.ProveConsistency(ctx, v.Tiles, small.Size, big.Size)
	if err != nil {
		if errors.Is(err, client.ErrFetch) && !errors.Is(err, client.ErrNotFound) {
			return err
		}
		return fmt.Errorf("no consistency proof between checkpoints %d and %d: %v", small.Size, big.Size, err)
	}
	if err := verify.Consistency(small.Size, big.Size, proof, small.Root, big.Root); err != nil {
		return fmt.Errorf("checkpoint %d is not consistent with checkpoint %d: %v", small.Size, big.Size, err)
	}
	return nil
}

func parseProof(nodes []proofNode) (attest.MapProof, error) {
	if len(nodes) > 257 {
		return nil, fmt.Errorf("%d nodes, more than a label has bits", len(nodes))
	}
	out := make(attest.MapProof, len(nodes))
	for i, n := range nodes {
		if len(n.Label) != 32 || len(n.Hash) != 32 || n.Bits > 256 {
			return nil, fmt.Errorf("node %d: a label of %d bytes and %d bits, a hash of %d bytes: want 32, at most 256 and 32", i, len(n.Label), n.Bits, len(n.Hash))
		}
		l, err := prefix.NewLabel(n.Bits, n.Label)
		if err != nil {
			return nil, fmt.Errorf("node %d: %v", i, err)
		}
		out[i] = prefix.ProofNode{Label: l, Hash: [32]byte(n.Hash)}
	}
	return out, nil
}

func (r *Result) decode(v []byte) error {
	var err error
	switch r.Kind {
	case KindPrincipal:
		var s attest.MapPrincipalState
		s, err = attest.ParseMapPrincipalValue(v)
		r.Principal = &s
	case KindKey:
		var s attest.MapKeyState
		s, err = attest.ParseMapKeyValue(v)
		r.Key = &s
	case KindAccord:
		var s attest.MapAccordState
		s, err = attest.ParseMapAccordValue(v)
		r.Accord = &s
	case KindCell:
		var s attest.MapCellState
		s, err = attest.ParseMapCellValue(v)
		r.Cell = &s
	}
	if err != nil {
		r.Principal, r.Key, r.Accord, r.Cell = nil, nil, nil, nil
	}
	return err
}

// State describes the proven leaf in words: what the map says, or that
// the leaf is proven absent.
func (r *Result) State() string {
	if !r.Present() {
		switch r.Kind {
		case KindCell:
			return "no pledge (proven absent)"
		}
		return "not in the registry (proven absent)"
	}
	switch {
	case r.Principal != nil:
		p := r.Principal
		return fmt.Sprintf("registered at index %d, chain seq %d head %x, %d key(s) had", p.Registered, p.Seq, p.Head, p.Keys)
	case r.Key != nil:
		return KeyState(*r.Key)
	case r.Accord != nil:
		return fmt.Sprintf("entry at index %d, predicate digest %x", r.Accord.Index, r.Accord.Digest)
	case r.Cell != nil:
		if r.Cell.Index == nil {
			return "every pledge void"
		}
		return fmt.Sprintf("%s at index %d", r.Cell.Status, *r.Cell.Index)
	}
	return "?"
}

// KeyState describes a key's state: valid since a, or revoked since b
// (and void from c).
func KeyState(k attest.MapKeyState) string {
	s := fmt.Sprintf("valid since index %d", k.Added)
	if k.Revoked != nil {
		s = fmt.Sprintf("added at index %d, revoked since %d", k.Added, *k.Revoked)
	}
	if k.VoidFrom != nil {
		s += fmt.Sprintf(", its signatures void from index %d", *k.VoidFrom)
	}
	return s
}

// Fact is the one-line statement of what r proves, and against which
// checkpoint.
func (r *Result) Fact() string {
	return fmt.Sprintf("%s: %s, proven by a map proof against checkpoint %d", r.Query, r.State(), r.Checkpoint.Size)
}

// JSON is a Result for machines.
type JSON struct {
	Kind      string `json:"kind"`
	Signatory string `json:"signatory,omitempty"`
	KeyID     string `json:"keyid,omitempty"`
	Accord    string `json:"accord,omitempty"`
	Principle string `json:"principle,omitempty"`
	Present   bool   `json:"present"`
	Size      uint64 `json:"size"`            // of the checkpoint proven against
	MapRoot   string `json:"map_root"`        // base64, the root it commits to, as in its extension line
	Label     string `json:"label"`           // base64, recomputed from the query
	Value     string `json:"value,omitempty"` // base64, the encoded value`

	// A principal.
	Registered *uint64 `json:"registered,omitempty"`
	Seq        *uint64 `json:"seq,omitempty"`
	Head       string  `json:"head,omitempty"`
	Keys       *uint32 `json:"keys,omitempty"`
	// A key.
	Added    *uint64 `json:"added,omitempty"`
	Revoked  *uint64 `json:"revoked,omitempty"`
	VoidFrom *uint64 `json:"voidFrom,omitempty"`
	// An accord (Index) or a cell (Index, Status; none: every pledge void).
	Index  *uint64 `json:"index,omitempty"`
	Digest string  `json:"digest,omitempty"`
	Status string  `json:"status,omitempty"`
}

// JSON returns r for machines.
func (r *Result) JSON() JSON {
	j := JSON{Kind: r.Kind, Signatory: r.Query.Signatory, KeyID: r.Query.KeyID, Accord: r.Query.Accord, Principle: r.Query.Principle,
		Present: r.Present(), Size: r.Checkpoint.Size, MapRoot: b64(r.Root[:]), Label: b64(r.Label[:])}
	if r.Present() {
		j.Value = b64(r.Value)
	}
	switch {
	case r.Principal != nil:
		p := *r.Principal
		j.Registered, j.Seq, j.Head, j.Keys = &p.Registered, &p.Seq, fmt.Sprintf("%x", p.Head), &p.Keys
	case r.Key != nil:
		k := *r.Key
		j.Added, j.Revoked, j.VoidFrom = &k.Added, k.Revoked, k.VoidFrom
	case r.Accord != nil:
		a := *r.Accord
		j.Index, j.Digest = &a.Index, fmt.Sprintf("%x", a.Digest)
	case r.Cell != nil:
		j.Index, j.Status = r.Cell.Index, r.Cell.Status
	}
	return j
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
