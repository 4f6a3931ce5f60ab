package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/redis"
)

func TestRateLimiterHoldsAcrossClients(t *testing.T) {
	t.Parallel()
	r := testenv.Redis(t)
	// A second client with the same prefix stands for a second instance.
	r2, err := redis.OpenRedis(context.Background(), testenv.RedisURL(t), r.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	a, b := redis.NewRateLimiter(r), redis.NewRateLimiter(r2)
	ctx := context.Background()
	for i := range 4 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ok, _, err := l.Allow(ctx, "k", 4, time.Minute)
		if err != nil || !ok {
			t.Fatalf("request %d refused: %v", i, err)
		}
	}
	ok, retry, err := b.Allow(ctx, "k", 4, time.Minute)
	if err != nil || ok {
		t.Fatalf("fifth request allowed (%v)", err)
	}
	if retry <= 0 || retry > time.Minute {
		t.Fatalf("retryAfter = %v, want within the window", retry)
	}
	if ok, _, _ := a.Allow(ctx, "other", 4, time.Minute); !ok {
		t.Fatal("another key is limited too")
	}
}

func TestWeChatCache(t *testing.T) {
	t.Parallel()
	c := redis.NewWeChatCache(testenv.Redis(t))
	if c.Get("k") != nil || c.IsExist("k") {
		t.Fatal("empty cache has k")
	}
	if err := c.Set("k", "token", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get("k").(string); v != "token" || !c.IsExist("k") {
		t.Fatalf("Get = %v", c.Get("k"))
	}
	if err := c.Delete("k"); err != nil || c.IsExist("k") {
		t.Fatalf("Delete: %v", err)
	}
}

func TestRedisPoolHasRoomForBlockingConsumers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := redis.OpenRedis(ctx, testenv.RedisURL(t), "p:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Every queue consumer holds a connection in XREADGROUP BLOCK; the pool
	// must leave room for all of them and the requests besides.
	if c, ok := r.Client.(*goredis.Client); !ok || c.Options().PoolSize < 64 {
		t.Fatalf("pool size %d; want room for the blocking consumers", c.Options().PoolSize)
	}
	sep := "?"
	if strings.Contains(testenv.RedisURL(t), "?") {
		sep = "&"
	}
	r2, err := redis.OpenRedis(ctx, testenv.RedisURL(t)+sep+"pool_size=5", "p:")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if c := r2.Client.(*goredis.Client); c.Options().PoolSize != 5 {
		t.Fatalf("pool_size=5 in the URL gave %d", c.Options().PoolSize)
	}
}
