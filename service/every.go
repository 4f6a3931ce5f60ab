package service

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
