package queue

import (
	"context"
	"log/slog"
	"time"
)

// Every runs fn every interval until ctx is done, logging its failures; it
// is how each instance runs the periodic jobs (reconciler, sweepers), each
// of which is safe to run on several instances at once.
func Every(ctx context.Context, logger *slog.Logger, name string, interval time.Duration, fn func(ctx context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := fn(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.WarnContext(ctx, "periodic job failed", "job", name, "error", err.Error())
		case n > 0:
			logger.InfoContext(ctx, "periodic job", "job", name, "count", n)
		}
	}
}

// Waiting runs fn at once, then each time wake fires (after settle, which
// gathers a burst of signals into one run) or fn's own next time comes —
// whichever is first, and at most max after the last run. fn returns how
// soon it wants to run again: 0 for max, a negative duration for at once.
// It is how the jobs that have a wake-up signal or a known next due time
// wait instead of polling: at rest they send nothing, or one look every
// max.
func Waiting(ctx context.Context, logger *slog.Logger, name string, wake <-chan struct{}, settle, max time.Duration,
	fn func(ctx context.Context) (again time.Duration, n int, err error)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
			if settle > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(settle):
				}
			}
		}
		select { // one run answers every signal so far
		case <-wake:
		default:
		}
		again, n, err := fn(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.WarnContext(ctx, "periodic job failed", "job", name, "error", err.Error())
		case n > 0:
			logger.InfoContext(ctx, "periodic job", "job", name, "count", n)
		}
		if again == 0 || again > max {
			again = max
		}
		if again < 0 {
			again = 0
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(again)
	}
}
