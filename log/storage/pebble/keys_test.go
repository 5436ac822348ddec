package pebble

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// TestKeyOrder checks that keys sort as the package comment says.
func TestKeyOrder(t *testing.T) {
	ordered := [][][]byte{
		{checkpointKey(9), checkpointKey(10), checkpointKey(255), checkpointKey(256), checkpointKey(1 << 40)},
		{tileKey(0, 256), tileKey(1, 0), tileKey(1, 11), tileKey(11, 1)},
		{bundleKey(1), chunkKey(1, 0), chunkKey(1, 2), chunkKey(1, 10), chunkKey(1, 256), bundleKey(2)},
		{appendRowKey(nil, "a", []byte{0xff, 0xff}), appendRowKey(nil, "b", nil)},
		{appendRowKey(nil, "a", nil), appendRowKey(nil, "a", []byte{0}), appendRowKey(nil, "a", []byte{0xff})},
	}
	for i, keys := range ordered {
		if !slices.IsSortedFunc(keys, bytes.Compare) {
			t.Errorf("keys %d = %x, not sorted", i, keys)
		}
	}
	if p := rowPrefix("a"); bytes.HasPrefix(appendRowKey(nil, "ab", nil), p) {
		t.Errorf("rowPrefix(%q) = %x is a prefix of a key of table %q", "a", p, "ab")
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ p, want []byte }{
		{[]byte("b"), []byte("c")},
		{[]byte{'b', 0, 0xff}, []byte{'b', 1}},
		{[]byte{'b', 0xff, 0xff}, []byte("c")},
		{[]byte{0xff}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := prefixEnd(tt.p); !bytes.Equal(got, tt.want) {
			t.Errorf("prefixEnd(%x) = %x, want %x", tt.p, got, tt.want)
		}
	}
}

func newMem(t *testing.T) *Storage {
	st, err := Create("db", Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestNoStaleChunks checks that, after a stream filled several bundles,
// only the open bundle has chunks left.
func TestNoStaleChunks(t *testing.T) {
	st, s := newMem(t), new(storagetest.Stream)
	n := 0
	for ; s.Size(n) < 5*256+100; n++ {
		if err := st.Commit(t.Context(), s.Update(n)); err != nil {
			t.Fatal(err)
		}
	}
	open := s.Size(n) / 256
	it, err := st.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindBundle}, UpperBound: []byte{kindBundle + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) == len(bundleKey(0)) && bytes.Compare(k, bundleKey(open)) >= 0 {
			t.Errorf("full bundle key %x at or past open bundle %d", k, open)
		}
		if len(k) > len(bundleKey(0)) && !bytes.HasPrefix(k, bundleKey(open)) {
			t.Errorf("chunk key %x left outside open bundle %d", k, open)
		}
	}
}

// TestCommitOutOfLayout checks that an Update the key layout cannot hold
// is refused, not truncated, and changes nothing.
func TestCommitOutOfLayout(t *testing.T) {
	st := newMem(t)
	tests := map[string]log.Update{
		"no checkpoint": {},
		"level 256":     {Tiles: []log.TileWrite{{Level: 256}}},
		"level -1":      {Tiles: []log.TileWrite{{Level: -1}}},
		"start 65536":   {Bundles: []log.BundleWrite{{Start: 65536}}},
		"start -1":      {Bundles: []log.BundleWrite{{Start: -1}}},
		"long table":    {Rows: []log.Row{{Table: string(make([]byte, 65536))}}},
	}
	for name, u := range tests {
		if name != "no checkpoint" {
			u.Checkpoint = []byte("checkpoint")
		}
		err := st.Commit(t.Context(), &u)
		if err == nil || errors.Is(err, log.ErrConflict) {
			t.Errorf("Commit(%s) = %v, want an error", name, err)
		}
	}
	if err := new(storagetest.Stream).Check(t.Context(), st, 0); err != nil {
		t.Error(err)
	}
}
