package redis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The memory feed keeps about max events; a read after an id it no longer
// holds says so, and ids stay in order when the clock stands still or goes
// back.
func TestMemoryEventLogTrimsAndOrders(t *testing.T) {
	ctx := context.Background()
	clock := time.UnixMilli(1_765_000_000_000)
	l := newMemoryEventLog(10, func() time.Time { return clock })
	var ids []string
	for i := range 25 {
		if i == 12 {
			clock = clock.Add(-time.Minute) // the clock goes back
		}
		if err := l.Publish(ctx, fmt.Sprint(i), nil); err != nil {
			t.Fatal(err)
		}
		last, _ := l.Last(ctx)
		ids = append(ids, last)
	}
	for i := 1; i < len(ids); i++ {
		var a, b memID
		fmt.Sscanf(ids[i-1], "%d-%d", &a.ms, &a.seq)
		fmt.Sscanf(ids[i], "%d-%d", &b.ms, &b.seq)
		if !a.before(b) {
			t.Fatalf("id %d (%s) not after %d (%s)", i, ids[i], i-1, ids[i-1])
		}
	}
	all, complete, err := l.Read(ctx, "0", 100, 0)
	if err != nil || !complete || len(all) < 10 || len(all) > 11 || all[len(all)-1].Type != "24" {
		t.Fatalf("kept %d events (complete %v, %v), want the last 10 or 11", len(all), complete, err)
	}
	if _, complete, _ := l.Read(ctx, ids[0], 100, 0); complete {
		t.Fatal("a read after a trimmed event says the feed is complete")
	}
	if evs, complete, _ := l.Read(ctx, ids[23], 100, 0); !complete || len(evs) != 1 || evs[0].Type != "24" {
		t.Fatalf("read after the last but one: %v %v", evs, complete)
	}
	if _, _, err := l.Read(ctx, "not-an-id", 1, 0); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a bad id: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := l.Read(cctx, "$", 1, time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read whose context ends: %v", err)
	}
}
