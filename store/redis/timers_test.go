package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/redis"
)

// timerSet is what the dispatcher and its timer loop use of a timer store.
type timerSet interface {
	Schedule(ctx context.Context, member string, at time.Time) error
	Woken() <-chan struct{}
	Next(ctx context.Context) (time.Time, bool, error)
	Due(ctx context.Context, now time.Time, limit int) ([]string, error)
	Claim(ctx context.Context, member string) (bool, error)
}

// The timers in Redis and the embedded mode's timers in memory behave
// alike: the earliest first (ties by name), a rescheduled timer moves, due
// ones up to a limit, a claim succeeds once, a schedule wakes the loop.
func TestTimerSets(t *testing.T) {
	t.Parallel()
	for name, mk := range map[string]func(t *testing.T) timerSet{
		"redis":  func(t *testing.T) timerSet { return redis.NewTimers(testenv.Redis(t)) },
		"memory": func(*testing.T) timerSet { return redis.NewMemoryTimers() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := mk(t)
			if _, ok, err := s.Next(ctx); ok || err != nil {
				t.Fatalf("an empty set has a next timer (%v)", err)
			}
			base := time.UnixMilli(1_765_000_000_000)
			for _, tm := range []struct {
				member string
				after  time.Duration
			}{{"c", 3 * time.Second}, {"a", time.Second}, {"b", time.Second}, {"d", 10 * time.Second}, {"e", time.Hour}} {
				if err := s.Schedule(ctx, tm.member, base.Add(tm.after)); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-s.Woken():
			default:
				t.Fatal("scheduling did not wake the loop")
			}
			// e moves before everything else.
			if err := s.Schedule(ctx, "e", base); err != nil {
				t.Fatal(err)
			}
			if at, ok, err := s.Next(ctx); !ok || err != nil || !at.Equal(base) {
				t.Fatalf("next: %v %v %v, want %v", at, ok, err, base)
			}
			due, err := s.Due(ctx, base.Add(5*time.Second), 3)
			if err != nil || !slices.Equal(due, []string{"e", "a", "b"}) {
				t.Fatalf("due, limit 3: %v %v", due, err)
			}
			if due, _ := s.Due(ctx, base.Add(5*time.Second), 10); !slices.Equal(due, []string{"e", "a", "b", "c"}) {
				t.Fatalf("due, limit 10: %v", due)
			}
			if ok, err := s.Claim(ctx, "a"); !ok || err != nil {
				t.Fatalf("first claim of a: %v %v", ok, err)
			}
			if ok, _ := s.Claim(ctx, "a"); ok {
				t.Fatal("a claimed twice")
			}
			if ok, _ := s.Claim(ctx, "nothing"); ok {
				t.Fatal("a timer never set was claimed")
			}
			for _, m := range []string{"e", "b", "c"} {
				if ok, _ := s.Claim(ctx, m); !ok {
					t.Fatalf("claim of %s failed", m)
				}
			}
			if due, _ := s.Due(ctx, base.Add(5*time.Second), 10); len(due) != 0 {
				t.Fatalf("due after the claims: %v", due)
			}
			if at, ok, _ := s.Next(ctx); !ok || !at.Equal(base.Add(10*time.Second)) {
				t.Fatalf("next after the claims: %v %v", at, ok)
			}
		})
	}
}
