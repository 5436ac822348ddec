package attest

import "context"

// AdmitEnvelope is the log's admission hook. The sequencer calls it in
// index order with envelopes that [Canonicalize] or [ParseLeaf] returned
// and that already passed [Registry.Verify], each with the RFC 6962 hash
// of its leaf, so that it neither parses nor hashes the leaf again. It
// does no signature work, but re-checks every rule against the registry
// as of index (a revocation earlier in the same batch wins), applies the
// entry, and computes the derived rows that [Registry.Index] returns. The
// undo reverts exactly this entry; the log calls the undos of a batch
// that failed to commit in reverse order.
func (r *Registry) AdmitEnvelope(index uint64, env *Envelope, leafHash [32]byte) (undo func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &tx{}
	if err := r.apply(t, index, leafHash, env); err != nil {
		return nil, err
	}
	put(t, r.pending, index, t.rows)
	done := false
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !done {
			done = true
			t.rollback()
			r.version.Add(1)
		}
	}, nil
}

// Admit is the log's admission hook for raw leaves: it parses entry and
// calls [Registry.AdmitEnvelope].
func (r *Registry) Admit(_ context.Context, index uint64, entry []byte) (undo func(), err error) {
	env, err := ParseLeaf(entry)
	if err != nil {
		return nil, err
	}
	return r.AdmitEnvelope(index, env, LeafHash(entry))
}

// ReplayEnvelope is [Registry.Replay] for an envelope that [ParseLeaf]
// returned, left as it was, and its leaf's hash: an auditor that parses
// (and verifies) leaves in parallel then does not parse them again in
// index order.
func (r *Registry) ReplayEnvelope(index uint64, env *Envelope, leafHash [32]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.apply(&tx{norows: true}, index, leafHash, env)
}
