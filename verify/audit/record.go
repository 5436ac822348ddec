package audit

import (
	"encoding/json"
	"fmt"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// A Record is what a finished audit established, saved for
// pledge-verify bundle --audit-state: the signed checkpoint it audited
// and every revoke-key event below that size. The file is JSON:
//
//	{"checkpoint": "<signed note>",
//	 "revocations": [{"keyid": "<hex>", "index": 40, "voidFrom": 38}, …]}
//
// voidFrom is present only for compromised keys. A verifier opens the
// checkpoint with its pinned keys before using the record (AuditState).
type Record struct {
	Checkpoint  []byte
	Revocations []bundle.Revocation
}

type recordJSON struct {
	Checkpoint  string           `json:"checkpoint"`
	Revocations []revocationJSON `json:"revocations"`
}

type revocationJSON struct {
	KeyID    string  `json:"keyid"`
	Index    uint64  `json:"index"`
	VoidFrom *uint64 `json:"voidFrom,omitempty"`
}

// Marshal returns the record's JSON.
func (r *Record) Marshal() []byte {
	j := recordJSON{Checkpoint: string(r.Checkpoint), Revocations: []revocationJSON{}}
	for _, rv := range r.Revocations {
		j.Revocations = append(j.Revocations, revocationJSON(rv))
	}
	b, _ := json.Marshal(j)
	return append(b, '\n')
}

// ParseRecord parses a record file strictly. It does not verify the
// checkpoint's signatures.
func ParseRecord(b []byte) (*Record, error) {
	var j recordJSON
	if err := decodeStrict(b, &j); err != nil {
		return nil, err
	}
	if _, err := verify.ParseNote([]byte(j.Checkpoint)); err != nil {
		return nil, fmt.Errorf("record checkpoint: %w: %w", ErrMalformedState, err)
	}
	r := &Record{Checkpoint: []byte(j.Checkpoint)}
	for _, rv := range j.Revocations {
		r.Revocations = append(r.Revocations, bundle.Revocation(rv))
	}
	return r, nil
}

// AuditState returns the record as a bundle.AuditState for the checkpoint
// cp, which the caller opened from r.Checkpoint with its pinned keys, and
// the consistency proof between cp's tree and the bundle's (empty when
// they have the same size).
func (r *Record) AuditState(cp verify.Checkpoint, proof []verify.Hash) *bundle.AuditState {
	return &bundle.AuditState{Origin: cp.Origin, Size: cp.Size, Root: cp.Root, Proof: proof, Revocations: r.Revocations}
}
