package storagetest

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// aliasUpdate returns a new Update writing one of each kind of data.
func aliasUpdate() *log.Update {
	s := new(Stream)
	return &log.Update{
		Checkpoint: checkpointFor(1),
		Size:       1,
		Tiles:      []log.TileWrite{{Level: 0, N: 0, Hashes: tileData(0, 0, 2)}},
		Bundles: []log.BundleWrite{
			{N: 0, Start: 0, Data: s.entries(0, 2)},
			{N: 0, Start: 2, Data: s.entries(2, 3)},
			{N: 1, Full: true, Data: s.bundle(1, 2*bundleSize)},
		},
		Dedup: []log.DedupEntry{{Key: dedupKey(0), Index: 7}},
		Rows:  []log.Row{row("t", []byte("key"), "value")},
	}
}

// testUpdateNotRetained checks that Commit copies what it keeps: changing
// the Update's slices afterwards changes nothing stored.
func testUpdateNotRetained(t *testing.T, st log.Storage) {
	u := aliasUpdate()
	commit(t, st, u)
	scribble(u.Checkpoint)
	scribble(u.Tiles[0].Hashes)
	for _, b := range u.Bundles {
		scribble(b.Data)
	}
	scribble(u.Dedup[0].Key)
	scribble(u.Rows[0].Key)
	scribble(u.Rows[0].Value)
	checkAliasUpdate(t, st)
}

func checkAliasUpdate(t *testing.T, st log.Storage) {
	t.Helper()
	ctx, want := t.Context(), aliasUpdate()
	got, err := st.Checkpoint(ctx)
	wantBytes(t, "Checkpoint()", got, err, want.Checkpoint)
	got, err = st.HashTile(ctx, 0, 0)
	wantBytes(t, "HashTile(0, 0)", got, err, want.Tiles[0].Hashes)
	got, err = st.EntryBundle(ctx, 0)
	wantBytes(t, "EntryBundle(0)", got, err, append(want.Bundles[0].Data, want.Bundles[1].Data...))
	got, err = st.EntryBundle(ctx, 1)
	wantBytes(t, "EntryBundle(1)", got, err, want.Bundles[2].Data)
	wantDedup(t, st, [][]byte{dedupKey(0)}, []log.DedupResult{{Index: 7, Found: true}})
	wantRows(t, st, "t", nil, nil, 10, want.Rows)
}

// testResultsNotAliased checks that every slice a read returns belongs to
// the caller: changing it, even past its length, changes nothing stored.
func testResultsNotAliased(t *testing.T, st log.Storage) {
	commit(t, st, aliasUpdate())
	reads := map[string]func(context.Context) ([][]byte, error){
		"Checkpoint": func(ctx context.Context) ([][]byte, error) { return one(st.Checkpoint(ctx)) },
		"CheckpointAt": func(ctx context.Context) ([][]byte, error) {
			return one(st.CheckpointAt(ctx, 1))
		},
		"Checkpoints": func(ctx context.Context) ([][]byte, error) {
			return st.Checkpoints(ctx, math.MaxUint64, 10)
		},
		"HashTile":      func(ctx context.Context) ([][]byte, error) { return one(st.HashTile(ctx, 0, 0)) },
		"EntryBundle/0": func(ctx context.Context) ([][]byte, error) { return one(st.EntryBundle(ctx, 0)) },
		"EntryBundle/1": func(ctx context.Context) ([][]byte, error) { return one(st.EntryBundle(ctx, 1)) },
		"Rows": func(ctx context.Context) ([][]byte, error) {
			rows, err := st.Rows(ctx, "t", nil, nil, 10)
			var b [][]byte
			for _, r := range rows {
				b = append(b, r.Key, r.Value)
			}
			return b, err
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			first, err := read(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := clone(first)
			for _, b := range first {
				scribble(b)
			}
			if again, err := read(t.Context()); err != nil || !equalAll(again, want) {
				t.Errorf("%s after changing its result = %x, %v; want %x", name, again, err, want)
			}
		})
	}
	checkAliasUpdate(t, st)
}

func one(b []byte, err error) ([][]byte, error) { return [][]byte{b}, err }

func clone(bs [][]byte) [][]byte {
	c := make([][]byte, len(bs))
	for i, b := range bs {
		c[i] = bytes.Clone(b)
	}
	return c
}

func equalAll(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
