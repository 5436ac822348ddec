package audit

import (
	"crypto/sha256"

	"github.com/pledgelog/pledgelog/attest"
)

// prepared is what the fetch stage computes for one entry, in parallel:
// the envelope parsed once, the PAE its signatures sign, its dedup key,
// and whether its signatures already verified.
//
// The fetch stage hands each envelope to Registry.Verify, which checks
// the signatures against the keys the registry holds at that moment (a
// key id names one key forever, so a signature that verifies there
// verifies at any index) and keeps the parsed envelope for Admit, which
// then does not parse the leaf again. Whether the keys were valid at the
// entry's index is Admit's check, in index order. Verify fails for an
// entry whose key the sequential stage has not reached yet, or one the
// registry would reject; those entries are parsed again by Admit and, if
// admitted, their signatures verified by the verifiers.
type prepared struct {
	pae      []byte
	sigs     []attest.Signature
	dedup    [sha256.Size]byte
	ok       bool // the leaf parsed
	verified bool // Registry.Verify accepted the signatures
}

func (a *auditor) prepare(leaf []byte) prepared {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return prepared{}
	}
	p := prepared{pae: env.PAE(), sigs: env.Signatures, ok: true}
	p.dedup = sha256.Sum256(p.pae)
	_, err = a.reg.Verify(env)
	p.verified = err == nil
	return p
}
