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

// Liveness is an instance's short-lived mark in Redis, `alive:<instance>`,
// set again every few seconds while it runs (one SET with EX per instance,
// not per consumer). Its queue consumers are named after the instance
// (Consumer), so when the mark has expired — the instance was killed, or
// lost Redis for longer than the mark lives — the other instances take
// over its pending jobs at once (Stream.TakeOver) instead of waiting for
// them to go idle.
type Liveness struct {
	r        *Redis
	instance string
	ttl      time.Duration
}

// consumerSep separates the instance from the rest of a consumer's name.
const consumerSep = "|"

// NewLiveness returns the mark of instance, which lives ttl after each Beat.
// The instance name must not contain "|".
func NewLiveness(r *Redis, instance string, ttl time.Duration) *Liveness {
	return &Liveness{r: r, instance: instance, ttl: ttl}
}

// Consumer names one of the instance's queue consumers.
func (l *Liveness) Consumer(name string) string { return l.instance + consumerSep + name }

// Beat sets the mark for another ttl.
func (l *Liveness) Beat(ctx context.Context) error {
	if err := l.r.Client.Set(ctx, aliveKey(l.r, l.instance), "1", l.ttl).Err(); err != nil {
		return fmt.Errorf("liveness mark: %w", Translate(err))
	}
	return nil
}

// Stop removes the mark, so that what the instance leaves pending is taken
// over at once (a graceful shutdown).
func (l *Liveness) Stop(ctx context.Context) error {
	if err := l.r.Client.Del(ctx, aliveKey(l.r, l.instance)).Err(); err != nil {
		return fmt.Errorf("liveness mark: %w", Translate(err))
	}
	return nil
}

// Alive reports, of each instance named, whether its mark is set: it runs,
// or died less than the mark's lifetime ago. One round trip (a pipeline of
// EXISTS, which a Redis Cluster routes key by key).
func (l *Liveness) Alive(ctx context.Context, instances []string) (map[string]bool, error) {
	out := make(map[string]bool, len(instances))
	if len(instances) == 0 {
		return out, nil
	}
	pipe := l.r.Client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(instances))
	for i, inst := range instances {
		cmds[i] = pipe.Exists(ctx, aliveKey(l.r, inst))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("liveness: %w", Translate(err))
	}
	for i, inst := range instances {
		out[inst] = cmds[i].Val() > 0
	}
	return out, nil
}

// instancesKey is the registry of instances that have run: each registers
// at start (Register), and the others find it there once its mark is gone
// (Dead), to take over what it left, then remove it (Forget).
func instancesKey(r *Redis) string { return r.Key("instances") }

// Register records this instance in the registry and sets its mark.
func (l *Liveness) Register(ctx context.Context) error {
	pipe := l.r.Client.Pipeline()
	pipe.HSet(ctx, instancesKey(l.r), l.instance, time.Now().UnixMilli())
	pipe.Set(ctx, aliveKey(l.r, l.instance), "1", l.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("register instance: %w", Translate(err))
	}
	return nil
}

// Dead lists the registered instances whose mark is gone: killed, stopped,
// or cut off from Redis for longer than the mark lives. At rest it costs one
// HKEYS (and one EXISTS per other instance). An instance that finds itself
// missing from the registry (Redis lost its data) registers again.
func (l *Liveness) Dead(ctx context.Context) ([]string, error) {
	names, err := l.r.Client.HKeys(ctx, instancesKey(l.r)).Result()
	if err != nil {
		return nil, fmt.Errorf("instances: %w", Translate(err))
	}
	var others []string
	self := false
	for _, n := range names {
		if n == l.instance {
			self = true
		} else {
			others = append(others, n)
		}
	}
	if !self {
		if err := l.Register(ctx); err != nil {
			return nil, err
		}
	}
	alive, err := l.Alive(ctx, others)
	if err != nil {
		return nil, err
	}
	var dead []string
	for _, n := range others {
		if !alive[n] {
			dead = append(dead, n)
		}
	}
	return dead, nil
}

