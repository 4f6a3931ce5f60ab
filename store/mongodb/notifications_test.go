package mongodb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func TestNotificationsBeginOnce(t *testing.T) {
	t.Parallel()
	log := mongodb.NewNotifications(testenv.Mongo(t), time.Now)
	ctx := context.Background()

	// Concurrent deliveries of one job: exactly one may send.
	var wg sync.WaitGroup
	firsts := make([]bool, 8)
	errs := make([]error, 8)
	for i := range firsts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			firsts[i], errs[i] = log.Begin(ctx, "k1", "u1", "tmpl")
		}()
	}
	wg.Wait()
	winners := 0
	for i, first := range firsts {
		if errs[i] != nil {
			t.Fatalf("begin %d: %v", i, errs[i])
		}
		if first {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d Begins were first, want 1", winners)
	}
	if st, err := log.Status(ctx, "k1"); err != nil || st != "sending" {
		t.Fatalf("status = %q, %v; want sending", st, err)
	}
	if first, err := log.Begin(ctx, "k2", "u1", "tmpl"); err != nil || !first {
		t.Fatalf("another key: first=%v, %v", first, err)
	}
}

func TestNotificationsFinishAndForget(t *testing.T) {
	t.Parallel()
	log := mongodb.NewNotifications(testenv.Mongo(t), time.Now)
	ctx := context.Background()

	// A forgotten attempt may begin again.
	if _, err := log.Begin(ctx, "retry", "u1", "tmpl"); err != nil {
		t.Fatal(err)
	}
	if err := log.Forget(ctx, "retry"); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Status(ctx, "retry"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("status after forget: %v, want not_found", err)
	}
	if first, err := log.Begin(ctx, "retry", "u1", "tmpl"); err != nil || !first {
		t.Fatalf("begin after forget: first=%v, %v; want true", first, err)
	}

	// A finished one is kept: forgetting it could send twice.
	if err := log.Finish(ctx, "retry", "sent"); err != nil {
		t.Fatal(err)
	}
	if err := log.Forget(ctx, "retry"); err != nil {
		t.Fatal(err)
	}
	if st, err := log.Status(ctx, "retry"); err != nil || st != "sent" {
		t.Fatalf("status = %q, %v; want sent", st, err)
	}
	if first, err := log.Begin(ctx, "retry", "u1", "tmpl"); err != nil || first {
		t.Fatalf("begin after finish: first=%v, %v; want false", first, err)
	}

	if err := log.Finish(ctx, "ghost", "sent"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("finish unknown: %v, want not_found", err)
	}
}

func TestNotificationsPrune(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	log := mongodb.NewNotifications(testenv.Mongo(t), func() time.Time { return now })
	ctx := context.Background()
	if _, err := log.Begin(ctx, "old", "u1", "tmpl"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if _, err := log.Begin(ctx, "new", "u1", "tmpl"); err != nil {
		t.Fatal(err)
	}
	n, err := log.Prune(ctx, now.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v; want 1", n, err)
	}
	if _, err := log.Status(ctx, "old"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("old record: %v, want pruned", err)
	}
	if _, err := log.Status(ctx, "new"); err != nil {
		t.Fatalf("new record: %v, want kept", err)
	}
}
