package postgres

import (
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/pledgelog/pledgelog/log"
)

// Each queue function adds one or two statements to b, each writing all of
// its rows from arrays through unnest, so that the cost of a batch is in
// the data, not in statements. A statement of INSERT … ON CONFLICT DO
// UPDATE may not touch a row twice, so writes to one key are first reduced
// to the last of them, which is the one the Update means.

func queueTiles(b *pgx.Batch, ts []log.TileWrite) {
	ts = latest(ts, func(t log.TileWrite) [2]uint64 { return [2]uint64{uint64(t.Level), t.N} })
	if len(ts) == 0 {
		return
	}
	levels, ns, hashes := make([]int16, len(ts)), make([]int64, len(ts)), make([][]byte, len(ts))
	for i, t := range ts {
		levels[i], ns[i], hashes[i] = int16(t.Level), int64(t.N), nonNil(t.Hashes)
	}
	b.Queue(`INSERT INTO tiles (level, n, hashes)
		SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
		ON CONFLICT (level, n) DO UPDATE SET hashes = excluded.hashes`, levels, ns, hashes)
}

// queueBundles deletes every stored chunk of the full bundles of ws, and
// writes the full bundles and the chunks of the others.
func queueBundles(b *pgx.Batch, ws []log.BundleWrite) {
	var full []int64
	for _, w := range ws {
		if w.Full {
			full = append(full, int64(w.N))
		}
	}
	if len(full) > 0 {
		b.Queue(`DELETE FROM bundles WHERE n = ANY($1)`, full)
	}
	ws = slices.DeleteFunc(slices.Clone(ws), func(w log.BundleWrite) bool {
		return !w.Full && slices.Contains(full, int64(w.N))
	})
	ws = latest(ws, func(w log.BundleWrite) [2]uint64 { return [2]uint64{w.N, uint64(start(w))} })
	if len(ws) == 0 {
		return
	}
	ns, starts, fulls, data := make([]int64, len(ws)), make([]int32, len(ws)), make([]bool, len(ws)), make([][]byte, len(ws))
	for i, w := range ws {
		ns[i], starts[i], fulls[i], data[i] = int64(w.N), int32(start(w)), w.Full, nonNil(w.Data)
	}
	b.Queue(`INSERT INTO bundles (n, start, "full", data)
		SELECT * FROM unnest($1::bigint[], $2::integer[], $3::boolean[], $4::bytea[])
		ON CONFLICT (n, start) DO UPDATE SET "full" = excluded."full", data = excluded.data`, ns, starts, fulls, data)
}

// start returns the start of w; a full bundle starts at 0.
func start(w log.BundleWrite) int {
	if w.Full {
		return 0
	}
	return w.Start
}

func queueDedup(b *pgx.Batch, ds []log.DedupEntry) {
	ds = latest(ds, func(d log.DedupEntry) string { return string(d.Key) })
	if len(ds) == 0 {
		return
	}
	keys, idxs := make([][]byte, len(ds)), make([]int64, len(ds))
	for i, d := range ds {
		keys[i], idxs[i] = nonNil(d.Key), int64(d.Index) // the bits of any uint64
	}
	b.Queue(`INSERT INTO dedup (key, idx)
		SELECT * FROM unnest($1::bytea[], $2::bigint[])
		ON CONFLICT (key) DO UPDATE SET idx = excluded.idx`, keys, idxs)
}

// queueRows deletes and upserts rows. Once reduced to the last write of
// each key, the deleted keys and the upserted ones are apart, and the order
// of the two statements does not matter.
func queueRows(b *pgx.Batch, rows []log.Row) {
	rows = latest(rows, func(r log.Row) [2]string { return [2]string{r.Table, string(r.Key)} })
	var del, set [3][][]byte // table, key, value
	for _, r := range rows {
		a := &set
		if r.Delete {
			a = &del
		}
		a[0], a[1], a[2] = append(a[0], nonNil([]byte(r.Table))), append(a[1], nonNil(r.Key)), append(a[2], nonNil(r.Value))
	}
	if len(del[0]) > 0 {
		b.Queue(`DELETE FROM rows USING unnest($1::bytea[], $2::bytea[]) AS d (tbl, key)
			WHERE rows.tbl = d.tbl AND rows.key = d.key`, del[0], del[1])
	}
	if len(set[0]) > 0 {
		b.Queue(`INSERT INTO rows (tbl, key, value)
			SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])
			ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value`, set[0], set[1], set[2])
	}
}

// latest returns, in their order, the items of s that no later item of s
// overwrites: the last write of each key.
func latest[T any, K comparable](s []T, key func(T) K) []T {
	seen := make(map[K]bool, len(s))
	out := make([]T, 0, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		if k := key(s[i]); !seen[k] {
			seen[k] = true
			out = append(out, s[i])
		}
	}
	slices.Reverse(out)
	return out
}

// nonNil returns b, or an empty slice for nil, which pgx would send as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
