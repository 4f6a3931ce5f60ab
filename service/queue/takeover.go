package queue

import (
	"context"
	"sync"

	"github.com/citizen-city/chengguantong/model"
)

// Orphans is the part of a queue that finds the jobs of consumers whose
// instance died (its liveness mark expired).
type Orphans interface {
	TakeOver(ctx context.Context, consumer string, count int) ([]model.Delivery, error)
}

// takeOverBatch bounds the jobs one look takes over, and takeOverParallel
// how many of them are handled at once (a dead instance may have left a
// consumer's worth of jobs each for several consumers).
const (
	takeOverBatch    = 128
	takeOverParallel = 4
)

// TakeOver claims the jobs that consumers of dead instances left pending
// and handles them as this worker's own. Each instance calls it for one
// worker per queue every few seconds, so a killed instance's work moves
// within seconds; the idle-based reclaim of Run stays as the backstop. It
// returns how many jobs it took over.
func (w *Worker) TakeOver(ctx context.Context, from Orphans) (int, error) {
	jobs, err := from.TakeOver(ctx, w.Consumer, takeOverBatch)
	if len(jobs) > 0 {
		w.Logger.WarnContext(ctx, "took over the jobs of a consumer that died", "queue", w.Queue.Name(), "jobs", len(jobs))
	}
	next := make(chan model.Delivery)
	var wg sync.WaitGroup
	for range min(takeOverParallel, len(jobs)) {
		wg.Go(func() {
			for d := range next {
				w.process(ctx, d)
			}
		})
	}
	for _, d := range jobs {
		next <- d
	}
	close(next)
	wg.Wait()
	return len(jobs), err
}
