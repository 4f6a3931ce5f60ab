package redis

import (
	"context"
	"time"

	"github.com/silenceper/wechat/v2/cache"
)

// WeChatCache is silenceper/wechat's cache on go-redis v9: every instance
// reads the one stable access token kept in Redis instead of fetching its own.
type WeChatCache struct {
	r *Redis
}

var _ cache.ContextCache = (*WeChatCache)(nil)

// NewWeChatCache returns the cache over r.
func NewWeChatCache(r *Redis) *WeChatCache { return &WeChatCache{r: r} }

const wechatCacheTimeout = 3 * time.Second

func (c *WeChatCache) key(k string) string { return c.r.Key("wechat", k) }

// Get returns the cached string, or nil when absent or Redis fails (the
// library then asks WeChat, which is the right fallback).
func (c *WeChatCache) Get(key string) interface{} {
	ctx, cancel := context.WithTimeout(context.Background(), wechatCacheTimeout)
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext is Get with a context.
func (c *WeChatCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.r.Client.Get(ctx, c.key(key)).Result()
	if err != nil {
		return nil
	}
	return v
}

// Set stores val (a string) for timeout.
func (c *WeChatCache) Set(key string, val interface{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wechatCacheTimeout)
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext is Set with a context.
func (c *WeChatCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	return Translate(c.r.Client.Set(ctx, c.key(key), val, timeout).Err())
}

// IsExist reports whether key is cached.
func (c *WeChatCache) IsExist(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), wechatCacheTimeout)
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext is IsExist with a context.
func (c *WeChatCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.r.Client.Exists(ctx, c.key(key)).Result()
	return err == nil && n > 0
}

// Delete removes key.
func (c *WeChatCache) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), wechatCacheTimeout)
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext is Delete with a context.
func (c *WeChatCache) DeleteContext(ctx context.Context, key string) error {
	return Translate(c.r.Client.Del(ctx, c.key(key)).Err())
}
