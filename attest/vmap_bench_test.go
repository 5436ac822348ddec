package attest_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
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
