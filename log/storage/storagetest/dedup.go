package storagetest

import (
	"bytes"
	"math"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// dedupKeys are stored by testDedup; dedupMisses are not. They differ from
// each other by a trailing 0x00, a leading 0xff, or a byte of length.
var (
	dedupKeys = [][]byte{
		{}, {0}, {0, 0}, {0xff}, {0xff, 0xff}, {0, 0xff}, []byte("a"), []byte("a\x00"), []byte("ab"),
		dedupKey(0), bytes.Repeat([]byte{0xff}, 1000),
	}
	dedupMisses = [][]byte{
		{0, 0, 0}, {0xff, 0xff, 0xff}, {1}, {0xfe}, []byte("b"), []byte("a\x00\x00"), dedupKey(3),
		bytes.Repeat([]byte{0xff}, 999),
	}
)

func dedupIndex(i int) uint64 {
	return []uint64{0, 1, 255, 256, 1 << 32, math.MaxUint64}[i%6] + uint64(i/6)
}

func testDedup(t *testing.T, st log.Storage) {
	c := &chain{st: st}
	var u1, u2 log.Update
	for i, k := range dedupKeys {
		u := &u1
		if i%2 == 1 {
			u = &u2
		}
		u.Dedup = append(u.Dedup, log.DedupEntry{Key: k, Index: dedupIndex(i)})
	}
	c.commit(t, 1, u1)
	c.commit(t, 2, u2)

	// Ask for keys and misses interleaved, in reverse, one key twice.
	var keys [][]byte
	var want []log.DedupResult
	for i := len(dedupKeys) - 1; i >= 0; i-- {
		keys = append(keys, dedupKeys[i])
		want = append(want, log.DedupResult{Index: dedupIndex(i), Found: true})
		if i < len(dedupMisses) {
			keys = append(keys, dedupMisses[i])
			want = append(want, log.DedupResult{})
		}
	}
	keys, want = append(keys, dedupKeys[1]), append(want, log.DedupResult{Index: dedupIndex(1), Found: true})
	wantDedup(t, st, keys, want)
	wantDedup(t, st, dedupKeys[2:3], []log.DedupResult{{Index: dedupIndex(2), Found: true}})
	wantDedup(t, st, dedupMisses[:1], []log.DedupResult{{}})
}

func wantDedup(t *testing.T, st log.Storage, keys [][]byte, want []log.DedupResult) {
	t.Helper()
	got, err := st.Dedup(t.Context(), keys)
	if err != nil || len(got) != len(want) {
		t.Fatalf("Dedup(%d keys) = %d results, %v; want %d", len(keys), len(got), err, len(want))
	}
	for i := range got {
		if got[i].Found != want[i].Found || got[i].Found && got[i].Index != want[i].Index {
			t.Errorf("Dedup(%x) = %+v, want %+v", keys[i], got[i], want[i])
		}
	}
}
