package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Locks are short Redis leases: an idempotent request in flight, a photo
// claimed by a report being submitted.
type Locks struct {
	r *Redis
}

// NewLocks returns the lock store over r.
func NewLocks(r *Redis) *Locks { return &Locks{r: r} }

// Acquire sets key to owner for ttl if nobody holds it, or if owner already
// does, and reports whether owner holds it now. It returns the holder.
func (l *Locks) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, string, error) {
	k := l.r.Key("lock", key)
	ok, err := l.r.Client.SetNX(ctx, k, owner, ttl).Result()
	if err != nil {
		return false, "", fmt.Errorf("lock: %w", Translate(err))
	}
	if ok {
		return true, owner, nil
	}
	holder, err := l.r.Client.Get(ctx, k).Result()
	if err == goredis.Nil {
		return l.Acquire(ctx, key, owner, ttl) // released meanwhile
	}
	if err != nil {
		return false, "", fmt.Errorf("lock: %w", Translate(err))
	}
	return holder == owner, holder, nil
}

// Take gives key to owner whoever holds it (a holder known to be gone).
func (l *Locks) Take(ctx context.Context, key, owner string, ttl time.Duration) error {
	if err := l.r.Client.Set(ctx, l.r.Key("lock", key), owner, ttl).Err(); err != nil {
		return fmt.Errorf("lock: %w", Translate(err))
	}
	return nil
}

var renewIfOwner = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)

// Renew extends key's lease to ttl from now if owner still holds it, and
// reports whether it does.
func (l *Locks) Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	n, err := renewIfOwner.Run(ctx, l.r.Client, []string{l.r.Key("lock", key)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lock: %w", Translate(err))
	}
	return n == 1, nil
}

var releaseIfOwner = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Release frees key if owner still holds it.
func (l *Locks) Release(ctx context.Context, key, owner string) error {
	if err := releaseIfOwner.Run(ctx, l.r.Client, []string{l.r.Key("lock", key)}, owner).Err(); err != nil {
		return fmt.Errorf("unlock: %w", Translate(err))
	}
	return nil
}
