package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUseOnce uses one id from two instances at once: exactly one use
// succeeds until the id expires, and then one again.
func TestUseOnce(t *testing.T) {
	schema := newSchema(t)
	sts := [2]interface {
		UseOnce(ctx context.Context, id string, exp, now time.Time) (bool, error)
	}{open(t, schema), open(t, schema)}
	now := time.Now()
	exp := now.Add(time.Minute)
	for round, at := range []time.Time{now, exp.Add(time.Second)} {
		var wins atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := sts[i%2].UseOnce(t.Context(), "jti:abc", at.Add(time.Minute), at)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("round %d: %d of 8 concurrent uses of one id succeeded, want 1", round, wins.Load())
		}
	}
	if ok, err := sts[0].UseOnce(t.Context(), "jti:other", exp, now); !ok || err != nil {
		t.Errorf("UseOnce(another id) = %v, %v; want true", ok, err)
	}
}

// TestTake drains a bucket of burst 5 from two instances at once: 5
// tokens in all, then one more a second later (rate 1/s), none before.
func TestTake(t *testing.T) {
	schema := newSchema(t)
	a, b := open(t, schema), open(t, schema)
	now := time.Now()
	var got atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			st := a
			if i%2 == 1 {
				st = b
			}
			ok, err := st.Take(t.Context(), "ip:192.0.2.1", 1, 5, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				got.Add(1)
			}
		})
	}
	wg.Wait()
	if got.Load() != 5 {
		t.Errorf("20 concurrent takes from a bucket of 5 got %d tokens", got.Load())
	}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{500 * time.Millisecond, false}, {1100 * time.Millisecond, true}, {1200 * time.Millisecond, false}} {
		if ok, err := a.Take(t.Context(), "ip:192.0.2.1", 1, 5, now.Add(tc.at)); ok != tc.want || err != nil {
			t.Errorf("Take(+%v) = %v, %v; want %v", tc.at, ok, err, tc.want)
		}
	}
	if ok, err := b.Take(t.Context(), "ip:192.0.2.2", 1, 5, now); !ok || err != nil {
		t.Errorf("Take(another key) = %v, %v; want true", ok, err)
	}
}
