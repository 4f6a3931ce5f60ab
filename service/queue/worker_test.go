package queue_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/queue"
	"github.com/citizen-city/chengguantong/store/redis"
)

// A job that keeps failing is handed to GiveUp after its last attempt (once),
// then dead-lettered; while GiveUp itself fails, the job stays pending and is
// tried again rather than dead-lettered.
func TestWorkerGivesUpToStaffNotToADeadLetter(t *testing.T) {
	t.Parallel()
	q := redis.NewStream(testenv.Redis(t), "giveup")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.EnsureGroup(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	gaveUp := map[string]int{}
	giveUpFails := 2 // the first two hand-overs fail (MongoDB down, say)
	w := &queue.Worker{
		Queue: q, Consumer: "c1", MaxAttempts: 2, ReclaimIdle: 100 * time.Millisecond, HandleTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler),
		Handle: func(ctx context.Context, payload string) error {
			mu.Lock()
			defer mu.Unlock()
			handled[payload]++
			return model.Errorf(model.CodeUnavailable, "微信 msgSecCheck 接口返回错误码 -1")
		},
		GiveUp: func(ctx context.Context, payload string, cause error) error {
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(cause, model.ErrUnavailable) {
				t.Errorf("GiveUp got cause %v", cause)
			}
			if giveUpFails > 0 {
				giveUpFails--
				return errors.New("mongodb unavailable")
			}
			gaveUp[payload]++
			return nil
		},
	}
	if err := q.Add(ctx, "ticket-1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		dead, err := q.DeadLetters(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) > 0 {
			if len(dead) != 1 || dead[0].Payload != "ticket-1" {
				t.Fatalf("dead letters %+v", dead)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never dead-lettered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	// Attempts 1 and 2 fail; the hand-over after attempt 2 fails and so does
	// the one after attempt 3; after attempt 4 it succeeds.
	if gaveUp["ticket-1"] != 1 || handled["ticket-1"] != 4 {
		t.Fatalf("handled %d times, given up %d times; want 4 and 1", handled["ticket-1"], gaveUp["ticket-1"])
	}
}
