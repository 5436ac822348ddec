package attest_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"filippo.io/torchwood/prefix"
	"github.com/pledgelog/pledgelog/attest"
)

// benchLeaves returns n distinct key leaves, as a registry of n keys has.
func benchLeaves(from, n int) []attest.MapLeaf {
	out := make([]attest.MapLeaf, n)
	for i := range out {
		id := fmt.Sprintf("%x", sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(from+i))))
		out[i] = attest.MapLeaf{Label: attest.MapLabel(attest.MapKey, "co", id), Value: attest.MapKeyValue(uint64(from+i), nil, nil)}
	}
	return out
}

// BenchmarkMap measures, on maps of 10⁴ and (without -short) 10⁶ keys, a
// batch update of 64 leaves (what the sequencer does per batch of 64
// registry changes), a proof, its size, and its verification.
//
//	go test -run '^$' -bench BenchmarkMap -benchtime 2000x ./attest/
func BenchmarkMap(b *testing.B) {
	ctx := context.Background()
	sizes := []int{10_000}
	if !testing.Short() {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		m, err := attest.NewMap(ctx, prefix.NewMemoryStorage())
		if err != nil {
			b.Fatal(err)
		}
		leaves := benchLeaves(0, n)
		for i := 0; i < n; i += 4096 {
			if err := m.Update(ctx, leaves[i:min(i+4096, n)]); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("update64/keys=%d", n), func(b *testing.B) {
			next := n
			for b.Loop() {
				if err := m.Update(ctx, benchLeaves(next, 64)); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Root(ctx); err != nil {
					b.Fatal(err)
				}
				next += 64
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/leaf")
		})
		root, err := m.Root(ctx)
		if err != nil {
			b.Fatal(err)
		}
		l := leaves[n/2]
		b.Run(fmt.Sprintf("prove/keys=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := m.Prove(ctx, l.Label); err != nil {
					b.Fatal(err)
				}
			}
		})
		_, proof, err := m.Prove(ctx, l.Label)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("verify/keys=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := attest.VerifyMapProof(root, l.Label, l.Value, proof); err != nil {
					b.Fatal(err)
				}
			}
			// A proof node is a label (32 bytes and a 4-byte length) and
			// a 32-byte hash.
			b.ReportMetric(float64(len(proof)), "nodes")
			b.ReportMetric(float64(len(proof)*68), "proof-bytes")
		})
	}
}

// BenchmarkMapMemory measures what the in-memory map holds: the live heap
// and the process's resident set after building a map of 10⁴, 10⁵ and
// (without -short) 10⁶ keys, per leaf. The map is in memory today
// (prefix.NewMemoryStorage), so this grows with the registry; the figure
// is what a storage-backed map would save.
//
//	go test -run '^$' -bench BenchmarkMapMemory -benchtime 1x ./attest/
func BenchmarkMapMemory(b *testing.B) {
	ctx := context.Background()
	sizes := []int{10_000, 100_000}
	if !testing.Short() {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			for b.Loop() {
				before := liveHeap()
				m, err := attest.NewMap(ctx, prefix.NewMemoryStorage())
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < n; i += 4096 {
					if err := m.Update(ctx, benchLeaves(i, min(4096, n-i))); err != nil {
						b.Fatal(err)
					}
				}
				heap := liveHeap() - before
				b.ReportMetric(float64(heap)/float64(n), "heap-B/leaf")
				b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
				b.ReportMetric(float64(rss())/(1<<20), "rss-MiB")
				runtime.KeepAlive(m)
			}
		})
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// rss returns the process's resident set in bytes, 0 where /proc is absent.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
