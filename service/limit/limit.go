// Package limit turns rate limits — counted across instances in Redis —
// into the API's answer: a rate_limited error with a Chinese message that
// says what the limit is and when to try again (Retry-After).
package limit

import (
	"context"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Limiter counts requests against a key in a window, across instances.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Check counts one request against key (at most n a window) and answers
// rate_limited with msg, and the seconds to wait, when it is over. Errors:
// rate_limited, and the limiter's (unavailable).
func Check(ctx context.Context, l Limiter, key string, n int, window time.Duration, msg string) error {
	ok, retry, err := l.Allow(ctx, key, n, window)
	if err != nil {
		return err
	}
	if !ok {
		secs := max(int((retry+time.Second-1)/time.Second), 1)
		return &model.Error{Code: model.CodeRateLimited, Message: msg, RetryAfterSeconds: secs}
	}
	return nil
}
