package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Stream is an at-least-once work queue shared by every instance.
type Stream interface {
	Name() string
	EnsureGroup(ctx context.Context) error
	Add(ctx context.Context, payload string) error
	Read(ctx context.Context, consumer string, count int, block time.Duration) ([]model.Delivery, error)
	Reclaim(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]model.Delivery, error)
	Ack(ctx context.Context, id string) error
	Fail(ctx context.Context, id string) (int64, error)
	DeadLetter(ctx context.Context, d model.Delivery, reason string) error
}

// Worker consumes a queue: each job is handled, then acknowledged. A failed
// job stays pending and is retried when reclaimed after ReclaimIdle; after
// MaxAttempts it goes to the dead-letter stream. Handlers must be idempotent.
//
// One Worker per queue and instance reads (one consumer of the group) and
// hands each job to a goroutine of its own, up to Concurrency at once: a
// job spends its time waiting on store round trips, so several keep a
// queue moving, while one blocking read at a time keeps an idle queue
// quiet — one XREADGROUP per Block.
type Worker struct {
	Queue       Stream
	Consumer    string // unique per instance and queue
	Handle      func(ctx context.Context, payload string) error
	MaxAttempts int64
	// GiveUp, when set, is called after the last failed attempt, before the
	// job goes to the dead letters: it turns the job's ticket into staff
	// work (held, or in the staff's queue), so that nobody waits on a dead
	// letter. When it fails too the job stays pending and is tried again.
	GiveUp      func(ctx context.Context, payload string, cause error) error
	ReclaimIdle time.Duration
	// HandleTimeout bounds one job; a job in hand when shutdown begins is
	// finished within it.
	HandleTimeout time.Duration
	// Concurrency is how many jobs are handled at once (1 if unset).
	Concurrency int
	// Block is how long one read waits for a job (2 s if unset); shutdown
	// waits for the read in flight.
	Block  time.Duration
	Logger *slog.Logger
}

// Run consumes until ctx is done, and returns once the jobs in hand are
// finished.
func (w *Worker) Run(ctx context.Context) {
	if err := w.Queue.EnsureGroup(ctx); err != nil {
		w.Logger.WarnContext(ctx, "queue not ready; will retry", "queue", w.Queue.Name(), "error", err.Error())
	}
	n := max(w.Concurrency, 1)
	block := w.Block
	if block <= 0 {
		block = 2 * time.Second
	}
	free := make(chan struct{}, n) // a token per idle handler
	for range n {
		free <- struct{}{}
	}
	var handlers sync.WaitGroup
	defer handlers.Wait()
	lastReclaim := time.Time{}
	for ctx.Err() == nil {
		// Wait for an idle handler, then take every idle one.
		select {
		case <-ctx.Done():
			return
		case <-free:
		}
		idle := 1
	take:
		for idle < n {
			select {
			case <-free:
				idle++
			default:
				break take
			}
		}
		var batch []model.Delivery
		var err error
		if time.Since(lastReclaim) > w.ReclaimIdle/2 {
			lastReclaim = time.Now()
			batch, err = w.Queue.Reclaim(ctx, w.Consumer, w.ReclaimIdle, idle)
		}
		if err == nil && len(batch) == 0 {
			batch, err = w.Queue.Read(ctx, w.Consumer, idle, block)
		}
		if len(batch) > idle {
			batch = batch[:idle]
		}
		for range idle - len(batch) {
			free <- struct{}{}
		}
		if err != nil {
			w.pause(ctx, err)
			continue
		}
		for _, d := range batch {
			handlers.Go(func() {
				defer func() { free <- struct{}{} }()
				w.process(ctx, d)
			})
		}
	}
}

func (w *Worker) pause(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	w.Logger.WarnContext(ctx, "queue unavailable", "queue", w.Queue.Name(), "error", err.Error())
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

func (w *Worker) process(ctx context.Context, d model.Delivery) {
	// Finish a job in hand even when shutdown has begun.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.HandleTimeout)
	defer cancel()
	err := w.Handle(hctx, d.Payload)
	if err == nil {
		if err := w.Queue.Ack(hctx, d.ID); err != nil {
			w.Logger.WarnContext(ctx, "ack failed; the job will be handled again", "queue", w.Queue.Name(), "job", d.Payload, "error", err.Error())
		}
		return
	}
	n, ferr := w.Queue.Fail(hctx, d.ID)
	if ferr != nil {
		w.Logger.WarnContext(ctx, "job failed", "queue", w.Queue.Name(), "job", d.Payload, "error", err.Error())
		return
	}
	if n >= w.MaxAttempts {
		if w.GiveUp != nil {
			if gerr := w.GiveUp(hctx, d.Payload, err); gerr != nil {
				w.Logger.WarnContext(ctx, "job failed and could not be handed to staff; will retry", "queue", w.Queue.Name(), "job", d.Payload,
					"attempts", n, "error", err.Error(), "give_up_error", gerr.Error())
				return
			}
		}
		w.Logger.ErrorContext(ctx, "job dead-lettered", "queue", w.Queue.Name(), "job", d.Payload, "attempts", n, "error", err.Error())
		_ = w.Queue.DeadLetter(hctx, d, err.Error())
		return
	}
	w.Logger.WarnContext(ctx, "job failed; will retry", "queue", w.Queue.Name(), "job", d.Payload, "attempts", n, "error", err.Error())
}
