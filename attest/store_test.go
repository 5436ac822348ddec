package attest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestStores runs both pledgeStores against a plain slice: appends,
// truncates (undo), reads, searches and scans across chunk and flush
// boundaries.
func TestStores(t *testing.T) {
	for _, kind := range []struct {
		name string
		new  func(t *testing.T) pledgeStore
	}{
		{"memory", func(*testing.T) pledgeStore { return &memStore{} }},
		{"file", func(t *testing.T) pledgeStore {
			s, err := newFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			s.flushAt = 5 * recSize
			t.Cleanup(func() { s.close() })
			return s
		}},
	} {
		t.Run(kind.name, func(t *testing.T) { checkStore(t, kind.new(t)) })
	}
}

func checkStore(t *testing.T, s pledgeStore) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want []pledgeRec
	next := uint64(0)
	for op := range 20000 {
		switch n := rng.IntN(100); {
		case n < 2 && len(want) > 0: // undo a batch
			keep := max(len(want)-rng.IntN(12), 0)
			s.truncate(keep)
			want = want[:keep]
			if keep > 0 {
				next = want[keep-1].index + 1
			}
		default:
			next += uint64(rng.IntN(3))
			rec := pledgeRec{index: next, key: rng.Uint32(), cell: rng.Uint32(), status: uint8(rng.IntN(4))}
			next++
			if err := s.append(rec); err != nil {
				t.Fatalf("append = %v", err)
			}
			want = append(want, rec)
		}
		if s.len() != len(want) {
			t.Fatalf("op %d: len = %d, want %d", op, s.len(), len(want))
		}
		if op%97 == 0 {
			compareStore(t, s, want, rng)
		}
	}
	compareStore(t, s, want, rng)
}

func compareStore(t *testing.T, s pledgeStore, want []pledgeRec, rng *rand.Rand) {
	t.Helper()
	index := rng.Uint64N(nextIndex(want) + 2)
	wantPos, _ := slices.BinarySearchFunc(want, index, func(r pledgeRec, i uint64) int { return cmp.Compare(r.index, i) })
	if got, err := searchPledges(s, index); err != nil || got != wantPos {
		t.Fatalf("searchPledges(%d) = %d, %v; want %d", index, got, err, wantPos)
	}
	rec, ok, err := findPledge(s, index)
	wantOK := wantPos < len(want) && want[wantPos].index == index
	if err != nil || ok != wantOK || ok && rec != want[wantPos] {
		t.Fatalf("findPledge(%d) = %+v, %v, %v; want %v", index, rec, ok, err, wantOK)
	}
	from := rng.IntN(len(want) + 1)
	var fwd []pledgeRec
	if err := scanForward(s, from, func(pos int, r pledgeRec) {
		if pos != from+len(fwd) {
			t.Fatalf("scanForward gave position %d after %d records from %d", pos, len(fwd), from)
		}
		fwd = append(fwd, r)
	}); err != nil || !slices.Equal(fwd, want[from:]) {
		t.Fatalf("scanForward(%d) = %d records, %v; want %d", from, len(fwd), err, len(want)-from)
	}
	stop := rng.IntN(from + 1)
	var back []pledgeRec
	if err := scanBackward(s, from, func(pos int, r pledgeRec) bool {
		if pos != from-1-len(back) {
			t.Fatalf("scanBackward gave position %d after %d records below %d", pos, len(back), from)
		}
		back = append(back, r)
		return pos > stop
	}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(back)
	if from > 0 && !slices.Equal(back, want[stop:from]) || from == 0 && len(back) > 0 {
		t.Fatalf("scanBackward(%d) to %d = %d records, want %d", from, stop, len(back), from-stop)
	}
}

func nextIndex(recs []pledgeRec) uint64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].index + 1
}

