package bundle

import (
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
)

// An AuditState is what an auditor established by replaying a log from
// its tiles (verify/audit): the tree it checked and every key revocation
// in it. Passed in Policy.Audit, it lets Verify prove non-revocation for
// the entries it covers (Index < Size), which a bundle alone cannot.
type AuditState struct {
	Origin string
	Size   uint64
	Root   verify.Hash
	// Proof is the consistency proof between this tree and the bundle's
	// checkpoint, from the smaller to the larger; empty if the sizes are
	// equal.
	Proof []verify.Hash
	// Revocations are all the revoke-key events of the log below Size.
	Revocations []Revocation
}

// A Revocation is one revoke-key event.
type Revocation struct {
	KeyID    string
	Index    uint64  // the index of the revoke-key event
	VoidFrom *uint64 // for a compromise: signatures from here on are void
}

// checkAudit sets r.NonRevocation: "not proven offline" without an audit
// state covering the entry, or what the audit state proves.
func checkAudit(a *AuditState, cp verify.Checkpoint, r *Result) error {
	r.NonRevocation = NotProvenOffline
	if a == nil || a.Size <= r.Index {
		return nil
	}
	if err := a.consistent(cp); err != nil {
		return err
	}
	if err := a.check(r.KeyID, r.Index); err != nil {
		return err
	}
	for _, l := range r.Evidence {
		if err := a.check(l.Authoriser, l.Index); err != nil {
			return err
		}
	}
	r.AuditSize = a.Size
	r.NonRevocation = fmt.Sprintf("no key of the chain revoked or void where it signed, as of audited size %d", a.Size)
	return nil
}

func (a *AuditState) consistent(cp verify.Checkpoint) error {
	if a.Origin != cp.Origin {
		return fieldErr("audit.origin", ErrAuditState, fmt.Errorf("audit of %q, checkpoint of %q", a.Origin, cp.Origin))
	}
	var err error
	if a.Size <= cp.Size {
		err = verify.Consistency(a.Size, cp.Size, a.Proof, a.Root, cp.Root)
	} else {
		err = verify.Consistency(cp.Size, a.Size, a.Proof, cp.Root, a.Root)
	}
	if err != nil {
		return fieldErr("audit.proof", ErrAuditState, err)
	}
	return nil
}

// check fails if key was revoked before index, or its signatures are
// void at index. A registrar key's retirement by rotate is not a
// revocation and is not checked.
func (a *AuditState) check(key string, index uint64) error {
	if key == "" {
		return nil
	}
	for _, rv := range a.Revocations {
		if rv.KeyID != key {
			continue
		}
		if rv.Index < index {
			return fieldErr("audit", ErrRevoked, fmt.Errorf("key %s revoked at %d, before it signed entry %d", key, rv.Index, index))
		}
		if rv.VoidFrom != nil && *rv.VoidFrom <= index {
			return fieldErr("audit", ErrRevoked, fmt.Errorf("key %s compromised: signatures void from %d, it signed entry %d", key, *rv.VoidFrom, index))
		}
	}
	return nil
}
