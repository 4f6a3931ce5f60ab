package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/redis"
)

// feed is what the live view reads (service/ticket.EventFeed).
type feed interface {
	Publish(ctx context.Context, typ string, data []byte) error
	Read(ctx context.Context, after string, count int, block time.Duration) ([]model.LiveEvent, bool, error)
	Last(ctx context.Context) (string, error)
}

// The feed in Redis and the embedded mode's feed in memory behave alike:
// ids in order, reads after an id, a count, "$" for only new events, a
// blocked read woken by a publish or ending at its time.
func TestEventFeeds(t *testing.T) {
	t.Parallel()
	for name, mk := range map[string]func(t *testing.T) feed{
		"redis":  func(t *testing.T) feed { return redis.NewEventLog(testenv.Redis(t)) },
		"memory": func(*testing.T) feed { return redis.NewMemoryEventLog() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := mk(t)
			if last, err := f.Last(ctx); err != nil || last != "0-0" {
				t.Fatalf("empty feed's last: %q %v", last, err)
			}
			if evs, complete, err := f.Read(ctx, "$", 10, 0); err != nil || len(evs) != 0 || !complete {
				t.Fatalf("empty feed read: %v %v %v", evs, complete, err)
			}
			for _, typ := range []string{"a", "b", "c"} {
				if err := f.Publish(ctx, typ, []byte(`{"x":"`+typ+`"}`)); err != nil {
					t.Fatal(err)
				}
			}
			all, complete, err := f.Read(ctx, "0", 10, 0)
			if err != nil || !complete || len(all) != 3 {
				t.Fatalf("read all: %v %v %v", all, complete, err)
			}
			for i, typ := range []string{"a", "b", "c"} {
				if all[i].Type != typ || string(all[i].Data) != `{"x":"`+typ+`"}` {
					t.Fatalf("event %d: %+v", i, all[i])
				}
				if i > 0 && all[i].ID == all[i-1].ID {
					t.Fatalf("ids repeat: %v", all)
				}
			}
			if last, _ := f.Last(ctx); last != all[2].ID {
				t.Fatalf("last %q, want %q", last, all[2].ID)
			}
			after, _, err := f.Read(ctx, all[0].ID, 1, 0)
			if err != nil || len(after) != 1 || after[0].ID != all[1].ID {
				t.Fatalf("one after the first: %v %v", after, err)
			}
			if none, _, err := f.Read(ctx, "$", 10, 0); err != nil || len(none) != 0 {
				t.Fatalf("$ without waiting: %v %v", none, err)
			}
			// A blocked read gets the next publish.
			got := make(chan []model.LiveEvent, 1)
			go func() {
				evs, _, _ := f.Read(ctx, all[2].ID, 10, 5*time.Second)
				got <- evs
			}()
			time.Sleep(50 * time.Millisecond)
			if err := f.Publish(ctx, "d", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			select {
			case evs := <-got:
				if len(evs) != 1 || evs[0].Type != "d" {
					t.Fatalf("blocked read got %v", evs)
				}
			case <-time.After(4 * time.Second):
				t.Fatal("a blocked read was not woken by a publish")
			}
			// And ends empty at its time.
			t0 := time.Now()
			if evs, _, err := f.Read(ctx, "$", 10, 100*time.Millisecond); err != nil || len(evs) != 0 {
				t.Fatalf("timed-out read: %v %v", evs, err)
			}
			if d := time.Since(t0); d < 90*time.Millisecond {
				t.Fatalf("a read of 100 ms returned after %v", d)
			}
		})
	}
}
