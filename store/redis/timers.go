package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timers are deadlines in one Redis sorted set (scored by due time in
// milliseconds). Any instance may poll; removing a member is the claim, so
// each timer fires on exactly one instance. The set is rebuildable: the
// reconciler re-adds the timers of every open ticket from MongoDB, and the
// handlers check the ticket's state, so a re-added timer that already had
// its effect does nothing.
//
// The instance's timer loop does not poll: it asks for the next due time
// (Next) and sleeps until then, woken early when this instance schedules
// a timer (Woken); a timer another instance schedules is seen at the
// loop's next look, a couple of seconds at most.
type Timers struct {
	r    *Redis
	key  string
	wake chan struct{}
}

// NewTimers returns the timer set over r.
func NewTimers(r *Redis) *Timers {
	return &Timers{r: r, key: r.Key("{timers}", "z"), wake: make(chan struct{}, 1)}
}

// Schedule sets the timer member to fire at at (replacing its time).
func (t *Timers) Schedule(ctx context.Context, member string, at time.Time) error {
	if err := t.r.Client.ZAdd(ctx, t.key, goredis.Z{Score: float64(at.UnixMilli()), Member: member}).Err(); err != nil {
		return fmt.Errorf("schedule timer: %w", Translate(err))
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return nil
}

// Woken receives a signal whenever this instance schedules a timer.
func (t *Timers) Woken() <-chan struct{} { return t.wake }

// Next returns the earliest due time; ok is false when no timer is set.
func (t *Timers) Next(ctx context.Context) (at time.Time, ok bool, err error) {
	zs, err := t.r.Client.ZRangeWithScores(ctx, t.key, 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next timer: %w", Translate(err))
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(zs[0].Score)), true, nil
}

// Due returns up to limit timers due at now.
func (t *Timers) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	out, err := t.r.Client.ZRangeByScore(ctx, t.key, &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("due timers: %w", Translate(err))
	}
	return out, nil
}

// Claim removes a timer and reports whether this caller removed it.
func (t *Timers) Claim(ctx context.Context, member string) (bool, error) {
	n, err := t.r.Client.ZRem(ctx, t.key, member).Result()
	if err != nil {
		return false, fmt.Errorf("claim timer: %w", Translate(err))
	}
	return n == 1, nil
}
