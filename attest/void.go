package attest

import "slices"

// void applies a compromise: every signature of k from index from on is
// void. Pledges it signed there stop counting, and keys it added there by
// add-key are voided from their own addition, recursively, since the
// attacker may have added them. Revocations it signed there stand: a
// revoked key is never re-added, and the signatory recovers through the
// registrar. at is the index of the revocation.
func (r *Registry) void(t *tx, k *keyState, from, at uint64) {
	dirty := map[cell]bool{}
	r.voidKey(t, k, from, at, dirty)
	cells := make([]cell, 0, len(dirty))
	for c := range dirty {
		cells = append(cells, c)
	}
	slices.SortFunc(cells, func(a, b cell) int { return compareStrings(latestKey(a), latestKey(b)) })
	for _, c := range cells {
		t.emit(r.latestRow(c))
	}
}

func (r *Registry) voidKey(t *tx, k *keyState, from, at uint64, dirty map[cell]bool) {
	set(t, &k.voidFrom, &from)
	if k.revoked == nil {
		set(t, &k.revoked, &at)
	}
	set(t, &k.reason, ReasonCompromised)
	for _, p := range k.pledges {
		if p.index < from || p.void {
			continue
		}
		set(t, &p.void, true)
		dirty[p.cell] = true
		t.emit(r.pledgeRow(p), searchRow(SearchStatus, p.status, p.index, true),
			searchRow(SearchStatus, StatusVoid, p.index, false))
	}
	for _, c := range k.children {
		if c.added >= from && (c.voidFrom == nil || *c.voidFrom > c.added+1) {
			r.voidKey(t, c, c.added+1, at, dirty)
		}
	}
}

func (r *Registry) latestRow(c cell) Row {
	p := latestOf(r.cells[c])
	if p == nil {
		return Row{Table: TableLatest, Key: []byte(latestKey(c)), Delete: true}
	}
	return jsonRow(TableLatest, latestKey(c), LatestPledge{c.signatory, c.accord, c.principle, p.index, p.status})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
