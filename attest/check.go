package attest

import (
	"encoding/hex"
	"fmt"
	"math"
)

// Verified is the result of [Registry.Verify].
type Verified struct {
	Statement *Statement
	// Issuer is the principal whose key authorised the entry: the
	// signatory for pledges, add-key and self-signed revocations, and
	// RegistrarID for everything the registrar signs. It must equal the
	// issuer of the session token the entry was submitted with.
	Issuer string
	KeyIDs []string // of env.Signatures, in order
}

// Verify checks env's signatures against the keys the registry holds now,
// and every rule that can be checked before the entry is sequenced: the
// origin, the signers each event needs, chain heads, references to
// accords, principles and earlier pledges. Admit checks the same rules
// again, as of the entry's index, without the signature work.
func (r *Registry) Verify(env *Envelope) (*Verified, error) {
	r.mu.RLock()
	c, err := r.check(env, math.MaxUint64)
	r.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	pae := env.PAE()
	ids := make([]string, len(env.Signatures))
	for i, s := range env.Signatures {
		if err := c.keys[i].verify(pae, s.Sig); err != nil {
			return nil, &FieldError{Pointer: fmt.Sprintf("/signatures/%d/sig", i), Code: "bad-signature", Err: ErrBadSignature, Detail: err.Error()}
		}
		ids[i] = s.KeyID
	}
	return &Verified{Statement: env.Statement, Issuer: c.issuer, KeyIDs: ids}, nil
}

// checked is what authorise learnt about an envelope's signers.
type checked struct {
	keys   []*verifyKey // the key of each signature
	issuer string       // owner of the authorising key
	auth   *keyState    // the authorising key (nil for genesis)
	newKey *verifyKey   // the key the event adds, if any
}

type role int

const (
	roleNone      role = iota // genesis: self-signed by the new key
	roleRegistrar             // the current registrar key
	roleSignatory             // a valid key of the statement's signatory
	roleEither                // either of the two
)

func roleOf(st *Statement) (role, *PublicKey) {
	switch p := st.Predicate.(type) {
	case *Registrar:
		if p.Action == "genesis" {
			return roleNone, &p.Key
		}
		return roleRegistrar, &p.Key
	case *SignatoryEvent:
		switch p.Action {
		case ActionAddKey:
			return roleSignatory, p.Key
		case ActionRevoke:
			return roleEither, nil
		}
		return roleRegistrar, p.Key
	case *Pledge:
		return roleSignatory, nil
	}
	return roleRegistrar, nil // accords
}

// authorise resolves each signature to its key and checks that together
// they may sign this statement. The caller holds r.mu.
func (r *Registry) authorise(env *Envelope) (*checked, error) {
	st := env.Statement
	rl, pk := roleOf(st)
	c := &checked{keys: make([]*verifyKey, len(env.Signatures)), issuer: RegistrarID}
	if pk != nil {
		if err := r.addNewKey(c, pk); err != nil {
			return nil, err
		}
	}
	for i, s := range env.Signatures {
		ptr := fmt.Sprintf("/signatures/%d/keyid", i)
		if c.newKey != nil && s.KeyID == c.newKey.id {
			c.keys[i] = c.newKey
			continue
		}
		if c.auth != nil || rl == roleNone {
			return nil, fieldErr(ErrForeignKey, "/signatures", "missing-proof-of-possession", "the new key must sign")
		}
		k, err := r.authoriser(rl, st.Signatory(), s.KeyID, ptr)
		if err != nil {
			return nil, err
		}
		c.keys[i], c.auth, c.issuer = k.verifyKey, k, k.owner
	}
	if rl == roleNone && r.principals[RegistrarID] != nil {
		return nil, fieldErr(ErrExists, "/payload/predicate/action", "genesis-exists", "the log has a genesis")
	}
	return c, nil
}

func (r *Registry) addNewKey(c *checked, pk *PublicKey) error {
	vk, err := pk.parsed()
	if err != nil {
		return malformed("/payload/predicate/key", "bad-key", "%v", err)
	}
	if old := r.keys[vk.id]; old != nil {
		if !old.valid() {
			return fieldErr(ErrRevokedKey, "/payload/predicate/key", "revoked-key", "a revoked key is never re-added")
		}
		return fieldErr(ErrExists, "/payload/predicate/key", "key-exists", "key already belongs to %q", old.owner)
	}
	c.newKey = vk
	return nil
}

func (r *Registry) authoriser(rl role, signatory, keyid, ptr string) (*keyState, error) {
	k := r.keys[keyid]
	if k == nil {
		return nil, fieldErr(ErrUnknownKey, ptr, "unknown-key", "")
	}
	ok := k.owner == RegistrarID && (rl == roleRegistrar || rl == roleEither) ||
		k.owner == signatory && (rl == roleSignatory || rl == roleEither)
	if !ok {
		return nil, fieldErr(ErrForeignKey, ptr, "foreign-key", "key of %q may not sign this", k.owner)
	}
	if !k.valid() {
		return nil, fieldErr(ErrRevokedKey, ptr, "revoked-key", "revoked at %d", *k.revoked)
	}
	return k, nil
}

