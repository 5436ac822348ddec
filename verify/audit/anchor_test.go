package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
)

// TestAuditParsesOnlyAnchoredLeaves is issue 12's finding in the
// auditor: it parsed leaves from a mirror before their tile was tied to
// the signed root, so a mirror could feed its parser anything (1 GB at
// depth 30,000). A mirror here swaps one entry for crafted bytes and
// serves a level 0 tile that matches them; the audit must fail without
// ever parsing the crafted leaf.
func TestAuditParsesOnlyAnchoredLeaves(t *testing.T) {
	crafted := []byte(`{"payload":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)
	tl := newTestLog(t, true, "audit test")
	small := tl.checkpoint() // 172 entries: one partial bundle
	var more [][]byte
	for range 400 {
		more = append(more, tl.pledge("microsoft", tl.demo.Keys["microsoft"]))
	}
	tl.append(more...)
	large := tl.checkpoint() // 572 entries: bundle 1 is full
	for _, tc := range []struct {
		name       string
		checkpoint []byte
		index      uint64
		want       error
	}{
		{"partial bundle", small, 100, audit.ErrRoot},
		{"full bundle", large, 300, audit.ErrTile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fetcher{log: tl.log, fail: swapEntry(t, tl, tc.index, crafted)}
			var mu sync.Mutex
			parsed := 0
			parse := func(leaf []byte) (*attest.Envelope, error) {
				mu.Lock()
				defer mu.Unlock()
				if bytes.Equal(leaf, crafted) {
					t.Errorf("the audit parsed the crafted leaf")
				}
				parsed++
				return attest.ParseLeaf(leaf)
			}
			_, err := audit.RunParsing(context.Background(), audit.Config{Fetcher: f, Open: tl.open, Checkpoint: tc.checkpoint}, parse)
			if !errors.Is(err, tc.want) {
				t.Errorf("audit = %v, want %v", err, tc.want)
			}
			if tc.index > 255 && parsed == 0 {
				t.Errorf("the audit parsed nothing before bundle %d; want the bundles before it parsed", tc.index/256)
			}
		})
	}
}

// swapEntry returns a fault that serves crafted in place of entry index,
// and a level 0 tile rebuilt to match, as a lying mirror would.
func swapEntry(t *testing.T, tl *testLog, index uint64, crafted []byte) func(verify.Tile, []byte) ([]byte, error) {
	n := index / verify.TileWidth
	return func(tile verify.Tile, b []byte) ([]byte, error) {
		if tile.N != n || tile.Level != verify.EntriesLevel && tile.Level != 0 {
			return b, nil
		}
		bundle, err := tl.log.ReadTile(context.Background(), verify.Tile{Level: verify.EntriesLevel, N: n, Width: tile.Width})
		if err != nil {
			return nil, err
		}
		entries, err := verify.ParseBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		entries[index%verify.TileWidth] = crafted
		if tile.Level == verify.EntriesLevel {
			var out []byte
			for _, e := range entries {
				if out, err = verify.AppendBundleEntry(out, e); err != nil {
					t.Fatal(err)
				}
			}
			return out, nil
		}
		var out []byte
		for _, e := range entries {
			h := verify.LeafHash(e)
			out = append(out, h[:]...)
		}
		return out, nil
	}
}