// TestCompromiseCascadeRows checks the rows of a compromise that voids a
// key and, from its addition, a key it added, which was compromised
// before: only the pledges that become void get rows, key by key.
func TestCompromiseCascadeRows(t *testing.T) {
	reg, k1, k2, k3 := edKey(t, "reg"), edKey(t, "k1"), edKey(t, "k2"), ecKey(t, "k3")
	for _, kind := range registryKinds {
		t.Run(kind.name, func(t *testing.T) {
			s := newScenario(t)
			s.r = kind.new(t)
			s.setup(reg, k1, k2)
			s.step("add k3", s.addKey("s1", k1, k3), nil)                        // 4
			s.step("p1 by k3", s.pledge("s1", "p1", k3), nil)                    // 5
			s.step("p1 by k1", s.pledge("s1", "p1", k1), nil)                    // 6
			s.step("p1 by k3 again", s.pledge("s1", "p1", k3), nil)              // 7
			s.step("k3 compromised from 7", s.revoke("s1", k1, k3, u64(7)), nil) // 8
			s.step("k1 compromised from 4", s.revoke("s1", k1, k1, u64(4)), nil) // 9
			var got []string
			for _, r := range s.r.Index(9, s.log[9]) {
				if r.Table == TablePledges || r.Table == TableLatest || r.Table == TableSearch && string(r.Key[:7]) == "status/" {
					got = append(got, fmt.Sprintf("%s %s %v", r.Table, r.Key, r.Delete))
				}
			}
			want := []string{
				"pledges 0000000000000006 false",
				"search status/committed/0000000000000006 true",
				"search status/void/0000000000000006 false",
				"pledges 0000000000000005 false",
				"search status/committed/0000000000000005 true",
				"search status/void/0000000000000005 false",
				"latest s1/a1/p1 true",
			}
			if !slices.Equal(got, want) {
				t.Errorf("rows of the second compromise:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// pledgeFeed replays the demo into a registry and then hands out its
// pledges again at later indexes: each is admitted again (the registry
// does not dedup), so a registry of any size is built without signing.
type pledgeFeed struct {
	pledges [][]byte
	next    uint64
}

func newPledgeFeed(tb testing.TB, r *Registry) *pledgeFeed {
	tb.Helper()
	d, err := NewDemo(testOrigin, []byte("memory"))
	if err != nil {
		tb.Fatal(err)
	}
	f := &pledgeFeed{}
	for i, leaf := range d.Entries {
		env, err := r.Replay(uint64(i), leaf)
		if err != nil {
			tb.Fatalf("Replay(%d) = %v", i, err)
		}
		if _, ok := env.Statement.Predicate.(*Pledge); ok {
			f.pledges = append(f.pledges, leaf)
		}
	}
	f.next = uint64(len(d.Entries))
	return f
}

// replay replays n more pledges.
func (f *pledgeFeed) replay(tb testing.TB, r *Registry, n int) {
	tb.Helper()
	for range n {
		if _, err := r.Replay(f.next, f.pledges[f.next%uint64(len(f.pledges))]); err != nil {
			tb.Fatalf("Replay(%d) = %v", f.next, err)
		}
		f.next++
	}
}

// liveHeap returns the bytes of live heap after two full collections
// (the second empties sync.Pools).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestOnDiskMemory checks that the on-disk registry keeps nothing per
// pledge in memory: replaying 3n more pledges adds far less than a record
// (24 bytes in memory) per pledge to the live heap. The registry before
// the pledgeStore failed it with 229 bytes per pledge.
func TestOnDiskMemory(t *testing.T) {
	n := 8000
	if testing.Short() {
		n = 4000
	}
	r, err := NewRegistryOnDisk(testOrigin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := newPledgeFeed(t, r)
	f.replay(t, r, n)
	before := liveHeap()
	f.replay(t, r, 3*n)
	after := liveHeap()
	runtime.KeepAlive(r)
	runtime.KeepAlive(f) // its leaves are live before, so after too
	perPledge := (float64(after) - float64(before)) / float64(3*n)
	if perPledge >= 8 {
		t.Errorf("live heap grew by %.1f bytes per pledge (%d to %d over %d pledges), want < 8", perPledge, before, after, 3*n)
	}
	t.Logf("%.2f bytes of live heap per pledge (%d to %d)", perPledge, before, after)
}

// BenchmarkRegistryMemory replays b.N pledges and reports the live heap
// they added, per pledge:
//
//	go test -run '^$' -bench RegistryMemory -benchtime 200000x ./attest
func BenchmarkRegistryMemory(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchMemory(b, NewRegistry(testOrigin)) })
	b.Run("disk", func(b *testing.B) {
		r, err := NewRegistryOnDisk(testOrigin, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		benchMemory(b, r)
	})
}

func benchMemory(b *testing.B, r *Registry) {
	f := newPledgeFeed(b, r)
	before := liveHeap()
	b.ResetTimer()
	f.replay(b, r, b.N)
	b.StopTimer()
	after := liveHeap()
	runtime.KeepAlive(r)
	runtime.KeepAlive(f) // its leaves are live before, so after too
	b.ReportMetric((float64(after)-float64(before))/float64(b.N), "heap-B/pledge")
}

// TestStoreFailure checks that a failing pledge file fails Replay with
// ErrStore, rolls the entry back, and fails every later change too.
func TestStoreFailure(t *testing.T) {
	t.Run("write", func(t *testing.T) {
		r, s := diskRegistry(t)
		f := newPledgeFeed(t, r)
		readOnly(t, s)
		f.replay(t, r, (s.flushAt-len(s.buf))/recSize-1) // the next append flushes
		latest := r.Latest("")
		if _, err := r.Replay(f.next, f.pledges[0]); !errors.Is(err, ErrStore) {
			t.Fatalf("Replay that writes to a read-only file = %v, want ErrStore", err)
		}
		if got := r.Latest(""); !slices.Equal(got, latest) {
			t.Errorf("Latest changed by the failed Replay")
		}
		checkFailed(t, r, f)
	})
	t.Run("read", func(t *testing.T) {
		r, s := diskRegistry(t)
		f := newPledgeFeed(t, r)
		s.flushAt = recSize
		f.replay(t, r, 1)
		s.f.Close()
		if _, err := r.Replay(f.next, f.pledges[0]); !errors.Is(err, ErrStore) {
			t.Fatalf("Replay with a closed file = %v, want ErrStore", err)
		}
		checkFailed(t, r, f)
	})
	t.Run("closed", func(t *testing.T) {
		dir := t.TempDir()
		r, err := NewRegistryOnDisk(testOrigin, dir)
		if err != nil {
			t.Fatal(err)
		}
		f := newPledgeFeed(t, r)
		if err := r.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Errorf("after Close the directory holds %v", files)
		}
		if err := r.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		checkFailed(t, r, f)
	})
}

// checkFailed checks that Replay of a pledge and of a registry event
// (the demo's accord, again) both fail with ErrStore.
func checkFailed(t *testing.T, r *Registry, f *pledgeFeed) {
	t.Helper()
	d, _ := NewDemo(testOrigin, []byte("memory"))
	for _, leaf := range [][]byte{f.pledges[1], d.Entries[1]} {
		if _, err := r.Replay(f.next+1, leaf); !errors.Is(err, ErrStore) {
			t.Errorf("Replay after a failure = %v, want ErrStore", err)
		}
	}
}

func diskRegistry(t *testing.T) (*Registry, *fileStore) {
	r, err := NewRegistryOnDisk(testOrigin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	s := r.store.(*fileStore)
	s.flushAt = 4 * recSize
	return r, s
}

// readOnly swaps the store's file for a read-only copy: reads work,
// writes fail.
func readOnly(t *testing.T, s *fileStore) {
	b := make([]byte, s.flushed*recSize)
	if _, err := s.f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "read-only")
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	s.f.Close()
	s.f = ro
}

// TestConcurrentReadersOnDisk verifies a pledge that supersedes another,
// which reads the pledge file, while pledges are replayed; run with -race.
func TestConcurrentReadersOnDisk(t *testing.T) {
	r, s := diskRegistry(t)
	f := newPledgeFeed(t, r)
	d, err := NewDemo(testOrigin, []byte("memory"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := ParseLeaf(f.pledges[0])
	if err != nil {
		t.Fatal(err)
	}
	p := *first.Statement.Predicate.(*Pledge)
	p.Supersedes, p.Status = u64(f.next-uint64(len(f.pledges))), StatusReaffirmed
	leaf, err := SignWithKeys(NewPledgeStatement(&p, first.Statement.Subject[0].Digest.SHA256), d.Keys[p.Signatory])
	if err != nil {
		t.Fatal(err)
	}
	env, err := ParseLeaf(leaf)
	if err != nil {
		t.Fatal(err)
	}
	s.flushAt = 3 * recSize
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.Verify(env); err != nil {
					t.Errorf("Verify = %v", err)
					return
				}
				r.Latest("")
			}
		})
	}
	f.replay(t, r, 3000)
	close(done)
	wg.Wait()
}
