package pebble

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

// BenchmarkCommit commits synced batches of 1 KiB entries to a store on
// disk, each with its entry bundles, hash tiles, a random 32-byte dedup key
// and a derived row per entry, and a checkpoint. Making the Updates is not
// timed.
func BenchmarkCommit(b *testing.B) {
	for _, batch := range []int{256, 1024} {
		b.Run(fmt.Sprintf("entries=%d", batch), func(b *testing.B) {
			st, err := Create(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s := &storagetest.Stream{MaxBatch: batch, Fixed: true, EntrySize: 1024}
			b.SetBytes(int64(batch * 1024))
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				u := s.Update(i)
				for k := range u.Dedup { // random, as real dedup keys are
					u.Dedup[k].Key = benchKey(u.Dedup[k].Index)
				}
				b.StartTimer()
				if err := st.Commit(b.Context(), u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkDedup looks up random dedup keys, half of them stored, in a
// store of a million keys flushed to sstables.
func BenchmarkDedup(b *testing.B) {
	const stored = 1 << 20
	st, err := Create(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storeKeys(b, st, stored)
	for _, n := range []int{1, 1024} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			keys := make([][]byte, n)
			for i := 0; i < b.N; i++ {
				for k := range keys {
					keys[k] = benchKey(rng.Uint64N(2 * stored))
				}
				if _, err := st.Dedup(b.Context(), keys); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// storeKeys stores keys [0, n) without syncing, then flushes and compacts
// them into sstables, where lookups go through the Bloom filters.
func storeKeys(b *testing.B, st *Storage, n uint64) {
	st.sync = pebble.NoSync
	var prev []byte
	for i := uint64(0); i < n; i += 4096 {
		u := &log.Update{Prev: prev, Checkpoint: fmt.Appendf(nil, "%d", i), Size: i}
		for j := i; j < i+4096; j++ {
			u.Dedup = append(u.Dedup, log.DedupEntry{Key: benchKey(j), Index: j})
		}
		if err := st.Commit(b.Context(), u); err != nil {
			b.Fatal(err)
		}
		prev = u.Checkpoint
	}
	if err := st.db.Compact(b.Context(), []byte{kindDedup}, []byte{kindDedup + 1}, true); err != nil {
		b.Fatal(err)
	}
}

func benchKey(j uint64) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, j))
	return h[:]
}
