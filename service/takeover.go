package service

import (
	"context"

	"github.com/citizen-city/chengguantong/model"
)

// Orphans is the part of a queue that finds the jobs of consumers whose
// instance died (its liveness mark expired).
type Orphans interface {
	TakeOver(ctx context.Context, consumer string, count int) ([]model.Delivery, error)
}

// TakeOver claims up to 32 jobs that consumers of dead instances left
// pending and handles them as this worker's own. Each instance calls it for
// one worker per queue every few seconds, so a killed instance's work moves
// within seconds; the idle-based reclaim of Run stays as the backstop. It
// returns how many jobs it took over.
func (w *Worker) TakeOver(ctx context.Context, from Orphans) (int, error) {
	jobs, err := from.TakeOver(ctx, w.Consumer, 32)
	for _, d := range jobs {
		w.process(ctx, d)
	}
	if len(jobs) > 0 {
		w.Logger.InfoContext(ctx, "took over the jobs of a consumer that died", "queue", w.Queue.Name(), "jobs", len(jobs))
	}
	return len(jobs), err
}
