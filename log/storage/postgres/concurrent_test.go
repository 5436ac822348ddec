package postgres_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
)

// TestConcurrentCommits races two Storages on one schema, as two instances
// that both think they sequence: in each round both commit an Update that
// extends the same checkpoint. Exactly one must win; the other must get
// log.ErrConflict and leave no trace; and the history must be the chain of
// the winners.
func TestConcurrentCommits(t *testing.T) {
	schema := newSchema(t)
	sts := [2]*postgres.Storage{open(t, schema), open(t, schema)}
	rounds := 40
	if testing.Short() {
		rounds = 20
	}
	var prev []byte
	var chain [][]byte
	var wins [2]int
	for i := range rounds {
		us := [2]*log.Update{raceUpdate(prev, i, 0), raceUpdate(prev, i, 1)}
		w, err := race(t, sts, us)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		wins[w]++
		checkRound(t, sts[1-w], i, us[w], us[1-w])
		prev = us[w].Checkpoint
		chain = append(chain, prev)
	}
	slices.Reverse(chain)
	got, err := sts[0].Checkpoints(t.Context(), math.MaxUint64, rounds+1)
	if err != nil || !slices.EqualFunc(got, chain, bytes.Equal) {
		t.Errorf("Checkpoints(max, %d) = %q, %v; want the winners %q", rounds+1, got, err, chain)
	}
	t.Logf("wins: %v", wins)
}

// race commits us[k] to sts[k] at once, and returns which one won.
func race(t *testing.T, sts [2]*postgres.Storage, us [2]*log.Update) (int, error) {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k := range 2 {
		wg.Go(func() {
			<-start
			errs[k] = sts[k].Commit(t.Context(), us[k])
		})
	}
	close(start)
	wg.Wait()
	for w := range 2 {
		if errs[w] == nil && errors.Is(errs[1-w], log.ErrConflict) {
			return w, nil
		}
	}
	return 0, fmt.Errorf("Commit() = %v and %v, want one nil and one ErrConflict", errs[0], errs[1])
}

// raceUpdate returns contender k's Update of round i, which writes a tile,
// a dedup key and a row that the other contender writes differently.
func raceUpdate(prev []byte, i, k int) *log.Update {
	mine := fmt.Appendf(nil, "round %d, contender %d", i, k)
	return &log.Update{
		Prev:       prev,
		Checkpoint: mine,
		Size:       uint64(i + 1),
		Tiles:      []log.TileWrite{{Level: 0, N: uint64(i), Hashes: mine}},
		Dedup:      []log.DedupEntry{{Key: mine, Index: uint64(i)}},
		Rows:       []log.Row{{Table: "race", Key: fmt.Appendf(nil, "%08d", i), Value: mine}},
	}
}

// checkRound reads round i through st, the loser's Storage, and checks
// that it holds the winner's Update and nothing of the loser's.
func checkRound(t *testing.T, st *postgres.Storage, i int, win, lose *log.Update) {
	t.Helper()
	ctx := t.Context()
	if cp, err := st.Checkpoint(ctx); err != nil || !bytes.Equal(cp, win.Checkpoint) {
		t.Fatalf("round %d: Checkpoint() = %q, %v; want the winner's %q", i, cp, err, win.Checkpoint)
	}
	if tile, err := st.HashTile(ctx, 0, uint64(i)); err != nil || !bytes.Equal(tile, win.Tiles[0].Hashes) {
		t.Errorf("round %d: HashTile(0, %d) = %q, %v; want %q", i, i, tile, err, win.Tiles[0].Hashes)
	}
	res, err := st.Dedup(ctx, [][]byte{win.Dedup[0].Key, lose.Dedup[0].Key})
	if err != nil || len(res) != 2 || !res[0].Found || res[1].Found {
		t.Errorf("round %d: Dedup(winner's, loser's) = %+v, %v; want found, not found", i, res, err)
	}
	rows, err := st.Rows(ctx, "race", win.Rows[0].Key, nil, 2)
	if err != nil || len(rows) != 1 || !bytes.Equal(rows[0].Value, win.Rows[0].Value) {
		t.Errorf("round %d: Rows(race, %q) = %+v, %v; want the winner's", i, win.Rows[0].Key, rows, err)
	}
}
