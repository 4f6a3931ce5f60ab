package mongodb

import (
	"log/slog"
	"time"

	"github.com/citizen-city/chengguantong/store"
	"github.com/citizen-city/chengguantong/store/redis"
)

// Options are what an instance's view of the store is made with.
type Options struct {
	// Instance names this server process: the owner of the handoffs it
	// records and the holder of the statistics lease.
	Instance string
	Now      func() time.Time
	// Lease keeps one statistics applier at a time (store/redis Locks).
	Lease Lease
	// Wakeups carry commits to the applier wherever it runs (store/redis
	// Signals); nil: only this instance's commits wake it.
	Wakeups Wakeups
	// Cache holds the roll-ups' read cache generations (nil: no cache).
	Cache  *redis.Redis
	Logger *slog.Logger
}

// Engine is the store as the services use it (the contract of package
// store), as instance o.Instance sees it, and its statistics — whose
// applier the server runs (Stats.Run) in the background.
func (m *Mongo) Engine(o Options) (store.Engine, *Stats) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	tickets := NewTickets(m, o.Instance, now)
	photos := NewPhotos(m, now)
	stats := NewStats(m, StatsDeps{Tickets: tickets, Lease: o.Lease, Wakeups: o.Wakeups, Cache: o.Cache,
		Owner: o.Instance, Now: now, Logger: o.Logger})
	return store.Engine{
		Name:          "mongodb",
		Tickets:       tickets,
		Stats:         stats,
		Users:         NewUsers(m, now),
		Invites:       NewInvites(m, now),
		People:        NewPeople(m, now),
		Categories:    NewCategories(m, now),
		Grids:         NewGrids(m, now),
		Photos:        photos,
		Activities:    NewActivities(m, now),
		APIKeys:       NewAPIKeys(m),
		Submitters:    NewOpen311Submitters(m),
		Notifications: NewNotifications(m, now),
		Subscriptions: NewSubscriptions(m, now),
		Addresses:     NewAddresses(m),
		Layers:        NewLayers(m, now),
		Staff:         NewStaff(m, now),
		Trail:         NewTrail(m, now),
		Privacy:       NewPrivacy(m, tickets, now),
		Redaction:     NewRedaction(photos),
	}, stats
}
