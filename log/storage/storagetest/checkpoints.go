package storagetest

import (
	"fmt"
	"math"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// historySizes are tree sizes whose encodings trip up drivers that do not
// order sizes as numbers: 9 < 10 and 255 < 256 < 65536 < 2^32 < 2^40.
var historySizes = []uint64{1, 9, 10, 255, 256, 257, 65536, 1 << 32, 1 << 40}

func testCheckpointHistory(t *testing.T, st log.Storage) {
	c := &chain{st: st}
	for _, size := range historySizes {
		c.commit(t, size, log.Update{})
	}
	ctx := t.Context()
	got, err := st.Checkpoint(ctx)
	wantBytes(t, "Checkpoint()", got, err, checkpointFor(1<<40))
	for _, size := range historySizes {
		got, err := st.CheckpointAt(ctx, size)
		wantBytes(t, fmt.Sprintf("CheckpointAt(%d)", size), got, err, checkpointFor(size))
	}
	for _, size := range []uint64{0, 2, 11, 1<<40 + 1, math.MaxUint64} {
		got, err := st.CheckpointAt(ctx, size)
		wantBytes(t, fmt.Sprintf("CheckpointAt(%d)", size), got, err, nil)
	}
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, st) })
}

func testCheckpoints(t *testing.T, st log.Storage) {
	tests := []struct {
		before uint64
		limit  int
		want   []uint64
	}{
		{math.MaxUint64, 100, []uint64{1 << 40, 1 << 32, 65536, 257, 256, 255, 10, 9, 1}},
		{math.MaxUint64, 3, []uint64{1 << 40, 1 << 32, 65536}},
		{1<<40 + 1, 1, []uint64{1 << 40}},
		{1 << 40, 1, []uint64{1 << 32}},
		{256, 10, []uint64{255, 10, 9, 1}},
		{257, 2, []uint64{256, 255}},
		{10, 1, []uint64{9}},
		{11, 5, []uint64{10, 9, 1}},
		{2, 5, []uint64{1}},
		{1, 10, nil},
		{0, 10, nil},
		{math.MaxUint64, 0, nil},
	}
	for _, tt := range tests {
		got, err := st.Checkpoints(t.Context(), tt.before, tt.limit)
		var want [][]byte
		for _, size := range tt.want {
			want = append(want, checkpointFor(size))
		}
		if err := matchList(fmt.Sprintf("Checkpoints(%d, %d)", tt.before, tt.limit), got, err, want); err != nil {
			t.Error(err)
		}
	}
}
