package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/redis"
)

func TestLeaseRenewsOnlyForItsHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := testenv.Redis(t)
	locks := redis.NewLocks(r)
	if ok, _, err := locks.Acquire(ctx, "lease", "a", time.Second); err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if ok, err := locks.Renew(ctx, "lease", "b", time.Minute); err != nil || ok {
		t.Fatalf("b renews a's lease: %v %v", ok, err)
	}
	if ok, err := locks.Renew(ctx, "lease", "a", time.Minute); err != nil || !ok {
		t.Fatalf("a renews: %v %v", ok, err)
	}
	if ttl := r.Client.PTTL(ctx, r.Key("lock", "lease")).Val(); ttl < 30*time.Second {
		t.Fatalf("ttl %s after renewing for a minute", ttl)
	}
	if err := locks.Release(ctx, "lease", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, err := locks.Renew(ctx, "lease", "a", time.Minute); err != nil || ok {
		t.Fatalf("renews a released lease: %v %v", ok, err)
	}
}
