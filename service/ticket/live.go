package ticket

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// EventFeed is the shared log of live events every instance reads (see
// store/redis.EventLog).
type EventFeed interface {
	Publish(ctx context.Context, typ string, data []byte) error
	Read(ctx context.Context, after string, count int, block time.Duration) ([]model.LiveEvent, bool, error)
	Last(ctx context.Context) (string, error)
}

// Live is the staff's live view of the tickets: the relay publishes what
// each committed change did to the shared feed, and one reader per
// instance (Run) hands every event to the consoles connected to it
// (Subscribe), whichever instance made the change.
type Live struct {
	feed   EventFeed
	users  UserGetter
	logger *slog.Logger

	mu   sync.Mutex
	subs map[*LiveSubscription]struct{}
	// profiles remembers, for directoryIDTTL, the directory ids of the
	// users events named: an assignee's are read once a minute, not once
	// an event.
	profiles map[string]profileIDs
}

// directoryIDTTL is how long Live trusts a user's directory ids: they
// change only when a profile is bound to another account.
const directoryIDTTL = time.Minute

// maxProfiles bounds Live.profiles (the city's assignees fit many times).
const maxProfiles = 10000

type profileIDs struct {
	worker, member string
	at             time.Time
}

// NewLive returns the live view; users name assignees by their people
// directory id (nil: by account id).
func NewLive(feed EventFeed, users UserGetter, logger *slog.Logger) *Live {
	return &Live{feed: feed, users: users, logger: logger, subs: map[*LiveSubscription]struct{}{}, profiles: map[string]profileIDs{}}
}

// directoryID is the people directory's id of the user holding a ticket in
// role — what the staff's lists and the candidates call them —, or the
// account id when the account cannot be read.
func (l *Live) directoryID(ctx context.Context, userID string, role model.Role) string {
	if userID == "" || l.users == nil {
		return userID
	}
	now := time.Now()
	l.mu.Lock()
	ids, ok := l.profiles[userID]
	l.mu.Unlock()
	if !ok || now.Sub(ids.at) >= directoryIDTTL {
		u, err := l.users.Get(ctx, userID)
		if err != nil {
			return userID
		}
		ids = profileIDs{worker: u.WorkerID, member: u.PartyMemberID, at: now}
		l.mu.Lock()
		if len(l.profiles) >= maxProfiles {
			clear(l.profiles)
		}
		l.profiles[userID] = ids
		l.mu.Unlock()
	}
	switch {
	case role == model.RolePartyMember && ids.member != "":
		return ids.member
	case role != model.RolePartyMember && ids.worker != "":
		return ids.worker
	}
	return userID
}

// liveTicket is the data of ticket.created, ticket.changed and
// ticket.overdue (docs/openapi.yaml, LiveTicket): assignee_id is the
// people directory's id, as the staff's lists give it.
type liveTicket struct {
	ID         string `json:"id"`
	CaseNo     string `json:"case_no"`
	Status     string `json:"status"`
	Held       bool   `json:"held"`
	Overdue    bool   `json:"overdue"`
	AssigneeID string `json:"assignee_id"`
}

// Changed publishes what a committed change did: ticket.created for a new
// ticket, ticket.overdue when it went past its deadline, and ticket.changed
// for every change. It is the relay's hook; a change relayed twice is
// published twice, which a console takes as one (it shows the state).
func (l *Live) Changed(ctx context.Context, t *model.Ticket, events []model.Event) error {
	if len(events) == 0 {
		return nil
	}
	data, err := json.Marshal(liveTicket{ID: t.ID, CaseNo: t.CaseNo, Status: string(t.Status), Held: t.Held,
		Overdue: t.OpenOverdue(), AssigneeID: l.directoryID(ctx, t.AssigneeID, t.AssigneeRole)})
	if err != nil {
		return err
	}
	for _, e := range events {
		switch e.Type {
		case model.EventReported:
			if err := l.feed.Publish(ctx, model.LiveTicketCreated, data); err != nil {
				return err
			}
		case model.EventEscalated:
			if err := l.feed.Publish(ctx, model.LiveTicketOverdue, data); err != nil {
				return err
			}
		}
	}
	return l.feed.Publish(ctx, model.LiveTicketChanged, data)
}

// LiveSubscription is one console's share of the live feed.
type LiveSubscription struct {
	// C delivers the events as they come; it is closed when the console
	// fell too far behind (it must start afresh) or Close was called.
	C    chan model.LiveEvent
	live *Live
	once sync.Once
}

// liveBuffer is how many events a console may fall behind before it is
// told to start afresh.
const liveBuffer = 256

// Subscribe connects a console. With lastEventID (a reconnect) it first
// returns the events after it that the feed still holds; reset says the
// feed no longer holds all of them, and the console must reload. Events
// that arrive meanwhile may be in both the backlog and C: skip those not
// after the last one shown.
func (l *Live) Subscribe(ctx context.Context, lastEventID string) (sub *LiveSubscription, backlog []model.LiveEvent, reset bool, err error) {
	sub = &LiveSubscription{C: make(chan model.LiveEvent, liveBuffer), live: l}
	l.mu.Lock()
	l.subs[sub] = struct{}{}
	l.mu.Unlock()
	if lastEventID == "" {
		return sub, nil, false, nil
	}
	for len(backlog) < 10*liveBuffer {
		evs, complete, err := l.feed.Read(ctx, lastEventID, liveBuffer, 0)
		if err != nil {
			sub.Close()
			return nil, nil, false, err
		}
		if !complete {
			return sub, nil, true, nil
		}
		if len(evs) == 0 {
			return sub, backlog, false, nil
		}
		backlog = append(backlog, evs...)
		lastEventID = evs[len(evs)-1].ID
	}
	return sub, nil, true, nil // too far behind: a reload is quicker
}

// Close disconnects the console.
func (s *LiveSubscription) Close() {
	s.once.Do(func() {
		s.live.mu.Lock()
		delete(s.live.subs, s)
		s.live.mu.Unlock()
		close(s.C)
	})
}

// Run reads the feed from now on and hands each event to every console
// connected to this instance, until ctx ends.
func (l *Live) Run(ctx context.Context) {
	last := ""
	for ctx.Err() == nil {
		if last == "" {
			id, err := l.feed.Last(ctx)
			if err != nil {
				l.logger.WarnContext(ctx, "live events: cannot read the feed", "error", err.Error())
				sleep(ctx, time.Second)
				continue
			}
			last = id
		}
		evs, complete, err := l.feed.Read(ctx, last, 100, 5*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				l.logger.WarnContext(ctx, "live events: cannot read the feed", "error", err.Error())
				sleep(ctx, time.Second)
			}
			continue
		}
		if !complete {
			l.resetAll() // the feed was trimmed past us (Redis lost it): start afresh
		}
		for _, e := range evs {
			l.broadcast(e)
			last = e.ID
		}
	}
	l.resetAll()
}

func (l *Live) broadcast(e model.LiveEvent) {
	l.mu.Lock()
	var behind []*LiveSubscription
	for s := range l.subs {
		select {
		case s.C <- e:
		default:
			behind = append(behind, s)
		}
	}
	l.mu.Unlock()
	for _, s := range behind {
		s.Close() // the console reads a closed channel as "start afresh"
	}
}

func (l *Live) resetAll() {
	l.mu.Lock()
	subs := make([]*LiveSubscription, 0, len(l.subs))
	for s := range l.subs {
		subs = append(subs, s)
	}
	l.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
