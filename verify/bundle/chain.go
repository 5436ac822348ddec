package bundle

import (
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
)

// A known key is one proven to belong to a principal: pinned by the policy
// (registrar keys), or introduced by a verified evidence entry.
type known struct {
	key    attest.PublicKey
	owner  string // a signatory id, or attest.RegistrarID
	added  uint64 // index of the evidence entry that introduced it
	logged bool   // introduced by evidence, not only pinned
}

// A keyring holds the known keys by key id.
type keyring map[string]*known

func newKeyring(p *Policy) keyring {
	ring := keyring{}
	for _, k := range p.RegistrarKeys {
		ring[k.ID()] = &known{key: k, owner: attest.RegistrarID}
	}
	return ring
}

// introduced returns the key a registry event introduces and for whom.
func introduced(st *attest.Statement) (owner, action string, key *attest.PublicKey) {
	switch p := st.Predicate.(type) {
	case *attest.Registrar:
		return attest.RegistrarID, p.Action, &p.Key
	case *attest.SignatoryEvent:
		if p.Action != attest.ActionRevoke {
			return p.Signatory, p.Action, p.Key
		}
		return "", p.Action, nil
	}
	return "", "", nil
}

// mayAuthorise reports whether a key of owner may authorise st, as
// attest's registry rules say (see attest's "Who signs what").
func mayAuthorise(st *attest.Statement, owner string) bool {
	registrar, signatory := owner == attest.RegistrarID, owner == st.Signatory()
	switch p := st.Predicate.(type) {
	case *attest.SignatoryEvent:
		switch p.Action {
		case attest.ActionAddKey:
			return signatory && !registrar
		case attest.ActionRevoke:
			return registrar || signatory
		}
		return registrar
	case *attest.Pledge:
		return signatory && !registrar
	}
	return registrar // rotate, accords
}

// walkEvidence verifies the evidence entries in order, each against the
// keys pinned or introduced before it, and returns the keys they prove.
func walkEvidence(b *Bundle, p *Policy, r *Result) (keyring, error) {
	ring := newKeyring(p)
	for i, e := range b.Evidence {
		link, err := ring.admit(fmt.Sprintf("evidence[%d]", i), e, p)
		if err != nil {
			return nil, err
		}
		r.Evidence = append(r.Evidence, link)
	}
	return ring, nil
}

// admit verifies one evidence entry and adds the key it introduces.
func (ring keyring) admit(field string, e Entry, p *Policy) (Link, error) {
	env, err := parseLeaf(field, e.Leaf, p.Origin, ErrEvidence)
	if err != nil {
		return Link{}, err
	}
	owner, action, key := introduced(env.Statement)
	if key == nil {
		return Link{}, fieldErr(field+".leaf", ErrEvidence, fmt.Errorf("a %s entry introduces no key", env.Statement.PredicateType))
	}
	if err := ring.checkNewKey(field, e.Index, owner, action, key, p); err != nil {
		return Link{}, err
	}
	auth, err := ring.checkSigs(field, env, key, ErrEvidence, false, true)
	if err != nil {
		return Link{}, err
	}
	ring[key.ID()] = &known{key: *key, owner: owner, added: e.Index, logged: true}
	link := Link{Index: e.Index, Action: action, Principal: owner, KeyID: key.ID()}
	if auth != nil {
		link.Authoriser = auth.key.ID()
	}
	return link, nil
}

func (ring keyring) checkNewKey(field string, index uint64, owner, action string, key *attest.PublicKey, p *Policy) error {
	if action == "genesis" && index != 0 {
		return fieldErr(field+".index", ErrEvidence, fmt.Errorf("genesis at index %d", index))
	}
	if action == "genesis" && !p.pinned(key.ID()) {
		return fieldErr(field+".leaf", ErrRegistrar, fmt.Errorf("genesis key %s is not pinned", key.ID()))
	}
	if old := ring[key.ID()]; old != nil && (old.logged || old.owner != owner) {
		return fieldErr(field+".leaf", ErrEvidence, fmt.Errorf("key %s already belongs to %q", key.ID(), old.owner))
	}
	return nil
}

// checkSigs verifies every signature of env: those by newKey (the key the
// event introduces, proof of possession) with that key, and exactly one
// other by a known key that may authorise the statement — unless the
// statement is a genesis, signed by its own key alone. With logged, the
// authorising key must have been introduced by evidence. Without sigs, it
// checks all that but the signatures themselves, which the caller
// verified (Checker.Check with a Verified entry). It returns the
// authorising key (nil for genesis).
func (ring keyring) checkSigs(field string, env *attest.Envelope, newKey *attest.PublicKey, sentinel error, logged, sigs bool) (*known, error) {
	var pae []byte
	var auth *known
	for i, s := range env.Signatures {
		f := fmt.Sprintf("%s.signatures[%d]", field, i)
		k, err := ring.signer(f, env.Statement, s.KeyID, newKey, logged)
		if err != nil {
			return nil, err
		}
		if k != nil && auth != nil {
			return nil, fieldErr(f, ErrKey, errors.New("two authorising signatures"))
		}
		pub := newKey
		if k != nil {
			auth, pub = k, &k.key
		}
		if !sigs {
			continue
		}
		if pae == nil {
			pae = env.PAE()
		}
		if err := pub.Verify(pae, s.Sig); err != nil {
			return nil, fieldErr(f, sentinel, fmt.Errorf("key %s: %w", s.KeyID, err))
		}
	}
	if auth == nil && !isGenesis(env.Statement) {
		return nil, fieldErr(field+".signatures", ErrKey, errors.New("no signature by an authorising key"))
	}
	return auth, nil
}

// signer returns the known key that made a signature, or nil if it is the
// event's new key.
func (ring keyring) signer(field string, st *attest.Statement, keyid string, newKey *attest.PublicKey, logged bool) (*known, error) {
	if newKey != nil && keyid == newKey.ID() {
		return nil, nil
	}
	k := ring[keyid]
	switch {
	case k == nil && mayAuthorise(st, attest.RegistrarID) && !mayAuthorise(st, st.Signatory()):
		return nil, fieldErr(field, ErrRegistrar, fmt.Errorf("registrar key %s is neither pinned nor introduced by the evidence", keyid))
	case k == nil:
		return nil, fieldErr(field, ErrKey, fmt.Errorf("key %s is not introduced by the evidence", keyid))
	case !mayAuthorise(st, k.owner):
		return nil, fieldErr(field, ErrKey, fmt.Errorf("key %s of %q may not sign for %q", keyid, k.owner, st.Signatory()))
	case logged && !k.logged:
		return nil, fieldErr(field, ErrKey, fmt.Errorf("key %s is pinned but its introduction is not in the evidence", keyid))
	}
	return k, nil
}

func isGenesis(st *attest.Statement) bool {
	r, ok := st.Predicate.(*attest.Registrar)
	return ok && r.Action == "genesis"
}

func parseLeaf(field string, leaf []byte, origin string, sentinel error) (*attest.Envelope, error) {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return nil, fieldErr(field+".leaf", sentinel, err)
	}
	if err := checkOrigin(field, env, origin, sentinel); err != nil {
		return nil, err
	}
	return env, nil
}

func checkOrigin(field string, env *attest.Envelope, origin string, sentinel error) error {
	if o := env.Statement.Origin(); o != origin {
		return fieldErr(field+".leaf", sentinel, fmt.Errorf("statement names origin %q, want %q", o, origin))
	}
	return nil
}
