package log_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
)

// TestPowerLoss runs the log on Pebble over a crashable in-memory file
// system and, while appends are in flight, takes crash clones that keep
// only what was synced plus a random half of the rest. Every clone must
// open as a valid log holding the entries acknowledged before the crash:
// all those acknowledged since the previous round and a random sample of
// 200 earlier ones (checking every one each round made the 500 rounds of
// make chaos quadratic: past an hour at round 265 of 500).
// (The driver's own power-loss test shows that turning syncing off loses
// acknowledged data, so this kind of test can fail.)
func TestPowerLoss(t *testing.T) {
	rounds := 20
	if os.Getenv("PLEDGELOG_CHAOS") != "" {
		rounds = 500
	}
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	st, err := pebble.Create("db", pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, _ := newLog(t, st)
	run(t, l)

	var mu sync.Mutex
	var acked []ack
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := fmt.Appendf(nil, "g%d-%d", g, i)
				res, err := l.Append(ctx, e)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, ack{res.Index, e})
				mu.Unlock()
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for round := range rounds {
		mu.Lock()
		before := acked[:len(acked):len(acked)] // appends never touch these
		mu.Unlock()
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng})
		check := append([]ack(nil), before[checked:]...)
		for range min(200, checked) {
			check = append(check, before[rng.IntN(checked)])
		}
		checkClone(t, clone, check, round)
		checked = len(before)
	}
	close(stop)
	wg.Wait()
	if len(acked) < rounds {
		t.Fatalf("only %d appends acknowledged in %d rounds: the test tested little", len(acked), rounds)
	}
	t.Logf("%d power losses, %d appends acknowledged", rounds, len(acked))
}

func checkClone(t *testing.T, fs vfs.FS, acked []ack, round int) {
	t.Helper()
	ctx := context.Background()
	st, err := pebble.Open("db", pebble.Options{FS: fs})
	if err != nil {
		t.Fatalf("round %d: opening the crash clone: %v", round, err)
	}
	defer st.Close()
	l, err := log.Open(ctx, testConfig(st))
	if err != nil {
		t.Fatalf("round %d: opening the log after power loss: %v", round, err)
	}
	for _, a := range acked {
		if e, err := l.Entry(ctx, a.index); err != nil || !bytes.Equal(e, a.entry) {
			t.Fatalf("round %d: acknowledged entry %d = %q, %v after power loss; want %q",
				round, a.index, e, err, a.entry)
		}
	}
}
