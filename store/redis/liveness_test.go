package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/redis"
)

// The pending jobs of an instance whose liveness mark is gone are taken over
// by another instance at once, exactly once; those of a live instance are
// left alone.
func TestTakeOverFromADeadInstance(t *testing.T) {
	t.Parallel()
	r := testenv.Redis(t)
	ctx := context.Background()
	q := redis.NewStream(r, "takeover")
	if err := q.EnsureGroup(ctx); err != nil {
		t.Fatal(err)
	}
	a := redis.NewLiveness(r, "inst-a", time.Minute)
	b := redis.NewLiveness(r, "inst-b", time.Minute)
	c := redis.NewLiveness(r, "inst-c", time.Minute)
	for _, l := range []*redis.Liveness{a, b, c} {
		if err := l.Beat(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"j1", "j2", "j3"} {
		if err := q.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// A reads the jobs and is killed before acknowledging them.
	held, err := q.Read(ctx, a.Consumer("screen-0"), 3, 0)
	if err != nil || len(held) != 3 {
		t.Fatalf("read: %v %v", held, err)
	}
	time.Sleep(1100 * time.Millisecond) // the jobs have been left alone a moment
	if got, err := q.TakeOver(ctx, b.Consumer("screen-0"), 32); err != nil || len(got) != 0 {
		t.Fatalf("took over from a live instance: %v %v", got, err)
	}
	if err := a.Stop(ctx); err != nil { // the mark expires
		t.Fatal(err)
	}
	got, err := q.TakeOver(ctx, b.Consumer("screen-0"), 32)
	if err != nil || len(got) != 3 {
		t.Fatalf("take-over: %v %v; want the 3 jobs", got, err)
	}
	// A third instance looking at the same moment finds nothing left.
	if again, err := q.TakeOver(ctx, c.Consumer("screen-0"), 32); err != nil || len(again) != 0 {
		t.Fatalf("taken over twice: %v %v", again, err)
	}
	// B's own jobs are not taken from it while it lives.
	time.Sleep(1100 * time.Millisecond)
	if again, err := q.TakeOver(ctx, c.Consumer("screen-0"), 32); err != nil || len(again) != 0 {
		t.Fatalf("took over from live B: %v %v", again, err)
	}
	for _, d := range got {
		if err := q.Ack(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	// A's consumer, with nothing pending and A gone, is pruned; B's stays.
	n, err := q.PruneConsumers(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v); want A's one consumer", n, err)
	}
}
