package bundle

import (
	"fmt"
	"time"
)

// ResultJSON is what the verifiers print with --json of a verified
// bundle (pledge verify, pledge-verify bundle): the proven values as
// fields, and the same facts as sentences, for people.
type ResultJSON struct {
	Verified      bool           `json:"verified"`
	Origin        string         `json:"origin"`
	Size          uint64         `json:"size"`
	Root          string         `json:"root"`
	LogKey        string         `json:"logKey"`
	Cosigners     []CosignerJSON `json:"cosigners"`
	Quorum        string         `json:"quorum"`
	Index         uint64         `json:"index"`
	LeafHash      string         `json:"leafHash"`
	PredicateType string         `json:"predicateType,omitempty"`
	Signer        string         `json:"signer"`
	KeyID         string         `json:"keyid"`
	KeyAdded      uint64         `json:"keyAdded"`
	Keys          []LinkJSON     `json:"keys"`
	NonRevocation string         `json:"nonRevocation"`
	AuditSize     uint64         `json:"auditSize,omitempty"`
	// A v2 bundle's map proofs (bundleVersion 2): the map root the
	// checkpoint commits to, and the key's revocation and voiding, as
	// of the checkpoint (absent: none).
	BundleVersion int          `json:"bundleVersion"`
	MapRoot       string       `json:"mapRoot,omitempty"`
	KeyRevoked    *uint64      `json:"keyRevoked,omitempty"`
	KeyVoidFrom   *uint64      `json:"keyVoidFrom,omitempty"`
	Accord        *AccordProof `json:"accord,omitempty"`
	Facts         []string     `json:"facts"`
}

// CosignerJSON is a witness that cosigned the checkpoint.
type CosignerJSON struct {
	Name  string    `json:"name"`
	KeyID string    `json:"keyid"` // the 4-byte key id of c2sp.org/signed-note, hex
	Time  time.Time `json:"time"`
}

// LinkJSON is a registry event of a v1 bundle's evidence: the chain of
// keys from the pinned registrar key to the signing key.
type LinkJSON struct {
	Index      uint64 `json:"index"`
	Action     string `json:"action"`
	Principal  string `json:"principal"`
	KeyID      string `json:"keyid"`
	Authoriser string `json:"authoriser,omitempty"`
}

// JSON returns r as the verifiers print it with --json.
func (r *Result) JSON() ResultJSON {
	j := ResultJSON{Verified: true, Origin: r.Origin, Size: r.Size, Root: r.Root.String(), LogKey: r.LogKey,
		Cosigners: []CosignerJSON{}, Quorum: r.Quorum, Index: r.Index, LeafHash: r.LeafHash.String(),
		Signer: r.Signer, KeyID: r.KeyID, KeyAdded: r.KeyAdded, Keys: []LinkJSON{},
		NonRevocation: r.NonRevocation, AuditSize: r.AuditSize, Facts: r.Facts(), BundleVersion: r.Version}
	if r.Version == 2 {
		j.MapRoot, j.KeyRevoked, j.KeyVoidFrom, j.Accord = r.MapRootString(), r.KeyRevoked, r.KeyVoidFrom, r.Accord
	}
	if r.Statement != nil {
		j.PredicateType = r.Statement.PredicateType
	}
	for _, c := range r.Cosignatures {
		j.Cosigners = append(j.Cosigners, CosignerJSON{c.Name, fmt.Sprintf("%08x", c.KeyID), c.Time.UTC()})
	}
	for _, l := range r.Evidence {
		j.Keys = append(j.Keys, LinkJSON(l))
	}
	return j
}
