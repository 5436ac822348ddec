package bundle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// A Policy says whom a verifier trusts. Nothing in a bundle is trusted
// but what these keys sign.
type Policy struct {
	// Origin is the log's origin, the first line of its checkpoints.
	Origin string
	// LogKeys are the log's note verifiers (one or more, during a key
	// rotation); their names must be Origin.
	LogKeys []verify.Verifier
	// RegistrarKeys are registrar keys trusted as such: the key of the
	// log's genesis, and any later one the verifier has checked itself.
	RegistrarKeys []attest.PublicKey
	// RegistrarKeyIDs pins registrar keys by key id only (attest.KeyID):
	// the key itself must then come from a genesis or rotate entry in the
	// bundle's evidence.
	RegistrarKeyIDs []string
	// Quorum is what the checkpoint's witness cosignatures must meet: a
	// c2sp.org/tlog-policy (*policy.Policy) or a verify.Threshold; nil
	// requires none.
	Quorum verify.Quorum
	// Audit, if not nil, is what an audit of the log established; it can
	// prove non-revocation, which a bundle alone cannot.
	Audit *AuditState
}

func (p *Policy) check() error {
	if err := p.checkV2(); err != nil {
		return err
	}
	if len(p.RegistrarKeys)+len(p.RegistrarKeyIDs) == 0 {
		return fieldErr("policy", ErrPolicy, errors.New("no registrar key"))
	}
	return nil
}

// checkV2 is check for v2 bundles, which need no registrar key: the map
// proves every key's owner.
func (p *Policy) checkV2() error {
	switch {
	case p.Origin == "":
		return fieldErr("policy", ErrPolicy, errors.New("no origin"))
	case len(p.LogKeys) == 0:
		return fieldErr("policy", ErrPolicy, errors.New("no log key"))
	case p.Quorum != nil && !p.Quorum.Met(slices.Repeat([]bool{true}, len(p.Quorum.Cosigners()))):
		return fieldErr("policy", ErrPolicy, fmt.Errorf("%v cannot be met even if every witness cosigns", p.Quorum))
	}
	return nil
}

// pinned reports whether id is a registrar key id of the policy.
func (p *Policy) pinned(id string) bool {
	if slices.Contains(p.RegistrarKeyIDs, id) {
		return true
	}
	return slices.ContainsFunc(p.RegistrarKeys, func(k attest.PublicKey) bool { return k.ID() == id })
}

// A Result is what Verify proved, and only that.
type Result struct {
	// The checkpoint, verified with LogKey ("<origin>+<key id>") and
	// cosigned by Cosignatures (the pinned witnesses that verified, with
	// the times they state); Quorum describes the quorum the policy
	// required, which they met ("none" if none).
	Origin       string
	Size         uint64
	Root         verify.Hash
	LogKey       string
	Cosignatures []Cosignature
	Quorum       string

	// The entry: included at Index with LeafHash, a canonical attestation
	// whose parsed Statement is this.
	Index     uint64
	LeafHash  verify.Hash
	Statement *attest.Statement

	// Signer is the principal whose key KeyID authorised the entry (a
	// signatory id, or attest.RegistrarID), a key introduced for Signer at
	// index KeyAdded < Index by the last link of Evidence.
	Signer   string
	KeyID    string
	KeyAdded uint64
	Evidence []Link

	// NonRevocation says whether the keys of the chain are proven not
	// revoked where they signed: "not proven offline", unless an audit
	// state of size AuditSize > Index covers it.
	NonRevocation string
	AuditSize     uint64

	// Version is the bundle's format version, 1 or 2. A v2 bundle proves
	// the key's state from the registry map whose root MapRoot the
	// checkpoint commits to: its owner Signer registered at Registered
	// (its chain at ChainSeq), the key added at KeyAdded, revoked at
	// KeyRevoked and void from KeyVoidFrom (nil: not), as of the
	// checkpoint (MapSize, its size, once proven); and for a pledge its
	// Accord. Evidence is then empty.
	Version     int
	MapRoot     [32]byte
	Registered  uint64
	ChainSeq    uint64
	KeyRevoked  *uint64
	KeyVoidFrom *uint64
	MapSize     uint64
	Accord      *AccordProof
}

// NotProvenOffline is Result.NonRevocation without an audit state: a
// Merkle log cannot prove an absence.
const NotProvenOffline = "not proven offline"

// A Cosignature is a verified witness cosignature of the checkpoint.
type Cosignature struct {
	Name  string
	KeyID uint32
	Time  time.Time // when the witness says it cosigned
}

// A Link is a verified registry event of the evidence.
type Link struct {
	Index      uint64
	Action     string // genesis, rotate, register, add-key or recover
	Principal  string // the signatory, or attest.RegistrarID
	KeyID      string // the key it introduced, which also signed it
	Authoriser string // the key id that authorised it; "" for genesis
}
