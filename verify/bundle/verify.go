package bundle

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// Verify checks a bundle offline against a policy and returns what it
// proved. In order: the checkpoint is for the policy's origin, signed by a
// pinned log key and cosigned by a quorum of pinned witnesses; the entry
// and every evidence entry are included in it at their indexes, the
// evidence in increasing order below the entry's index; each evidence
// entry is a registry event of this origin that introduces a key, signed as
// the registry requires by keys the policy pins or earlier evidence
// introduced; the entry is a canonical attestation of this origin signed by
// a key the evidence introduced for the principal it speaks for. With an
// audit state that covers the entry, Verify also checks that no key of the
// chain was revoked where it signed.
//
// The first failure is returned as a *FieldError wrapping one of the
// package's sentinels; the Result is then nil.
//
// A v2 bundle (b.Map set) is checked as its format says (see MapEvidence):
// the checkpoint as above, the entry's inclusion, the map proofs against
// the root the checkpoint commits to, and the entry's signatures by the
// key they prove; the policy needs no registrar key, and an audit state
// is not used, since the key's leaf proves its state at the checkpoint.
func Verify(b *Bundle, p Policy) (*Result, error) {
	r := &Result{Quorum: "none", Index: b.Entry.Index, LeafHash: verify.LeafHash(b.Entry.Leaf), Version: 1}
	if p.Quorum != nil {
		r.Quorum = fmt.Sprint(p.Quorum)
	}
	if b.IsV2() {
		if err := p.checkV2(); err != nil {
			return nil, err
		}
		r.Version = 2
		cp, err := openCheckpoint(b.Checkpoint, &p, r)
		if err != nil {
			return nil, err
		}
		if err := verifyV2(b, cp, &p, nil, r, attest.VerifyMapProof); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	cp, err := openCheckpoint(b.Checkpoint, &p, r)
	if err != nil {
		return nil, err
	}
	if err := includeAll(b, cp); err != nil {
		return nil, err
	}
	keys, err := walkEvidence(b, &p, r)
	if err != nil {
		return nil, err
	}
	if err := authoriseEntry(b.Entry, nil, keys, &p, r); err != nil {
		return nil, err
	}
	if err := checkAudit(p.Audit, cp, r); err != nil {
		return nil, err
	}
	return r, nil
}

// openCheckpoint verifies the checkpoint's signatures and records them.
func openCheckpoint(note []byte, p *Policy, r *Result) (verify.Checkpoint, error) {
	cp, n, err := verify.OpenCosigned(note, p.Origin, p.LogKeys, p.Quorum)
	if err != nil {
		return cp, checkpointErr(err, p.Origin)
	}
	r.Origin, r.Size, r.Root = cp.Origin, cp.Size, cp.Root
	for _, s := range n.Sigs {
		if s.Name == p.Origin && r.LogKey == "" && slices.ContainsFunc(p.LogKeys, func(k verify.Verifier) bool { return k.KeyID() == s.KeyID }) {
			r.LogKey = fmt.Sprintf("%s+%08x", s.Name, s.KeyID)
		}
	}
	for _, c := range verify.Cosignatures(n, p.Quorum) {
		r.Cosignatures = append(r.Cosignatures, Cosignature{Name: c.Witness.Name(), KeyID: c.Witness.KeyID(), Time: c.Time})
	}
	return cp, nil
}

func checkpointErr(err error, origin string) error {
	var se *verify.SignatureError
	switch {
	case errors.As(err, &se) && se.Name != origin:
		return fieldErr(fmt.Sprintf("checkpoint.cosignature[%s]", se.Name), ErrCosignature, err)
	case errors.As(err, &se), errors.Is(err, verify.ErrNoVerifiedSignature):
		return fieldErr("checkpoint.signature", ErrLogSignature, err)
	case errors.Is(err, verify.ErrNoQuorum):
		return fieldErr("checkpoint.cosignatures", ErrQuorum, err)
	}
	return fieldErr("checkpoint", ErrCheckpoint, err)
}

// includeAll checks every inclusion proof and the evidence order.
func includeAll(b *Bundle, cp verify.Checkpoint) error {
	if err := include("entry", b.Entry, cp); err != nil {
		return err
	}
	for i, e := range b.Evidence {
		if err := checkOrder(b, i); err != nil {
			return err
		}
		if err := include(evidenceField(i), e, cp); err != nil {
			return err
		}
	}
	return nil
}

func evidenceField(i int) string { return fmt.Sprintf("evidence[%d]", i) }

// checkOrder checks the index of evidence entry i: above the one before
// it, below the entry's.
func checkOrder(b *Bundle, i int) error {
	e := b.Evidence[i]
	if i > 0 && e.Index <= b.Evidence[i-1].Index {
		return fieldErr(evidenceField(i)+".index", ErrEvidence, errors.New("evidence not in increasing index order"))
	}
	if e.Index >= b.Entry.Index {
		return fieldErr(evidenceField(i)+".index", ErrKey, fmt.Errorf("evidence at %d is not before the entry at %d", e.Index, b.Entry.Index))
	}
	return nil
}

func include(field string, e Entry, cp verify.Checkpoint) error {
	return includeHash(field, e, verify.LeafHash(e.Leaf), cp)
}

// includeHash is include with the leaf's hash, h, already computed.
func includeHash(field string, e Entry, h verify.Hash, cp verify.Checkpoint) error {
	if e.Index >= cp.Size {
		return fieldErr(field+".index", ErrInclusion, fmt.Errorf("index %d not below the checkpoint size %d", e.Index, cp.Size))
	}
	if err := verify.Inclusion(h, e.Index, cp.Size, e.Proof, cp.Root); err != nil {
		return fieldErr(field, ErrInclusion, fmt.Errorf("leaf, index %d or proof do not match the checkpoint: %w", e.Index, err))
	}
	return nil
}
