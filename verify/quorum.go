package verify

import (
	"fmt"
	"time"
)

// A Quorum is the rule that decides whether the witnesses that cosigned a
// checkpoint are enough to trust it, such as a c2sp.org/tlog-policy quorum
// (package verify/policy) or a [Threshold].
type Quorum interface {
	// Cosigners returns the verifiers of the witnesses the rule counts.
	// It must return the same verifiers, in the same order, every time.
	Cosigners() []Verifier
	// Met reports whether the rule is met when cosigned[i] says whether
	// a cosignature by Cosigners()[i] verified. It must not modify
	// cosigned, and len(cosigned) is len(Cosigners()).
	Met(cosigned []bool) bool
}

// Threshold returns the Quorum met when witnesses of at least k distinct
// key names cosigned: several keys of one name (such as a witness's
// Ed25519 and ML-DSA-44 keys, or its keys during a rotation) count once.
// k ≤ 0 is always met.
func Threshold(k int, witnesses ...Verifier) Quorum {
	return threshold{k: k, witnesses: witnesses}
}

type threshold struct {
	k         int
	witnesses []Verifier
}

func (t threshold) Cosigners() []Verifier { return t.witnesses }

func (t threshold) Met(cosigned []bool) bool {
	names := make(map[string]bool)
	for i, ok := range cosigned {
		if ok {
			names[t.witnesses[i].Name()] = true
		}
	}
	return len(names) >= t.k
}

func (t threshold) String() string {
	return fmt.Sprintf("%d of %d witnesses", max(t.k, 0), len(t.witnesses))
}

// A Cosignature is a verified witness cosignature.
type Cosignature struct {
	Witness Verifier
	Time    time.Time // when the witness says it cosigned
}

// Cosignatures returns the cosignatures of n, a note that [OpenCosigned]
// returned with q, in the order of q's cosigners.
func Cosignatures(n *Note, q Quorum) []Cosignature {
	if q == nil {
		return nil
	}
	var cs []Cosignature
	for _, w := range q.Cosigners() {
		for _, s := range n.Sigs {
			if s.Name != w.Name() || s.KeyID != w.KeyID() {
				continue
			}
			if t, err := CosignatureTime(s.Sig); err == nil {
				cs = append(cs, Cosignature{Witness: w, Time: t})
			}
			break
		}
	}
	return cs
}
