package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/model"
)

// Stream is a work queue on a Redis Stream with one consumer group: every
// instance reads from the group, a message stays pending until acknowledged,
// a message whose consumer died is reclaimed (XAUTOCLAIM), and one that keeps
// failing is moved to a dead-letter stream. All of a stream's keys share one
// hash tag, so its multi-key commands stay in one Redis Cluster slot.
type Stream struct {
	r        *Redis
	name     string
	key      string
	dead     string
	attempts string
	group    string
}

// NewStream returns the stream called name.
func NewStream(r *Redis, name string) *Stream {
	tag := "{" + name + "}"
	return &Stream{
		r: r, name: name, group: "workers",
		key: r.Key(tag, "stream"), dead: r.Key(tag, "dead"), attempts: r.Key(tag, "attempts"),
	}
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// maxLen bounds the stream; acknowledged entries are history only.
const maxLen = 200_000

// EnsureGroup creates the stream and its consumer group if missing. The
// group starts at the beginning, so nothing added before it is missed.
func (s *Stream) EnsureGroup(ctx context.Context) error {
	err := s.r.Client.XGroupCreateMkStream(ctx, s.key, s.group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group %s: %w", s.name, Translate(err))
	}
	return nil
}

// Add queues a job.
func (s *Stream) Add(ctx context.Context, payload string) error {
	err := s.r.Client.XAdd(ctx, &goredis.XAddArgs{
		Stream: s.key, MaxLen: maxLen, Approx: true, Values: []string{"p", payload},
	}).Err()
	if err != nil {
		return fmt.Errorf("queue %s: %w", s.name, Translate(err))
	}
	return nil
}

// Read returns up to count new jobs for consumer, waiting up to block.
func (s *Stream) Read(ctx context.Context, consumer string, count int, block time.Duration) ([]model.Delivery, error) {
	res, err := s.r.Client.XReadGroup(ctx, &goredis.XReadGroupArgs{
		Group: s.group, Consumer: consumer, Streams: []string{s.key, ">"}, Count: int64(count), Block: block,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil && streamGone(err) {
		// Redis was flushed or restarted empty: recreate and carry on; the
		// reconciler re-queues what was lost.
		return nil, s.EnsureGroup(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.name, Translate(err))
	}
	var out []model.Delivery
	for _, st := range res {
		out = append(out, deliveries(st.Messages)...)
	}
	return out, nil
}

// Reclaim takes over jobs that have been pending longer than minIdle (their
// consumer died or failed them).
func (s *Stream) Reclaim(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]model.Delivery, error) {
	msgs, _, err := s.r.Client.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
		Stream: s.key, Group: s.group, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: int64(count),
	}).Result()
	if err != nil && streamGone(err) {
		return nil, s.EnsureGroup(ctx)
	}
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("reclaim %s: %w", s.name, Translate(err))
	}
	return deliveries(msgs), nil
}

// streamGone reports the errors of a stream or group deleted under a reader
// (FLUSHALL, a Redis restart without persistence).
func streamGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "NOGROUP") || strings.Contains(msg, "UNBLOCKED")
}

func deliveries(msgs []goredis.XMessage) []model.Delivery {
	out := make([]model.Delivery, 0, len(msgs))
	for _, m := range msgs {
		p, _ := m.Values["p"].(string)
		out = append(out, model.Delivery{ID: m.ID, Payload: p})
	}
	return out
}

// Ack marks a job done: its attempts are forgotten, then it is
// acknowledged, in one round trip. No transaction is needed: should only
// the first command take effect, the job is still pending and runs again,
// as after a crash before Ack (every job may run more than once), with
// its attempts counted afresh.
func (s *Stream) Ack(ctx context.Context, id string) error {
	_, err := s.r.Client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HDel(ctx, s.attempts, id)
		p.XAck(ctx, s.key, s.group, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack %s: %w", s.name, Translate(err))
	}
	return nil
}

// Fail records a failed attempt and returns how many there have been. The
// job stays pending and is reclaimed later.
func (s *Stream) Fail(ctx context.Context, id string) (int64, error) {
	n, err := s.r.Client.HIncrBy(ctx, s.attempts, id, 1).Result()
	if err != nil {
		return 0, fmt.Errorf("fail %s: %w", s.name, Translate(err))
	}
	return n, nil
}

// DeadLetter moves a job that keeps failing to the dead-letter stream,
// where staff can see it, and acknowledges it.
func (s *Stream) DeadLetter(ctx context.Context, d model.Delivery, reason string) error {
	_, err := s.r.Client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.XAdd(ctx, &goredis.XAddArgs{Stream: s.dead, MaxLen: 10_000, Approx: true,
			Values: []string{"p", d.Payload, "id", d.ID, "reason", reason, "at", time.Now().UTC().Format(time.RFC3339)}})
		p.XAck(ctx, s.key, s.group, d.ID)
		p.HDel(ctx, s.attempts, d.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dead-letter %s: %w", s.name, Translate(err))
	}
	return nil
}

// DeadLetters lists the newest dead letters.
func (s *Stream) DeadLetters(ctx context.Context, count int) ([]DeadLetter, error) {
	msgs, err := s.r.Client.XRevRangeN(ctx, s.dead, "+", "-", int64(count)).Result()
	if err != nil {
		return nil, fmt.Errorf("dead letters %s: %w", s.name, Translate(err))
	}
	out := make([]DeadLetter, len(msgs))
	for i, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		at, _ := time.Parse(time.RFC3339, str("at"))
		out[i] = DeadLetter{Stream: s.name, Payload: str("p"), Reason: str("reason"), At: at}
	}
	return out, nil
}

// DeadLetter is a job that kept failing.
type DeadLetter struct {
	Stream  string
	Payload string
	Reason  string
	At      time.Time
}
