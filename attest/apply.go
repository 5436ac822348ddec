package attest

import (
	"context"
	"encoding/json"
	"fmt"
)

// Admit is the log's admission hook. The sequencer calls it in index
// order with canonical leaves that already passed [Registry.Verify]; it
// does no signature work, but re-checks every rule against the registry as
// of index (a revocation earlier in the same batch wins), applies the
// entry, and computes the derived rows that [Registry.Index] returns. The
// undo reverts exactly this entry; the log calls the undos of a batch that
// failed to commit in reverse order.
func (r *Registry) Admit(_ context.Context, index uint64, entry []byte) (undo func(), err error) {
	env, err := r.parseLeaf(entry)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &tx{}
	if err := r.apply(t, index, entry, env); err != nil {
		t.rollback()
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

// Index is the log's derived-rows hook: it returns the rows Admit computed
// for index (once; nil if Admit did not admit that index).
func (r *Registry) Index(index uint64, _ []byte) []Row {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := r.pending[index]
	delete(r.pending, index)
	return rows
}

// Replay applies an entry of the log at startup, with the same effect on
// the state as Admit but no rows and no undo, and returns its envelope.
// Call it in index order for every entry listed in TableRegistry, then
// call RestorePledge for every TablePledges row; or call it for every
// entry of the log. Like Admit it does not verify signatures: it trusts
// the log it replays. An auditor that trusts nothing calls Verify before
// Replay, in index order (and Replay then does not parse the leaf again).
func (r *Registry) Replay(index uint64, entry []byte) (*Envelope, error) {
	env, err := r.parseLeaf(entry)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.apply(&tx{}, index, entry, env); err != nil {
		return nil, err
	}
	return env, nil
}

// RestorePledge loads one TablePledges row at startup, after Replay of the
// registry entries. Rows must come in key (index) order.
func (r *Registry) RestorePledge(key, value []byte) error {
	index, err := ParseIndexKey(key)
	if err != nil {
		return err
	}
	var pi PledgeInfo
	if err := json.Unmarshal(value, &pi); err != nil {
		return fmt.Errorf("pledge row %d: %w", index, ErrMalformed)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.keys[pi.KeyID]
	c := cell{pi.Signatory, pi.Accord, pi.Principle}
	refs := r.cells[c]
	if k == nil || k.owner != pi.Signatory || len(refs) > 0 && refs[len(refs)-1].index >= index {
		return fmt.Errorf("pledge row %d does not fit the registry: %w", index, ErrMalformed)
	}
	r.addPledge(&tx{}, &pledgeRef{index: index, key: k, status: pi.Status, cell: c,
		void: k.voidFrom != nil && index >= *k.voidFrom})
	return nil
}

// apply checks env against the state as of index and applies it. The
// caller holds r.mu.
func (r *Registry) apply(t *tx, index uint64, leaf []byte, env *Envelope) error {
	c, err := r.check(env, index)
	if err != nil {
		return err
	}
	st := env.Statement
	e := &event{index: index, leaf: LeafHash(leaf), st: st, c: c}
	switch p := st.Predicate.(type) {
	case *Registrar:
		r.applyRegistrar(t, e, p)
	case *Accord:
		r.applyAccord(t, e, p)
	case *SignatoryEvent:
		r.applySignatory(t, e, p)
	case *Pledge:
		r.applyPledge(t, e, p)
	}
	return nil
}

// event is an entry being applied.
type event struct {
	index uint64
	leaf  [32]byte
	st    *Statement
	c     *checked
}

func (e *event) subject() string { return e.st.Subject[0].Digest.SHA256 }

func (r *Registry) applyRegistrar(t *tx, e *event, p *Registrar) {
	pr := r.principals[RegistrarID]
	if p.Action == "genesis" {
		pr = &principal{info: SignatoryInfo{ID: RegistrarID, Name: "Registrar", Notice: p.Notice, Registered: e.index}}
		put(t, r.principals, RegistrarID, pr)
	} else {
		r.revoke(t, e.c.auth, e.index, ReasonSuperseded)
	}
	r.addKey(t, pr, e.c.newKey, e.index, RegistrarID, nil)
	r.advance(t, pr, e, p.Action, e.c.newKey.id)
	t.emit(jsonRow(TableSignatories, RegistrarID, pr.snapshot()))
	r.emitRegistry(t, e, RegistrarID)
}

func (r *Registry) applyAccord(t *tx, e *event, p *Accord) {
	d, _ := PredicateDigest(p)
	a := &accordState{info: AccordInfo{Accord: *p, Index: e.index, Digest: d}}
	put(t, r.accords, p.ID, a)
	t.emit(jsonRow(TableAccords, p.ID, a.info), searchRow(SearchAccord, p.ID, e.index, false))
	r.emitRegistry(t, e, RegistrarID)
}

func (r *Registry) applySignatory(t *tx, e *event, p *SignatoryEvent) {
	pr := r.principals[p.Signatory]
	keyID := p.KeyID
	switch p.Action {
	case ActionRegister:
		pr = &principal{info: SignatoryInfo{ID: p.Signatory, Name: p.Name, Website: p.Website, Notice: p.Notice, Registered: e.index}}
		put(t, r.principals, p.Signatory, pr)
		fallthrough
	case ActionAddKey, ActionRecover:
		r.addKey(t, pr, e.c.newKey, e.index, e.c.authID(), e.c.auth)
		keyID = e.c.newKey.id
	case ActionRevoke:
		k := r.keys[p.KeyID]
		r.revoke(t, k, e.index, p.Reason)
		if p.VoidFrom != nil {
			r.void(t, k, *p.VoidFrom, e.index)
		}
	}
	r.advance(t, pr, e, p.Action, keyID)
	t.emit(jsonRow(TableSignatories, p.Signatory, pr.snapshot()))
	r.emitRegistry(t, e, p.Signatory)
}

func (c *checked) authID() string {
	if c.auth == nil || c.auth.owner == RegistrarID {
		return RegistrarID
	}
	return c.auth.id
}

func (r *Registry) applyPledge(t *tx, e *event, p *Pledge) {
	ref := &pledgeRef{index: e.index, key: r.keys[e.c.keys[0].id], status: p.Status,
		cell: cell{p.Signatory, p.Accord, p.Principle}}
	r.addPledge(t, ref)
	t.emit(r.pledgeRow(ref),
		jsonRow(TableLatest, latestKey(ref.cell), LatestPledge{p.Signatory, p.Accord, p.Principle, e.index, p.Status}),
		searchRow(SearchSignatory, p.Signatory, e.index, false),
		searchRow(SearchAccord, p.Accord, e.index, false),
		searchRow(SearchPrinciple, p.Accord+"/"+p.Principle, e.index, false),
		searchRow(SearchStatus, p.Status, e.index, false),
		searchRow(SearchSubject, e.subject(), e.index, false))
}

func (r *Registry) addPledge(t *tx, ref *pledgeRef) {
	put(t, r.pledges, ref.index, ref)
	put(t, r.cells, ref.cell, append(r.cells[ref.cell], ref))
	set(t, &ref.key.pledges, append(ref.key.pledges, ref))
}

func (r *Registry) pledgeRow(ref *pledgeRef) Row {
	return jsonRow(TablePledges, string(IndexKey(ref.index)), PledgeInfo{Signatory: ref.cell.signatory,
		Accord: ref.cell.accord, Principle: ref.cell.principle, Status: ref.status, KeyID: ref.key.id, Void: ref.void})
}

func (r *Registry) addKey(t *tx, pr *principal, vk *verifyKey, index uint64, addedBy string, parent *keyState) {
	k := &keyState{verifyKey: vk, owner: pr.info.ID, added: index, addedBy: addedBy}
	put(t, r.keys, vk.id, k)
	set(t, &pr.keys, append(pr.keys, k))
	if parent != nil && parent.owner != RegistrarID {
		set(t, &parent.children, append(parent.children, k))
	}
	r.version.Add(1) // not undone: a rollback moves it again
}

func (r *Registry) revoke(t *tx, k *keyState, index uint64, reason string) {
	if k.revoked == nil {
		set(t, &k.revoked, &index)
	}
	set(t, &k.reason, reason)
	r.version.Add(1) // not undone: a rollback moves it again
}

func (r *Registry) advance(t *tx, pr *principal, e *event, action, keyID string) {
	set(t, &pr.seq, pr.seq+1)
	if action == "genesis" || action == ActionRegister {
		set(t, &pr.seq, 0)
	}
	set(t, &pr.head, e.leaf)
	set(t, &pr.events, append(pr.events, Event{Index: e.index, Action: action, KeyID: keyID}))
}

// emitRegistry writes the TableRegistry row and the search rows every
// registry entry has.
func (r *Registry) emitRegistry(t *tx, e *event, principal string) {
	t.emit(Row{Table: TableRegistry, Key: IndexKey(e.index), Value: []byte(e.st.PredicateType)},
		searchRow(SearchSignatory, principal, e.index, false),
		searchRow(SearchSubject, e.subject(), e.index, false))
}
