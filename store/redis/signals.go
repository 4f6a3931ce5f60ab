package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Signals are wake-ups between instances: "a transition was committed"
// (the statistics applier), "the grids changed" (every instance's grid
// index). Notify wakes this instance's waiters at once and the others'
// through one Redis PUBLISH; Run holds the one subscription per instance
// that receives them. A signal carries no data and may be lost (a dropped
// connection, Redis down): the waiters also look by themselves, rarely,
// and every (re)subscription wakes every waiter, since messages may have
// been missed while it was down. So the background jobs wait instead of
// polling, and send nothing while nothing happens.
type Signals struct {
	r       *Redis
	channel string
	self    string

	mu    sync.Mutex
	chans map[string]chan struct{}
}

// NewSignals returns the signals of r's deployment (its key prefix).
func NewSignals(r *Redis) *Signals {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Signals{r: r, channel: r.Key("wake"), self: hex.EncodeToString(b), chans: map[string]chan struct{}{}}
}

// C returns the channel that receives name's signals. A signal sent while
// nobody waits is kept (one at most), so none falls between two waits.
func (s *Signals) C(name string) <-chan struct{} { return s.ch(name) }

func (s *Signals) ch(name string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chans[name]
	if !ok {
		c = make(chan struct{}, 1)
		s.chans[name] = c
	}
	return c
}

func (s *Signals) local(name string) {
	select {
	case s.ch(name) <- struct{}{}:
	default:
	}
}

func (s *Signals) all() {
	s.mu.Lock()
	names := make([]string, 0, len(s.chans))
	for n := range s.chans {
		names = append(names, n)
	}
	s.mu.Unlock()
	for _, n := range names {
		s.local(n)
	}
}

// Notify wakes name's waiters here and on every other instance. Its error
// (Redis unreachable) is for logging only: the others then find the work
// on their own, later.
func (s *Signals) Notify(ctx context.Context, name string) error {
	s.local(name)
	if err := s.r.Client.Publish(ctx, s.channel, name+"|"+s.self).Err(); err != nil {
		return Translate(err)
	}
	return nil
}

// signalsCheck is how long the subscription may stay silent before a PING
// checks that its connection is alive.
const signalsCheck = 30 * time.Second

// Run receives the other instances' signals until ctx is done.
func (s *Signals) Run(ctx context.Context) {
	ps := s.r.Client.Subscribe(ctx, s.channel)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	defer ps.Close()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, signalsCheck)
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				s.all() // anything sent while not subscribed is unknown
			}
			continue
		case *goredis.Message:
			name, from, _ := strings.Cut(m.Payload, "|")
			if from != s.self {
				s.local(name)
			}
			continue
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			_ = ps.Ping(ctx) // an error reconnects at the next receive
			continue
		}
		select { // reconnects at the next receive
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
