// Package redis keeps what can be rebuilt from the record in Redis: the work
// queues (streams), timers, locks and leases, rate-limit windows, liveness
// marks, wake-up signals and the shared WeChat access token. A Redis that
// loses its data loses nothing the store cannot rebuild.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/model"
)

// Redis is a connected Redis (a single server or a cluster) and the key
// prefix every key of this deployment carries, so that tests and several
// deployments can share one server.
type Redis struct {
	Client goredis.UniversalClient
	Prefix string
}

// OpenRedis connects to rawURL. go-redis's cluster URL form — extra nodes as
// repeated addr= query parameters, redis://h1:7000?addr=h2:7000&addr=h3:7000 —
// selects a cluster client; any other URL a single-server client.
func OpenRedis(ctx context.Context, rawURL, prefix string) (*Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	var client goredis.UniversalClient
	if u.Query().Has("addr") {
		opts, err := goredis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("parse redis cluster url: %w", err)
		}
		if !u.Query().Has("pool_size") {
			opts.PoolSize = poolSize()
		}
		client = goredis.NewClusterClient(opts)
	} else {
		opts, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("parse redis url: %w", err)
		}
		if !u.Query().Has("pool_size") {
			opts.PoolSize = poolSize()
		}
		client = goredis.NewClient(opts)
	}
	r := &Redis{Client: client, Prefix: prefix}
	if err := r.Ping(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("connect redis: %w", err)
	}
	return r, nil
}

// poolSize is go-redis's default (10 per CPU) plus room for the queue
// consumers' blocking reads, each of which holds a connection for up to a
// second: without it two dozen consumers starve every other Redis call of
// connections. A pool_size in the URL wins.
func poolSize() int { return 10*runtime.GOMAXPROCS(0) + 64 }

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.Client.Ping(ctx).Err(); err != nil {
		return model.Wrap(model.CodeUnavailable, err, "Redis 暂时不可用，请稍后重试")
	}
	return nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.Client.Close() }

// Key joins the deployment prefix and parts. A part in braces is a Redis
// Cluster hash tag: keys that one script touches together share one.
func (r *Redis) Key(parts ...string) string {
	k := r.Prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// Translate turns a go-redis error into a model error at the store's edge.
func Translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return model.Wrap(model.CodeNotFound, err, "记录不存在")
	}
	return model.Wrap(model.CodeUnavailable, err, "Redis 暂时不可用，请稍后重试")
}
