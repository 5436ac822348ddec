package audit

import (
	"crypto/sha256"

	"github.com/pledgelog/pledgelog/attest"
)

// prepared is what the fetch stage computes for one entry, in parallel:
// the envelope parsed once and its leaf hash (the sequential stage replays
// it without parsing or hashing again), the PAE its signatures sign, its
// dedup key, and the
// outcome of each signature whose key was known at that moment.
//
// A key id names one key forever, so a signature checked early is checked
// for good; whether the key was valid at the entry's index is the
// registry's check, in index order. A signature whose key no registry
// event had introduced yet (the fetchers run ahead of the sequential
// stage) is left to the verifiers, once the sequential stage has admitted
// the entry.
type prepared struct {
	env   *attest.Envelope // nil: the leaf did not parse
	err   error            // why it did not
	leaf  [32]byte         // its RFC 6962 leaf hash
	pae   []byte
	dedup [sha256.Size]byte
	sigs  []sigResult // one per env.Signatures
}

type sigResult struct {
	checked bool  // the key was known and the signature checked
	err     error // the outcome, if checked
}

func (a *auditor) prepare(leaf []byte) prepared {
	env, err := a.parse(leaf)
	if err != nil {
		return prepared{err: err}
	}
	p := prepared{env: env, leaf: attest.LeafHash(leaf), pae: env.PAE(), sigs: make([]sigResult, len(env.Signatures))}
	p.dedup = sha256.Sum256(p.pae)
	for i, s := range env.Signatures {
		if k := a.keys.get(s.KeyID); k != nil {
			p.sigs[i] = sigResult{checked: true, err: k.verify(p.pae, s.Sig)}
		}
	}
	return p
}
