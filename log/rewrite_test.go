package log_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/verify"
)

// recording records the updates committed to the storage it wraps.
type recording struct {
	log.Storage
	mu      sync.Mutex
	updates []log.Update
}

func (s *recording) Commit(ctx context.Context, u *log.Update) error {
	s.mu.Lock()
	s.updates = append(s.updates, *u)
	s.mu.Unlock()
	return s.Storage.Commit(ctx, u)
}

// TestRewriteRows rewrites two tables of a log with 5000 entries whose
// Index hook wrote rows to them and to a third: the rewritten tables hold
// exactly the new rows, the third is untouched, every commit is a
// rows-only update of at most 4096 rows of the two tables, and the
// checkpoint, the entries and the dedup index are as they were.
func TestRewriteRows(t *testing.T) {
	ctx := context.Background()
	st := &recording{Storage: memory.New()}
	cfg := testConfig(st)
	cfg.Index = func(index uint64, e log.Entry) []log.Row {
		if string(e.Data) == "during" { // appended during the rewrite
			return []log.Row{{Table: "keep", Key: e.Data, Value: []byte("kept")}}
		}
		return []log.Row{{Table: "a", Key: e.Data, Value: []byte("old")}, {Table: "keep", Key: e.Data, Value: []byte("kept")}}
	}
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	var entries [][]byte
	for i := range 5000 {
		entries = append(entries, fmt.Appendf(nil, "entry %04d", i))
	}
	if _, err := l.AppendBatch(ctx, entries); err != nil {
		t.Fatal(err)
	}
	before := l.Latest()
	keep := rows(t, l, "keep")
	st.mu.Lock()
	st.updates = nil
	st.mu.Unlock()

	// An append during the rewrite waits for it.
	appended := make(chan error, 1)
	err = l.RewriteRows(ctx, []string{"a", "b"}, func(put func(...log.Row) error) error {
		go func() { _, err := l.Append(ctx, []byte("during")); appended <- err }()
		for i := range 9000 {
			table := "a"
			if i%3 == 0 {
				table = "b"
			}
			if err := put(log.Row{Table: table, Key: fmt.Appendf(nil, "new %05d", i), Value: []byte("new")}); err != nil {
				return err
			}
		}
		time.Sleep(20 * time.Millisecond)
		if l.Latest() != before {
			t.Errorf("a batch was sequenced during the rewrite")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	updates := st.updates
	st.updates = nil
	st.mu.Unlock()
	// The append's commit may have come already: it is the last.
	if n := len(updates); n > 0 && updates[n-1].Size == before.Size+1 {
		updates = updates[:n-1]
	}
	if len(updates) < 5000/4096+9000/4096+1 {
		t.Errorf("%d commits", len(updates))
	}
	for i, u := range updates {
		if !bytes.Equal(u.Prev, before.Checkpoint) || !bytes.Equal(u.Checkpoint, before.Checkpoint) || u.Size != before.Size ||
			len(u.Tiles)+len(u.Bundles)+len(u.Dedup) != 0 || len(u.Rows) == 0 || len(u.Rows) > 4096 {
			t.Fatalf("commit %d of the rewrite: size %d, %d tiles, %d bundles, %d dedup keys, %d rows",
				i, u.Size, len(u.Tiles), len(u.Bundles), len(u.Dedup), len(u.Rows))
		}
		for _, r := range u.Rows {
			if r.Table != "a" && r.Table != "b" {
				t.Fatalf("commit %d writes table %q", i, r.Table)
			}
		}
	}
	for table, want := range map[string]int{"a": 6000, "b": 3000} {
		got := rows(t, l, table)
		if len(got) != want {
			t.Errorf("table %s: %d rows, want %d", table, len(got), want)
		}
		for _, r := range got {
			if !bytes.HasPrefix(r.Key, []byte("new ")) || string(r.Value) != "new" {
				t.Fatalf("table %s: stale row %q = %q", table, r.Key, r.Value)
			}
		}
	}
	if err := <-appended; err != nil {
		t.Fatalf("the append during the rewrite: %v", err)
	}
	if size := l.Latest().Size; size != 5001 {
		t.Errorf("size %d after the append, want 5001", size)
	}
	if got := rows(t, l, "keep"); len(got) != len(keep)+1 || len(keep) != 5000 {
		t.Errorf("table keep: %d rows, want %d and the append's", len(got), len(keep))
	}
	for i, e := range entries {
		got, err := l.Entry(ctx, uint64(i))
		if err != nil || !bytes.Equal(got, e) {
			t.Fatalf("entry %d = %q, %v; want %q", i, got, err, e)
		}
	}
	for _, i := range []int{0, 4321, 4999} { // the default dedup key: the leaf hash
		h := verify.LeafHash(entries[i])
		if index, found, err := l.Lookup(ctx, h[:]); err != nil || !found || index != uint64(i) {
			t.Errorf("dedup lookup of entry %d = %d, %v, %v", i, index, found, err)
		}
	}

	// A row of another table is refused, and nothing of it committed.
	err = l.RewriteRows(ctx, []string{"b"}, func(put func(...log.Row) error) error {
		return put(log.Row{Table: "b", Key: []byte("x")}, log.Row{Table: "keep", Key: []byte("entry 0000"), Delete: true})
	})
	if !errors.Is(err, log.ErrForeignRow) {
		t.Errorf("a row of table keep = %v, want ErrForeignRow", err)
	}
	if got := rows(t, l, "keep"); len(got) != 5001 {
		t.Errorf("table keep: %d rows after a refused rewrite, want 5001", len(got))
	}
}

func rows(t *testing.T, l *log.Log, table string) []log.Row {
	t.Helper()
	rs, err := l.Rows(context.Background(), table, nil, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
