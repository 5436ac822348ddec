package main

import (
	"strings"
	"testing"
	"time"
)

// TestBenchPeersUsage: --peers refuses a directory without Tessera's
// binaries and the loads it does not run; --peer-pairs goes with it.
// (The comparison itself needs Tessera's binaries: make bench-peers.)
func TestBenchPeersUsage(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range [][]string{
		{"bench", "--peers", dir},
		{"bench", "--peer-pairs", "2"},
		{"bench", "--peers", dir, "--peer-pairs", "0"},
		{"bench", "--peers", dir, "--batch", "8"},
		{"bench", "--peers", dir, "--reads"},
	} {
		if code, _, stderr := pledgelog(t, nil, bad...); code != 2 || !strings.Contains(stderr, "--peer") {
			t.Errorf("pledgelog %q = %d, %q; want 2 and a message naming --peers or --peer-pairs", bad, code, stderr)
		}
	}
}

// TestSteadyRate: the rate is taken between the first growth of the
// checkpoint and its last, so that the publishing lag at either end
// does not count.
func TestSteadyRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64, n uint64) sizeSample {
		return sizeSample{t0.Add(time.Duration(s * float64(time.Second))), n}
	}
	s := []sizeSample{at(0, 5), at(1, 5), at(2, 5), at(3, 1005), at(4, 2005), at(5, 3005), at(6, 3005), at(7, 3005)}
	if r := steadyRate(s); r != 1000 {
		t.Errorf("steadyRate = %v, want 1000", r)
	}
	for _, s := range [][]sizeSample{nil, {at(0, 5)}, {at(0, 5), at(1, 5)}, {at(0, 5), at(1, 10)}} {
		if r := steadyRate(s); r != 0 {
			t.Errorf("steadyRate(%v) = %v, want 0 (no steady growth seen)", s, r)
		}
	}
}