// Forget removes instances from the registry once what they left has been
// taken over.
func (l *Liveness) Forget(ctx context.Context, instances []string) error {
	if len(instances) == 0 {
		return nil
	}
	if err := l.r.Client.HDel(ctx, instancesKey(l.r), instances...).Err(); err != nil {
		return fmt.Errorf("instances: %w", Translate(err))
	}
	return nil
}

// Instance is the name this mark is set for.
func (l *Liveness) Instance() string { return l.instance }

func aliveKey(r *Redis, instance string) string { return r.Key("alive", instance) }

// instanceOf is the instance part of a consumer name, "" for a name that
// carries none.
func instanceOf(consumer string) string {
	inst, _, ok := strings.Cut(consumer, consumerSep)
	if !ok {
		return ""
	}
	return inst
}

// takeOverIdle is how long a job must have been left alone before it is
// taken over: two instances taking over the same dead consumer at once
// claim each job once, since a claim resets its idle time.
const takeOverIdle = time.Second

// TakeOver claims for consumer up to count pending jobs of consumers whose
// instance's liveness mark has expired. At rest it is one XPENDING (the
// summary): nothing is pending. Consumers named without an instance are
// left to the idle-based Reclaim.
func (s *Stream) TakeOver(ctx context.Context, consumer string, count int) ([]model.Delivery, error) {
	sum, err := s.r.Client.XPending(ctx, s.key, s.group).Result()
	if err != nil && (streamGone(err) || errors.Is(err, goredis.Nil)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending %s: %w", s.name, Translate(err))
	}
	if sum.Count == 0 {
		return nil, nil
	}
	self := instanceOf(consumer)
	alive := map[string]bool{}
	var out []model.Delivery
	for name, n := range sum.Consumers {
		inst := instanceOf(name)
		if n == 0 || inst == "" || inst == self || len(out) >= count {
			continue
		}
		live, seen := alive[inst]
		if !seen {
			k, err := s.r.Client.Exists(ctx, aliveKey(s.r, inst)).Result()
			if err != nil {
				return out, fmt.Errorf("liveness of %s: %w", inst, Translate(err))
			}
			live = k > 0
			alive[inst] = live
		}
		if live {
			continue
		}
		pending, err := s.r.Client.XPendingExt(ctx, &goredis.XPendingExtArgs{
			Stream: s.key, Group: s.group, Start: "-", End: "+", Count: int64(count - len(out)), Consumer: name, Idle: takeOverIdle,
		}).Result()
		if err != nil {
			return out, fmt.Errorf("pending %s of %s: %w", s.name, name, Translate(err))
		}
		if len(pending) == 0 {
			continue
		}
		ids := make([]string, len(pending))
		for i, p := range pending {
			ids[i] = p.ID
		}
		msgs, err := s.r.Client.XClaim(ctx, &goredis.XClaimArgs{
			Stream: s.key, Group: s.group, Consumer: consumer, MinIdle: takeOverIdle, Messages: ids,
		}).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return out, fmt.Errorf("take over %s from %s: %w", s.name, name, Translate(err))
		}
		out = append(out, deliveries(msgs)...)
	}
	return out, nil
}

// PruneConsumers removes from the group the consumers of instances no
// longer alive that hold no pending job and have been idle for longer than
// idle, so that restarts do not pile up consumers. It returns how many.
func (s *Stream) PruneConsumers(ctx context.Context, idle time.Duration) (int, error) {
	cs, err := s.r.Client.XInfoConsumers(ctx, s.key, s.group).Result()
	if err != nil && streamGone(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("consumers of %s: %w", s.name, Translate(err))
	}
	n := 0
	for _, c := range cs {
		inst := instanceOf(c.Name)
		if c.Pending > 0 || c.Idle < idle || inst == "" {
			continue
		}
		if k, err := s.r.Client.Exists(ctx, aliveKey(s.r, inst)).Result(); err != nil || k > 0 {
			continue
		}
		if err := s.r.Client.XGroupDelConsumer(ctx, s.key, s.group, c.Name).Err(); err != nil {
			return n, fmt.Errorf("remove consumer of %s: %w", s.name, Translate(err))
		}
		n++
	}
	return n, nil
}
