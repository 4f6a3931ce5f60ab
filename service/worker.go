package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Queue is an at-least-once work queue shared by every instance.
type Queue interface {
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
type Worker struct {
	Queue       Queue
	Consumer    string // unique per instance and goroutine
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
	Logger        *slog.Logger
}

// Run consumes until ctx is done.
func (w *Worker) Run(ctx context.Context) {
	if err := w.Queue.EnsureGroup(ctx); err != nil {
		w.Logger.WarnContext(ctx, "queue not ready; will retry", "queue", w.Queue.Name(), "error", err.Error())
	}
	lastReclaim := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastReclaim) > w.ReclaimIdle/2 {
			lastReclaim = time.Now()
			claimed, err := w.Queue.Reclaim(ctx, w.Consumer, w.ReclaimIdle, 32)
			if err != nil {
				w.pause(ctx, err)
				continue
			}
			for _, d := range claimed {
				w.process(ctx, d)
			}
		}
		// A few at a time: a batch is handled in order, so a large one
		// would hold jobs back while other consumers sit idle.
		batch, err := w.Queue.Read(ctx, w.Consumer, 2, time.Second)
		if err != nil {
			w.pause(ctx, err)
			continue
		}
		for _, d := range batch {
			w.process(ctx, d)
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
