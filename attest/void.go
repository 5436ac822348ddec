package attest

import (
	"math"
	"slices"
	"strings"
)

// void applies a compromise: every signature of k from index from on is
// void. Pledges it signed there stop counting, and keys it added there by
// add-key are voided from their own addition, recursively, since the
// attacker may have added them. Revocations it signed there stand: a
// revoked key is never re-added, and the signatory recovers through the
// registrar. at is the index of the revocation.
//
// Rows come in this order: those of the newly void pledges, key by key
// (k, then the keys it added, depth first), each key's in index order;
// then the latest row of every cell they were in, by cell.
func (r *Registry) void(t *tx, k *keyState, from, at uint64) error {
	var keys []*voided
	r.voidKey(t, k, from, at, &keys)
	dirty, err := r.voidPledges(t, keys)
	if err != nil {
		return err
	}
	cells := make([]*cellState, 0, len(dirty))
	for c := range dirty {
		cells = append(cells, r.cellList[c])
	}
	slices.SortFunc(cells, func(a, b *cellState) int { return strings.Compare(latestKey(a.cell), latestKey(b.cell)) })
	if err := r.findLatest(t, cells); err != nil {
		return err
	}
	for _, cs := range cells {
		t.emit(r.latestRow(cs))
	}
	return nil
}

// voided is a key that a compromise voids.
type voided struct {
	k    *keyState
	from uint64
	old  *uint64     // k's voidFrom before: its pledges from there on were void already
	recs []pledgeRec // the pledges it makes void, in index order (none if t.norows)
}

func (r *Registry) voidKey(t *tx, k *keyState, from, at uint64, out *[]*voided) {
	*out = append(*out, &voided{k: k, from: from, old: k.voidFrom})
	set(t, &k.voidFrom, &from)
	if k.revoked == nil {
		set(t, &k.revoked, &at)
	}
	set(t, &k.reason, ReasonCompromised)
	r.mark(MapKey, k.owner, k.id, "")
	for _, c := range k.children {
		if c.added >= from && (c.voidFrom == nil || *c.voidFrom > c.added+1) {
			r.voidKey(t, c, c.added+1, at, out)
		}
	}
}

// voidPledges finds the pledges that voiding keys makes void, in one scan
// of the store from the lowest from, emits their rows and returns the
// cells they are in.
func (r *Registry) voidPledges(t *tx, keys []*voided) (map[uint32]bool, error) {
	byKey := make(map[uint32]*voided, len(keys))
	from := uint64(math.MaxUint64)
	for _, v := range keys {
		byKey[v.k.ord], from = v, min(from, v.from)
	}
	start, err := searchPledges(r.store, from)
	if err != nil {
		return nil, err
	}
	dirty := map[uint32]bool{}
	err = scanForward(r.store, start, func(_ int, rec pledgeRec) {
		v := byKey[rec.key]
		if v == nil || rec.index < v.from || v.old != nil && rec.index >= *v.old {
			return
		}
		dirty[rec.cell] = true
		if !t.norows {
			v.recs = append(v.recs, rec)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, v := range keys {
		for _, rec := range v.recs {
			t.emit(r.pledgeRow(rec, true), searchRow(SearchStatus, statuses[rec.status], rec.index, true),
				searchRow(SearchStatus, StatusVoid, rec.index, false))
		}
	}
	return dirty, nil
}

// findLatest finds the new latest pledge of the cells whose latest just
// became void, in one backward scan from the highest of those.
func (r *Registry) findLatest(t *tx, cells []*cellState) error {
	stale := map[uint32]*cellState{}
	top := 0
	for _, cs := range cells {
		if l := cs.latest; l.key != nil && l.key.voidAt(l.index) {
			stale[cs.ord], top = cs, max(top, l.pos)
			r.mark(MapCell, cs.signatory, cs.accord, cs.principle)
			set(t, &cs.latest, pledgeRef{})
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return scanBackward(r.store, top, func(pos int, rec pledgeRec) bool {
		cs, k := stale[rec.cell], r.keyList[rec.key]
		if cs != nil && !k.voidAt(rec.index) {
			set(t, &cs.latest, pledgeRef{pos: pos, index: rec.index, key: k, status: rec.status})
			delete(stale, rec.cell)
		}
		return len(stale) > 0
	})
}

func (r *Registry) latestRow(cs *cellState) Row {
	if cs.latest.key == nil {
		return Row{Table: TableLatest, Key: []byte(latestKey(cs.cell)), Delete: true}
	}
	return jsonRow(TableLatest, latestKey(cs.cell), cs.latestPledge())
}