// check runs every rule against the registry as of index (MaxUint64
// before sequencing): first the statement's own references and chain
// position, then its signers. It fails with ErrStore once the registry
// has lost track of the log. The caller holds r.mu.
func (r *Registry) check(env *Envelope, index uint64) (*checked, error) {
	if r.failed != nil {
		return nil, r.failed
	}
	if env.Statement.Origin() != r.origin {
		return nil, malformed("/payload/predicate/origin", "wrong-origin", "this log is %q", r.origin)
	}
	if err := r.checkState(env.Statement, index); err != nil {
		return nil, err
	}
	c, err := r.authorise(env)
	if err != nil {
		return nil, err
	}
	if err := checkVoidFrom(env.Statement, c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkVoidFrom holds a compromise declared by a key of the signatory to
// signatures made after that key was added: a key may not void what was
// signed before it existed. Without this rule a younger key (the thief's,
// or a stolen secondary key) could void every signature of an older key
// from just after its registration, and with them, recursively, the
// keys that older key added, itself included. The registrar's
// revocations are not held (it recovers signatories). So the index of
// the revoking key's own addition is the earliest voidFrom it may name
// plus one: voidFrom > added(signer).
func checkVoidFrom(st *Statement, c *checked) error {
	p, ok := st.Predicate.(*SignatoryEvent)
	if !ok || p.Action != ActionRevoke || p.VoidFrom == nil || c.auth == nil || c.auth.owner == RegistrarID {
		return nil
	}
	if *p.VoidFrom <= c.auth.added {
		return fieldErr(ErrForeignKey, "/payload/predicate/voidFrom", "before-signing-key",
			"the signing key was added at %d: it may void signatures from %d on, or the registrar may sign the revocation",
			c.auth.added, c.auth.added+1)
	}
	return nil
}

// checkState checks the rules that depend on registry state other than
// keys. The caller holds r.mu.
func (r *Registry) checkState(st *Statement, index uint64) error {
	switch p := st.Predicate.(type) {
	case *Registrar:
		if p.Action == "rotate" {
			return r.checkChain(RegistrarID, p.Seq, p.Prev)
		}
	case *Accord:
		if r.accords[p.ID] != nil {
			return fieldErr(ErrExists, "/payload/predicate/id", "accord-exists", "")
		}
	case *SignatoryEvent:
		return r.checkSignatoryEvent(p, index)
	case *Pledge:
		return r.checkPledge(st, p, index)
	}
	return nil
}

func (r *Registry) checkChain(id string, seq uint64, prev string) error {
	p := r.principals[id]
	if p == nil {
		return fieldErr(ErrNotFound, "/payload/predicate/signatory", "unknown-signatory", "")
	}
	if seq != p.seq+1 || prev != hex.EncodeToString(p.head[:]) {
		return fieldErr(ErrChainHead, "/payload/predicate/prev", "chain-head",
			"head is seq %d, leaf hash %x", p.seq, p.head)
	}
	return nil
}

func (r *Registry) checkSignatoryEvent(p *SignatoryEvent, index uint64) error {
	if p.Action == ActionRegister {
		if r.principals[p.Signatory] != nil {
			return fieldErr(ErrExists, "/payload/predicate/signatory", "signatory-exists", "")
		}
		return nil
	}
	if err := r.checkChain(p.Signatory, p.Seq, p.Prev); err != nil {
		return err
	}
	if p.Action != ActionRevoke {
		return nil
	}
	k := r.keys[p.KeyID]
	if k == nil || k.owner != p.Signatory {
		return fieldErr(ErrNotFound, "/payload/predicate/keyid", "unknown-key", "not a key of %q", p.Signatory)
	}
	if k.revoked != nil && (p.Reason != ReasonCompromised || k.voidFrom != nil) {
		return fieldErr(ErrRevokedKey, "/payload/predicate/keyid", "revoked-key", "already revoked")
	}
	if p.VoidFrom != nil && (*p.VoidFrom <= k.added || *p.VoidFrom > index) {
		return fieldErr(ErrMalformed, "/payload/predicate/voidFrom", "out-of-range",
			"want an index after the key was added (%d) and not after this event", k.added)
	}
	return nil
}

func (r *Registry) checkPledge(st *Statement, p *Pledge, index uint64) error {
	if r.principals[p.Signatory] == nil {
		return fieldErr(ErrNotFound, "/payload/predicate/signatory", "unknown-signatory", "")
	}
	a := r.accords[p.Accord]
	if a == nil {
		return fieldErr(ErrNotFound, "/payload/predicate/accord", "unknown-accord", "")
	}
	if st.Subject[0].Digest.SHA256 != a.info.Digest {
		return fieldErr(ErrNotFound, "/payload/subject/0/digest/sha256", "wrong-digest", "accord digest is %s", a.info.Digest)
	}
	if !hasPrinciple(a.info.Principles, p.Principle) {
		return fieldErr(ErrNotFound, "/payload/predicate/principle", "unknown-principle", "")
	}
	if p.Supersedes == nil {
		return nil
	}
	ok, err := *p.Supersedes < index, error(nil)
	if ok {
		ok, err = r.inCell(*p.Supersedes, cell{p.Signatory, p.Accord, p.Principle})
	}
	if err != nil {
		return err
	}
	if !ok {
		return fieldErr(ErrNotFound, "/payload/predicate/supersedes", "unknown-pledge",
			"not an earlier pledge of this signatory and principle")
	}
	return nil
}

// inCell reports whether the entry at index is a pledge of cell c. The
// caller holds r.mu.
func (r *Registry) inCell(index uint64, c cell) (bool, error) {
	cs := r.cells[c]
	if cs == nil {
		return false, nil
	}
	rec, ok, err := findPledge(r.store, index)
	return ok && rec.cell == cs.ord, err
}

func hasPrinciple(ps []Principle, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}
