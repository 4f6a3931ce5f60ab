package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/model"
)

// EventLog is the staff's live feed: a capped Redis Stream of what happened
// to tickets, which every instance reads, so that a console connected to
// any instance sees every change, whichever instance made it. Entry ids are
// the feed's event ids: a reconnect resumes after the last one it saw.
type EventLog struct {
	r   *Redis
	key string
}

// NewEventLog returns the feed.
func NewEventLog(r *Redis) *EventLog { return &EventLog{r: r, key: r.Key("{events}", "stream")} }

// eventLogLen is about how many events the feed keeps for reconnects: at
// 200,000 tickets a year, a few days' worth.
const eventLogLen = 20_000

// Publish appends an event of type typ with its JSON data.
func (l *EventLog) Publish(ctx context.Context, typ string, data []byte) error {
	err := l.r.Client.XAdd(ctx, &goredis.XAddArgs{
		Stream: l.key, MaxLen: eventLogLen, Approx: true, Values: []any{"t", typ, "d", data},
	}).Err()
	if err != nil {
		return fmt.Errorf("live event: %w", Translate(err))
	}
	return nil
}

// Read returns the events after id ("$" for only new ones), waiting up to
// block for one (0: no wait). Besides the events it reports whether the
// feed still holds everything after id: false when id is older than the
// oldest event kept (the reader missed some and must start afresh).
func (l *EventLog) Read(ctx context.Context, after string, count int, block time.Duration) ([]model.LiveEvent, bool, error) {
	complete := true
	if after != "$" && after != "0" && after != "" {
		first, err := l.r.Client.XRangeN(ctx, l.key, "-", "+", 1).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, false, fmt.Errorf("live events: %w", Translate(err))
		}
		if len(first) > 0 && idBefore(after, first[0].ID) {
			// Trimmed past after: whatever lies between is gone.
			complete = false
		}
	}
	if after == "" {
		after = "$"
	}
	args := &goredis.XReadArgs{Streams: []string{l.key, after}, Count: int64(count), Block: block}
	if block <= 0 {
		args.Block = -1 // no BLOCK argument: answer at once
	}
	res, err := l.r.Client.XRead(ctx, args).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, complete, nil
	}
	if err != nil {
		return nil, complete, fmt.Errorf("live events: %w", Translate(err))
	}
	var out []model.LiveEvent
	for _, s := range res {
		for _, m := range s.Messages {
			typ, _ := m.Values["t"].(string)
			data, _ := m.Values["d"].(string)
			out = append(out, model.LiveEvent{ID: m.ID, Type: typ, Data: []byte(data)})
		}
	}
	return out, complete, nil
}

// Last returns the id of the newest event ("0-0" when there is none).
func (l *EventLog) Last(ctx context.Context) (string, error) {
	last, err := l.r.Client.XRevRangeN(ctx, l.key, "+", "-", 1).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return "", fmt.Errorf("live events: %w", Translate(err))
	}
	if len(last) == 0 {
		return "0-0", nil
	}
	return last[0].ID, nil
}

// idBefore reports whether stream id a is before b ("ms-seq" each).
func idBefore(a, b string) bool {
	var am, as, bm, bs uint64
	if _, err := fmt.Sscanf(a, "%d-%d", &am, &as); err != nil {
		return true
	}
	if _, err := fmt.Sscanf(b, "%d-%d", &bm, &bs); err != nil {
		return false
	}
	return am < bm || (am == bm && as < bs)
}
