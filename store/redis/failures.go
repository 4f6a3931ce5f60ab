package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Failures counts failed attempts (a staff login's wrong passwords) per key
// in a window, across instances: how many, and when the last one was. The
// window starts at the first failure; a success clears the key.
type Failures struct{ r *Redis }

// NewFailures returns the failure counter over r.
func NewFailures(r *Redis) *Failures { return &Failures{r: r} }

// The count, the last failure's time and the window's expiry, set in one
// script so that a crash between them leaves no counter that never expires.
var addFailure = goredis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

// Add counts one failure against key at now, in a window of window, and
// returns how many there are. Errors: unavailable.
func (f *Failures) Add(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	n, err := addFailure.Run(ctx, f.r.Client, []string{f.r.Key("fail", key)}, window.Milliseconds(), now.UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("count failure: %w", Translate(err))
	}
	return n, nil
}

// Count returns how many failures key has in its window, when the last one
// was, and how long the window has left (zero values if none). Errors:
// unavailable.
func (f *Failures) Count(ctx context.Context, key string) (n int, last time.Time, left time.Duration, err error) {
	k := f.r.Key("fail", key)
	pipe := f.r.Client.Pipeline()
	vals := pipe.HMGet(ctx, k, "n", "last")
	ttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		return 0, time.Time{}, 0, fmt.Errorf("read failures: %w", Translate(err))
	}
	v := vals.Val()
	if len(v) != 2 || v[0] == nil {
		return 0, time.Time{}, 0, nil
	}
	var ms int64
	_, _ = fmt.Sscan(fmt.Sprint(v[0]), &n)
	if v[1] != nil {
		_, _ = fmt.Sscan(fmt.Sprint(v[1]), &ms)
	}
	return n, time.UnixMilli(ms), max(ttl.Val(), 0), nil
}

// Clear drops key's failures. Errors: unavailable.
func (f *Failures) Clear(ctx context.Context, key string) error {
	if err := f.r.Client.Del(ctx, f.r.Key("fail", key)).Err(); err != nil {
		return fmt.Errorf("clear failures: %w", Translate(err))
	}
	return nil
}
