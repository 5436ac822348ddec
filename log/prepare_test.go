package log_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
)

// countingStorage counts the dedup keys looked up in the storage it wraps.
type countingStorage struct {
	log.Storage
	lookups atomic.Int64
}

func (s *countingStorage) Dedup(ctx context.Context, keys [][]byte) ([]log.DedupResult, error) {
	s.lookups.Add(int64(len(keys)))
	return s.Storage.Dedup(ctx, keys)
}

// TestPrepare checks the two-step append: the caller's dedup key is used
// as given (the DedupKey hook is not called for it) and looked up once,
// Duplicate tells the committed entries before Append, the caller's value
// reaches Admit and Index untouched, and a rejected entry is named by its
// position.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	st := &countingStorage{Storage: memory.New()}
	cfg := testConfig(st)
	var hookKeys atomic.Int64
	cfg.DedupKey = func(e []byte) []byte { hookKeys.Add(1); return e }
	var admitted []any
	cfg.Admit = func(_ context.Context, _ uint64, e log.Entry) (func(), error) {
		if e.Value == "reject" {
			return nil, errors.New("rejected")
		}
		admitted = append(admitted, e.Value)
		return nil, nil
	}
	cfg.Index = func(index uint64, e log.Entry) []log.Row {
		return []log.Row{{Table: "v", Key: e.Key, Value: fmt.Append(nil, e.Value)}}
	}
	l, err := log.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)

	first := []log.Entry{{Data: []byte("a"), Key: []byte("ka"), Value: 1}, {Data: []byte("b"), Key: []byte("kb"), Value: 2}}
	if _, err := l.AppendEntries(ctx, first); err != nil {
		t.Fatal(err)
	}
	st.lookups.Store(0)
	p, err := l.Prepare(ctx, []log.Entry{{Data: []byte("a2"), Key: []byte("ka"), Value: 3}, {Data: []byte("c"), Key: []byte("kc"), Value: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Duplicate(0) || p.Duplicate(1) {
		t.Errorf("Duplicate = %v, %v; want true (key ka is committed), false", p.Duplicate(0), p.Duplicate(1))
	}
	res, err := p.Append(ctx)
	if err != nil || !res[0].Duplicate || res[0].Index != 0 || res[1].Duplicate || res[1].Index != 2 {
		t.Fatalf("Append = %+v, %v; want [0 duplicate, 2 new]", res, err)
	}
	if n := st.lookups.Load(); n != 2 {
		t.Errorf("%d dedup keys looked up in storage for 2 entries, want 2", n)
	}
	if n := hookKeys.Load(); n != 0 {
		t.Errorf("DedupKey hook called %d times for entries that carry keys", n)
	}
	if fmt.Sprint(admitted) != "[1 2 4]" {
		t.Errorf("Admit saw values %v, want [1 2 4]", admitted)
	}
	rows, err := l.Rows(ctx, "v", nil, nil, 10)
	if err != nil || len(rows) != 3 || string(rows[2].Key) != "kc" || string(rows[2].Value) != "4" {
		t.Errorf("Index rows = %v, %v", rows, err)
	}

	_, err = l.AppendEntries(ctx, []log.Entry{{Data: []byte("d"), Value: 5}, {Data: []byte("e"), Value: "reject"}})
	var ee *log.EntryError
	if !errors.As(err, &ee) || ee.Entry != 1 || ee.Err.Error() != "rejected" {
		t.Fatalf("a batch with a rejected second entry = %v, want an EntryError for entry 1", err)
	}
	if n := hookKeys.Load(); n != 2 {
		t.Errorf("DedupKey hook called %d times for 2 entries without keys, want 2", n)
	}
	if l.Latest().Size != 3 {
		t.Errorf("size %d after a rejected batch, want 3 (all or none)", l.Latest().Size)
	}
}
