package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/postgres"
)

// TestAnswersKeptUntilReturned wants an answer still stored after the
// call of Answers that returns it (a connection that fails before its
// rows arrive must not lose it), and deleted by the next call.
func TestAnswersKeptUntilReturned(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn(t), postgres.Options{Schema: newSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &log.Update{Checkpoint: []byte("checkpoint 0\n"), Size: 0, Answers: []log.Answer{
		{ID: 1, Size: 0, Results: []log.Result{{Index: 7}}, ErrEntry: -1},
		{ID: 2, Size: 0, Results: []log.Result{{Index: 8, Duplicate: true}}, ErrEntry: -1},
	}}
	if err := st.Commit(ctx, u); err != nil {
		t.Fatal(err)
	}
	stored := func() []int64 {
		t.Helper()
		ids, err := postgres.AnswerIDs(st)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	as, err := st.Answers(ctx, []uint64{1})
	if err != nil || len(as) != 1 || as[0].ID != 1 || len(as[0].Results) != 1 || as[0].Results[0].Index != 7 || string(as[0].Checkpoint) != "checkpoint 0\n" {
		t.Fatalf("Answers([1]) = %+v, %v", as, err)
	}
	if ids := stored(); !slices.Equal(ids, []int64{1, 2}) {
		t.Errorf("after the call that returned answer 1, stored %v; want it kept until the next call", ids)
	}
	as, err = st.Answers(ctx, []uint64{2})
	if err != nil || len(as) != 1 || as[0].ID != 2 || !as[0].Results[0].Duplicate {
		t.Fatalf("Answers([2]) = %+v, %v", as, err)
	}
	if ids := stored(); !slices.Equal(ids, []int64{2}) {
		t.Errorf("after the next call, stored %v; want answer 1 deleted, 2 kept", ids)
	}
	if as, err := st.Answers(ctx, nil); err != nil || len(as) != 0 {
		t.Fatalf("Answers(nil) = %+v, %v", as, err)
	}
	if ids := stored(); len(ids) != 0 {
		t.Errorf("stored %v; want none", ids)
	}
}
