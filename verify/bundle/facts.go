package bundle

import (
	"fmt"
	"time"
)

// Facts returns what was proven, one line each, for people to read.
func (r *Result) Facts() []string {
	f := []string{fmt.Sprintf("checkpoint: %s size %d root %s signed by log key %s", r.Origin, r.Size, r.Root, r.LogKey)}
	for _, c := range r.Cosignatures {
		f = append(f, fmt.Sprintf("cosigned by witness %s+%08x at %s", c.Name, c.KeyID, c.Time.UTC().Format(time.RFC3339)))
	}
	f = append(f, fmt.Sprintf("witness quorum met: %s", r.Quorum))
	for _, l := range r.Evidence {
		by := "itself (pinned)"
		if l.Authoriser != "" {
			by = "key " + l.Authoriser
		}
		f = append(f, fmt.Sprintf("evidence: entry %d (%s) included, adds key %s for %s, authorised by %s",
			l.Index, l.Action, l.KeyID, l.Principal, by))
	}
	if r.Version == 2 {
		f = append(f, "map root "+r.MapRootString()+" committed in the checkpoint")
		f = append(f, fmt.Sprintf("map: principal %s registered at index %d, chain seq %d", r.Signer, r.Registered, r.ChainSeq))
		state := "not revoked"
		if r.KeyRevoked != nil {
			state = fmt.Sprintf("revoked at index %d", *r.KeyRevoked)
		}
		if r.KeyVoidFrom != nil {
			state += fmt.Sprintf(", signatures void from index %d", *r.KeyVoidFrom)
		}
		f = append(f, fmt.Sprintf("map: key %s of %s added at index %d, %s", r.KeyID, r.Signer, r.KeyAdded, state))
		if a := r.Accord; a != nil {
			f = append(f, fmt.Sprintf("map: accord %s logged at index %d, sha256 %s (the statement's subject)", a.ID, a.Index, a.Digest))
		}
	}
	f = append(f, fmt.Sprintf("entry %d included, leaf hash %s", r.Index, r.LeafHash))
	if r.Statement != nil {
		f = append(f, fmt.Sprintf("statement: %s for %s", r.Statement.PredicateType, r.Statement.Signatory()))
	}
	f = append(f, fmt.Sprintf("signed by key %s of %s, added at index %d", r.KeyID, r.Signer, r.KeyAdded))
	return append(f, "non-revocation: "+r.NonRevocation)
}
