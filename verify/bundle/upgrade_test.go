package bundle

import (
	"context"
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pledgelog/pledgelog/verify"
)

func (l *testLog) consistency(size1, size2 uint64) []verify.Hash {
	p, err := tlog.ProveTree(int64(size2), int64(size1), l.hashReader())
	if err != nil {
		l.t.Fatal(err)
	}
	out := make([]verify.Hash, len(p))
	for i, h := range p {
		out[i] = verify.Hash(h)
	}
	return out
}

func TestUpgrade(t *testing.T) {
	l := newTestLog(t)
	old := l.bundle(idxNewPledge, idxNewPledge+1, 0, 2, idxAddKey)
	nb, err := Upgrade(context.Background(), old, l.policy(2), l.checkpoint(testSize, 2), l.consistency(idxNewPledge+1, testSize), l.tiles())
	if err != nil {
		t.Fatalf("Upgrade = %v", err)
	}
	want := l.bundle(idxNewPledge, testSize, 2, 2, idxAddKey)
	if !slices.Equal(nb.Marshal(), want.Marshal()) {
		t.Errorf("Upgrade = %s, want %s", nb.Marshal(), want.Marshal())
	}
	r, err := Verify(nb, l.policy(2))
	if err != nil || len(r.Cosignatures) != 2 {
		t.Errorf("Verify(Upgrade()) = %v, %v", r, err)
	}
}

func TestUpgradeRejects(t *testing.T) {
	l := newTestLog(t)
	old := l.bundle(36, 100, 0, 2)
	good := l.consistency(100, testSize)
	bad := slices.Clone(good)
	bad[0][0] ^= 1
	tiles := l.tiles()
	lying := verify.TileReaderFunc(func(ctx context.Context, tl verify.Tile) ([]byte, error) {
		data, err := tiles.ReadTile(ctx, tl)
		data = slices.Clone(data)
		data[0] ^= 1
		return data, err
	})
	tests := []struct {
		name  string
		cp    []byte
		proof []verify.Hash
		tiles verify.TileReader
		want  error
	}{
		{"bad consistency proof", l.checkpoint(testSize, 2), bad, tiles, ErrConsistency},
		{"smaller checkpoint", l.checkpoint(50, 2), nil, tiles, ErrConsistency},
		{"no quorum", l.checkpoint(testSize, 1), good, tiles, ErrQuorum},
		{"lying tiles", l.checkpoint(testSize, 2), good, lying, ErrInclusion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nb, err := Upgrade(context.Background(), old, l.policy(2), tt.cp, tt.proof, tt.tiles)
			if !errors.Is(err, tt.want) || nb != nil {
				t.Errorf("Upgrade = %v, %v; want %v", nb, err, tt.want)
			}
		})
	}
}
