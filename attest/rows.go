package attest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// A Row is a derived row written atomically with its entry: upsert
// (Table, Key) → Value, or delete it when Delete is set. Rows of a table
// are scanned in bytewise Key order. Its fields are those of log.Row, so
// the caller converts with log.Row(r).
type Row struct {
	Table  string
	Key    []byte
	Value  []byte
	Delete bool
}

// Tables written by [Registry.Index]. Keys are ASCII; ids never contain
// '/', and indexes are 16 lowercase hex digits, so bytewise key order is
// numeric index order and a key prefix selects exactly one id.
const (
	// TableSignatories: <signatory id> → SignatoryInfo JSON (the registrar
	// under "registrar"), rewritten by every event of that principal.
	TableSignatories = "signatories"
	// TableAccords: <accord id> → AccordInfo JSON.
	TableAccords = "accords"
	// TableRegistry: <index> → predicate type URI, for every registrar,
	// accord and signatory entry: the entries Replay needs at startup.
	TableRegistry = "registry"
	// TablePledges: <index> → PledgeInfo JSON for every pledge, rewritten
	// when it becomes void; RestorePledge reads these rows at startup.
	TablePledges = "pledges"
	// TableLatest: <signatory>/<accord>/<principle> → LatestPledge JSON,
	// deleted when no pledge of the cell is left that is not void.
	TableLatest = "latest"
	// TableSearch: <field>/<value>/<index> → empty, one row per entry and
	// field that applies. Fields: signatory, accord, principle (value
	// <accord>/<principle>), status (pledges; "void" once voided), subject
	// (sha256 hex of the statement's subject). A page is a prefix scan
	// from the last key returned (the cursor), exclusive.
	TableSearch = "search"
)

// Search fields of TableSearch.
const (
	SearchSignatory = "signatory"
	SearchAccord    = "accord"
	SearchPrinciple = "principle"
	SearchStatus    = "status"
	SearchSubject   = "subject"
	StatusVoid      = "void"
)

// PledgeInfo is the value of a TablePledges row.
type PledgeInfo struct {
	Signatory string `json:"signatory"`
	Accord    string `json:"accord"`
	Principle string `json:"principle"`
	Status    string `json:"status"`
	KeyID     string `json:"keyid"`
	Void      bool   `json:"void,omitempty"`
}

// IndexKey encodes an index as 16 lowercase hex digits.
func IndexKey(index uint64) []byte { return fmt.Appendf(nil, "%016x", index) }

// ParseIndexKey decodes the index at the end of a TableRegistry,
// TablePledges or TableSearch key.
func ParseIndexKey(key []byte) (uint64, error) {
	if len(key) < 16 {
		return 0, fmt.Errorf("key %q has no index: %w", key, ErrMalformed)
	}
	i, err := strconv.ParseUint(string(key[len(key)-16:]), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("key %q has no index: %w", key, ErrMalformed)
	}
	return i, nil
}

// SearchPrefix returns the TableSearch key prefix of all entries whose
// field has value, e.g. SearchPrefix(SearchStatus, "committed").
func SearchPrefix(field, value string) []byte { return []byte(field + "/" + value + "/") }

func searchRow(field, value string, index uint64, del bool) Row {
	return Row{Table: TableSearch, Key: append(SearchPrefix(field, value), IndexKey(index)...), Value: []byte{}, Delete: del}
}

func jsonRow(table, key string, v any) Row {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return Row{Table: table, Key: []byte(key), Value: b}
}

func latestKey(c cell) string { return c.signatory + "/" + c.accord + "/" + c.principle }

// tx records the undo steps and the derived rows of one entry.
type tx struct {
	undo   []func()
	rows   []Row
	norows bool // Replay and RestorePledge: emit drops rows, and pledges skip computing them
}

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

func (t *tx) emit(rows ...Row) {
	if !t.norows {
		t.rows = append(t.rows, rows...)
	}
}

// set assigns *p = v, recording the undo.
func set[T any](t *tx, p *T, v T) {
	old := *p
	*p = v
	t.undo = append(t.undo, func() { *p = old })
}

// put assigns m[k] = v, recording the undo.
func put[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}
