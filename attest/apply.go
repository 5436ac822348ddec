package attest

import (
	"encoding/json"
	"errors"
	"fmt"
)

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
// ReplayEnvelope, in index order.
// An error that wraps ErrStore is not about the entry: the registry can
// no longer follow the log.
func (r *Registry) Replay(index uint64, entry []byte) (*Envelope, error) {
	env, err := ParseLeaf(entry)
	if err != nil {
		return nil, err
	}
	if err := r.ReplayEnvelope(index, env, LeafHash(entry)); err != nil {
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
	if r.failed != nil {
		return r.failed
	}
	k := r.keys[pi.KeyID]
	status, ok := statusCode(pi.Status)
	if k == nil || k.owner != pi.Signatory || !ok {
		return fmt.Errorf("pledge row %d does not fit the registry: %w", index, ErrMalformed)
	}
	t := &tx{norows: true}
	if _, err := r.addPledge(t, index, k, cell{pi.Signatory, pi.Accord, pi.Principle}, status); err != nil {
		return fmt.Errorf("pledge row %d does not fit the registry: %w", index, r.abort(t, err))
	}
	return nil
}

// apply checks env against the state as of index and applies it, or
// rolls t back and returns an error. The caller holds r.mu.
func (r *Registry) apply(t *tx, index uint64, leafHash [32]byte, env *Envelope) error {
	if err := r.applyEntry(t, index, leafHash, env); err != nil {
		return r.abort(t, err)
	}
	return nil
}

// abort rolls t back and returns err. An ErrStore fails every later check
// too: the registry has lost track of the log.
func (r *Registry) abort(t *tx, err error) error {
	t.rollback()
	if errors.Is(err, ErrStore) && r.failed == nil {
		r.failed = err
	}
	return err
}

func (r *Registry) applyEntry(t *tx, index uint64, leafHash [32]byte, env *Envelope) error {
	c, err := r.check(env, index)
	if err != nil {
		return err
	}
	st := env.Statement
	e := &event{index: index, leaf: leafHash, st: st, c: c}
	switch p := st.Predicate.(type) {
	case *Registrar:
		r.applyRegistrar(t, e, p)
	case *Accord:
		r.applyAccord(t, e, p)
	case *SignatoryEvent:
		return r.applySignatory(t, e, p)
	case *Pledge:
		return r.applyPledge(t, e, p)
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
	r.mark(MapAccord, p.ID, "", "")
	t.emit(jsonRow(TableAccords, p.ID, a.info), searchRow(SearchAccord, p.ID, e.index, false))
	r.emitRegistry(t, e, RegistrarID)
}

func (r *Registry) applySignatory(t *tx, e *event, p *SignatoryEvent) error {
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
			if err := r.void(t, k, *p.VoidFrom, e.index); err != nil {
				return err
			}
		}
	}
	r.advance(t, pr, e, p.Action, keyID)
	t.emit(jsonRow(TableSignatories, p.Signatory, pr.snapshot()))
	r.emitRegistry(t, e, p.Signatory)
	return nil
}

func (c *checked) authID() string {
	if c.auth == nil || c.auth.owner == RegistrarID {
		return RegistrarID
	}
	return c.auth.id
}

func (r *Registry) applyPledge(t *tx, e *event, p *Pledge) error {
	status, ok := statusCode(p.Status)
	if !ok { // ParseLeaf checked it
		return malformed("/payload/predicate/status", "bad-status", "")
	}
	c := cell{p.Signatory, p.Accord, p.Principle}
	rec, err := r.addPledge(t, e.index, r.keys[e.c.keys[0].id], c, status)
	if err != nil || t.norows {
		return err
	}
	t.emit(r.pledgeRow(rec, false),
		jsonRow(TableLatest, latestKey(c), LatestPledge{p.Signatory, p.Accord, p.Principle, e.index, p.Status}),
		searchRow(SearchSignatory, p.Signatory, e.index, false),
		searchRow(SearchAccord, p.Accord, e.index, false),
		searchRow(SearchPrinciple, p.Accord+"/"+p.Principle, e.index, false),
		searchRow(SearchStatus, p.Status, e.index, false),
		searchRow(SearchSubject, e.subject(), e.index, false))
	return nil
}

// addPledge records the pledge at index, signed by k, in cell c. Pledges
// must come in index order.
func (r *Registry) addPledge(t *tx, index uint64, k *keyState, c cell, status uint8) (pledgeRec, error) {
	n := r.store.len()
	if n > 0 {
		last, err := pledgeAt(r.store, n-1)
		if err != nil {
			return pledgeRec{}, err
		}
		if last.index >= index {
			return pledgeRec{}, fmt.Errorf("pledge %d after pledge %d: %w", index, last.index, ErrMalformed)
		}
	}
	cs := r.cellOf(t, c)
	r.mark(MapCell, c.signatory, c.accord, c.principle)
	rec := pledgeRec{index: index, key: k.ord, cell: cs.ord, status: status}
	t.undo = append(t.undo, func() { r.store.truncate(n) })
	if err := r.store.append(rec); err != nil {
		return pledgeRec{}, err
	}
	if !k.voidAt(index) {
		set(t, &cs.latest, pledgeRef{pos: n, index: index, key: k, status: status})
	}
	return rec, nil
}

// cellOf returns the state of c, adding it if it is new.
func (r *Registry) cellOf(t *tx, c cell) *cellState {
	cs := r.cells[c]
	if cs == nil {
		cs = &cellState{cell: c, ord: uint32(len(r.cellList))}
		put(t, r.cells, c, cs)
		set(t, &r.cellList, append(r.cellList, cs))
	}
	return cs
}

func (r *Registry) pledgeRow(rec pledgeRec, void bool) Row {
	c := r.cellList[rec.cell].cell
	return jsonRow(TablePledges, string(IndexKey(rec.index)), PledgeInfo{Signatory: c.signatory,
		Accord: c.accord, Principle: c.principle, Status: statuses[rec.status], KeyID: r.keyList[rec.key].id, Void: void})
}

func (r *Registry) addKey(t *tx, pr *principal, vk *verifyKey, index uint64, addedBy string, parent *keyState) {
	k := &keyState{verifyKey: vk, ord: uint32(len(r.keyList)), owner: pr.info.ID, added: index, addedBy: addedBy}
	put(t, r.keys, vk.id, k)
	set(t, &r.keyList, append(r.keyList, k))
	set(t, &pr.keys, append(pr.keys, k))
	r.mark(MapKey, pr.info.ID, vk.id, "")
	r.mark(MapPrincipal, pr.info.ID, "", "")
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
	r.mark(MapKey, k.owner, k.id, "")
	r.version.Add(1) // not undone: a rollback moves it again
}

func (r *Registry) advance(t *tx, pr *principal, e *event, action, keyID string) {
	set(t, &pr.seq, pr.seq+1)
	if action == "genesis" || action == ActionRegister {
		set(t, &pr.seq, 0)
	}
	set(t, &pr.head, e.leaf)
	r.mark(MapPrincipal, pr.info.ID, "", "")
	set(t, &pr.events, append(pr.events, Event{Index: e.index, Action: action, KeyID: keyID}))
}

// emitRegistry writes the TableRegistry row and the search rows every
// registry entry has.
func (r *Registry) emitRegistry(t *tx, e *event, principal string) {
	t.emit(Row{Table: TableRegistry, Key: IndexKey(e.index), Value: []byte(e.st.PredicateType)},
		searchRow(SearchSignatory, principal, e.index, false),
		searchRow(SearchSubject, e.subject(), e.index, false))
}
