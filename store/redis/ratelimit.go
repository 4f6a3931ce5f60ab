package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RateLimiter counts requests in fixed windows in Redis, so that a limit
// holds across every server instance.
type RateLimiter struct {
	r *Redis
}

// NewRateLimiter returns a limiter over r.
func NewRateLimiter(r *Redis) *RateLimiter { return &RateLimiter{r: r} }

// The window's counter and its expiry are set in one script so that a crash
// between them cannot leave a counter that never expires.
var fixedWindow = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`)

// Allow counts one request against key and reports whether it is within
// limit for the current window; when it is not, retryAfter says when the
// window ends.
func (l *RateLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	res, err := fixedWindow.Run(ctx, l.r.Client, []string{l.r.Key("rl", key)}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", Translate(err))
	}
	n, ttl := res[0], time.Duration(res[1])*time.Millisecond
	if n > int64(limit) {
		return false, ttl, nil
	}
	return true, 0, nil
}
