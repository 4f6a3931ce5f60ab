package ticket

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/queue"
)

// The background work of an instance, each a Run method of the service that
// owns it. Every one is safe to run on every instance at once: the work is
// claimed (timers, queue jobs) or idempotent (sweeps, reconciliation).

// TimerWaker is the part of the timer store that tells when the next timer
// is due, and wakes a sleeper when this instance sets one.
type TimerWaker interface {
	Next(ctx context.Context) (at time.Time, ok bool, err error)
	Woken() <-chan struct{}
}

// RunTimers fires the timers as they come due, until ctx is done: it sleeps
// until the next due time, woken when this instance sets a timer; a timer
// set by another instance is seen within look.
func (d *Dispatcher) RunTimers(ctx context.Context, timers TimerWaker, look time.Duration) {
	queue.Waiting(ctx, d.logger, "timers", timers.Woken(), 0, look, func(ctx context.Context) (time.Duration, int, error) {
		at, ok, err := timers.Next(ctx)
		if err != nil || !ok {
			return 0, 0, err
		}
		if wait := at.Sub(d.now()); wait > 0 {
			return wait, 0, nil
		}
		n, err := d.FireDue(ctx)
		if err != nil {
			return 0, n, err
		}
		return -1, n, nil
	})
}

// RedisEpoch tells whether Redis lost its data since the last look.
type RedisEpoch interface {
	Lost(ctx context.Context) (bool, error)
}

// Reconciler rebuilds what Redis holds from the store — the screening and
// dispatch jobs of stuck tickets, every open ticket's timers, the handoffs
// left unrelayed (Relay.Sweep) — at start-up,
// at once when Redis lost its data, and otherwise every interval. It is the
// last backstop: after-commit work a crash left behind is the relay's,
// within seconds.
type Reconciler struct {
	Screening  *Screening
	Dispatcher *Dispatcher
	// ScreenQueue takes the reports found stuck in screening.
	ScreenQueue Queue
	Relay       *Relay
	Epoch       RedisEpoch
	Interval    time.Duration
}

// Once reconciles everything older than minAge. It returns how many
// tickets it queued.
func (r *Reconciler) Once(ctx context.Context, minAge time.Duration) (int, error) {
	n, err := r.Screening.Requeue(ctx, r.ScreenQueue, minAge)
	if err != nil {
		return n, err
	}
	m, err := r.Dispatcher.Reconcile(ctx, minAge)
	if err != nil {
		return n + m, err
	}
	k, err := r.Relay.Sweep(ctx)
	return n + m + k, err
}

// Run reconciles at start, then looks every 30 s whether Redis lost its
// data (reconciling at once if so) and reconciles every Interval anyway.
func (r *Reconciler) Run(ctx context.Context) {
	logger := r.Dispatcher.logger
	if _, err := r.Epoch.Lost(ctx); err != nil && ctx.Err() == nil {
		logger.WarnContext(ctx, "redis epoch unreadable; reconciling anyway", "error", err.Error())
	}
	if n, err := r.Once(ctx, 0); err != nil && ctx.Err() == nil {
		logger.WarnContext(ctx, "start-up reconciliation failed; it will run again", "error", err.Error())
	} else if n > 0 {
		logger.InfoContext(ctx, "start-up reconciliation queued tickets", "count", n)
	}
	last := time.Now()
	queue.Every(ctx, logger, "reconcile", 30*time.Second, func(ctx context.Context) (int, error) {
		lost, err := r.Epoch.Lost(ctx)
		if err != nil {
			return 0, err
		}
		if !lost && time.Since(last) < r.Interval {
			return 0, nil
		}
		last = time.Now()
		if lost {
			// Every job Redis held is gone, the newest too: requeue
			// whatever waits, however young (a job done twice finds
			// nothing left to do the second time).
			logger.WarnContext(ctx, "redis lost its data; rebuilding queues and timers from the store")
			return r.Once(ctx, 0)
		}
		// The periodic backstop leaves alone what is under way.
		return r.Once(ctx, time.Minute)
	})
}

// Sweeper removes uploads never used in a report within UnusedTTL and
// takes photo checks whose verdict never came as passed.
type Sweeper struct {
	Photos    *photos.Uploads
	Screening *Screening
	UnusedTTL time.Duration
	Now       func() time.Time
}

// Run sweeps every period until ctx is done.
func (s *Sweeper) Run(ctx context.Context, period time.Duration) {
	queue.Every(ctx, s.Screening.logger, "photo-sweeper", period, func(ctx context.Context) (int, error) {
		n, err := s.Photos.SweepUnused(ctx, s.Now(), s.UnusedTTL)
		m, err2 := s.Screening.ExpireModeration(ctx, moderationWait)
		return n + m, errors.Join(err, err2)
	})
}

// moderationWait is how long a photo check may go without WeChat's verdict
// before the photo is taken as passed.
const moderationWait = 30 * time.Minute

// Registry tells which instances have died, and forgets them once what
// they left is taken over (see store/redis.Liveness).
type Registry interface {
	Dead(ctx context.Context) ([]string, error)
	Forget(ctx context.Context, instances []string) error
}

// Takeover finishes what dead instances left: their queue jobs taken but
// not done, and their committed changes not yet handed on (Relay.Sweep).
// It looks every period, at rest at Redis only (which instances died), and
// reads the store's handoffs when there is a reason: at start, after an
// instance died, while this instance has relays that failed (Redis did not
// answer), and every RECONCILE_INTERVAL as the last backstop (Reconciler).
type Takeover struct {
	Registry Registry
	Relay    *Relay
	// Workers and Queues pair each queue with this instance's worker of it.
	Workers []*queue.Worker
	Queues  []ConsumerGroup
	Logger  *slog.Logger
}

// ConsumerGroup is a queue as Takeover needs it.
type ConsumerGroup interface {
	queue.Orphans
	PruneConsumers(ctx context.Context, idle time.Duration) (int, error)
}

// Run looks every period until ctx is done.
func (t *Takeover) Run(ctx context.Context, period time.Duration) {
	first := true
	queue.Every(ctx, t.Logger, "takeover", period, func(ctx context.Context) (int, error) {
		dead, err := t.Registry.Dead(ctx)
		if err != nil {
			return 0, err
		}
		n := 0
		var errs []error
		if len(dead) > 0 {
			for i, w := range t.Workers {
				m, err := w.TakeOver(ctx, t.Queues[i])
				n += m
				errs = append(errs, err)
			}
		}
		if first || len(dead) > 0 || t.Relay.failed.Load() > 0 {
			m, err := t.Relay.Sweep(ctx)
			n += m
			errs = append(errs, err)
			first = first && err != nil
		}
		if len(dead) > 0 && errors.Join(errs...) == nil {
			// Everything they left is taken over: forget them, and their
			// idle consumers.
			for _, q := range t.Queues {
				_, err := q.PruneConsumers(ctx, 0)
				errs = append(errs, err)
			}
			errs = append(errs, t.Registry.Forget(ctx, dead))
			t.Logger.InfoContext(ctx, "took over what dead instances left", "instances", dead)
		}
		return n, errors.Join(errs...)
	})
}
