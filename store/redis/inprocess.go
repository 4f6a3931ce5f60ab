package redis

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// InProcess is a Redis inside this process (miniredis), on a free loopback
// port: the embedded single-machine mode's, whose Redis state is rebuilt
// from the store at start-up, so losing it on restart loses nothing.
type InProcess struct {
	// URL is the redis:// URL to connect to it.
	URL string
	m   *miniredis.Miniredis
}

// StartInProcess starts an in-process Redis. Errors: the listener's.
func StartInProcess() (*InProcess, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	return &InProcess{URL: "redis://" + m.Addr(), m: m}, nil
}

// Close stops it.
func (r *InProcess) Close() { r.m.Close() }
