package audit

import (
	"errors"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

// TestStoreFailureEndsAudit: when the registry's pledge file fails, the
// audit stops with the error instead of reporting the entry, and every
// later one, as rejected.
func TestStoreFailureEndsAudit(t *testing.T) {
	d, err := attest.NewDemo("log.example.org/store", []byte("store"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := attest.NewRegistryOnDisk("log.example.org/store", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := &auditor{reg: reg, parse: attest.ParseLeaf, keys: keyring{m: map[string]*key{}}}
	r := &tileResult{entries: d.Entries[:3], hashes: make([]verify.Hash, 3), prep: make([]prepared, 3)}
	for i, e := range r.entries {
		r.prep[i] = a.prepare(e)
	}
	a.tree = newTree(t.Context(), nil, 3)
	reg.Close() // as if the file had failed: every change now fails with ErrStore
	if err := a.consume(r, false); !errors.Is(err, attest.ErrStore) {
		t.Fatalf("consume = %v, want ErrStore", err)
	}
	if a.total != 0 {
		t.Fatalf("%d findings, want none: a store failure says nothing about the entries", a.total)
	}
}
