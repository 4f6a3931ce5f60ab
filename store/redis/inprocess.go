package redis

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// InProcess is the embedded mode's Redis: an in-memory server inside this
// process on a loopback port. Everything Redis holds is rebuilt from the
// store at start-up (see service.Reconciler and service.Relay), so losing it
// with the process loses nothing.
type InProcess struct {
	m *miniredis.Miniredis
}

// StartInProcess starts an in-process Redis on a free loopback port.
func StartInProcess() (*InProcess, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	return &InProcess{m: m}, nil
}

// URL is the redis:// URL to connect to it.
func (p *InProcess) URL() string { return "redis://" + p.m.Addr() }

// Close stops it.
func (p *InProcess) Close() { p.m.Close() }
