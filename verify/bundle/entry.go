package bundle

import (
	"errors"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
)

// authoriseEntry verifies the entry's envelope against the keys the
// evidence proved. A verified envelope is the entry's leaf parsed, with
// its signatures verified (Verified): it is neither parsed nor are its
// signatures verified again; every other check runs.
func authoriseEntry(e Entry, verified *attest.Envelope, ring keyring, p *Policy, r *Result) error {
	env := verified
	if env == nil {
		var err error
		if env, err = parseLeaf("entry", e.Leaf, p.Origin, ErrEnvelope); err != nil {
			return err
		}
	} else if err := checkOrigin("entry", env, p.Origin, ErrEnvelope); err != nil {
		return err
	}
	sigs := verified == nil
	st := env.Statement
	owner, action, key := introduced(st)
	if action == "genesis" {
		return authoriseGenesis(e, env, key, p, r, sigs)
	}
	if key != nil {
		if old := ring[key.ID()]; old != nil && old.owner != owner {
			return fieldErr("entry.leaf", ErrKey, fmt.Errorf("key %s already belongs to %q", key.ID(), old.owner))
		}
	}
	auth, err := ring.checkSigs("entry", env, key, ErrEnvelope, true, sigs)
	if err != nil {
		return err
	}
	r.Statement, r.Signer, r.KeyID, r.KeyAdded = st, auth.owner, auth.key.ID(), auth.added
	return nil
}

// authoriseGenesis checks that entry 0 introduces a pinned registrar key
// and is signed by it (the signature verified only with sigs). It is its
// own evidence.
func authoriseGenesis(e Entry, env *attest.Envelope, key *attest.PublicKey, p *Policy, r *Result, sigs bool) error {
	if e.Index != 0 {
		return fieldErr("entry.index", ErrEnvelope, fmt.Errorf("genesis at index %d", e.Index))
	}
	if !p.pinned(key.ID()) {
		return fieldErr("entry.leaf", ErrRegistrar, fmt.Errorf("genesis key %s is not pinned", key.ID()))
	}
	if len(env.Signatures) != 1 || env.Signatures[0].KeyID != key.ID() {
		return fieldErr("entry.signatures", ErrEnvelope, errors.New("genesis must be signed by its key alone"))
	}
	if sigs {
		if err := key.Verify(env.PAE(), env.Signatures[0].Sig); err != nil {
			return fieldErr("entry.signatures[0]", ErrEnvelope, err)
		}
	}
	r.Statement, r.Signer, r.KeyID = env.Statement, attest.RegistrarID, key.ID()
	return nil
}
