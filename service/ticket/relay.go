package ticket

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Queue is a work queue as the ticket flows add to it (the screening and
// dispatch jobs; see queue.Worker for the side that handles them).
type Queue interface {
	Add(ctx context.Context, payload string) error
}

// HandoffStore is the store's record of committed ticket changes whose
// after-commit work may still be pending (model.Handoff): every Insert and
// Commit records one in the same atomic write as the change.
type HandoffStore interface {
	Get(ctx context.Context, id string) (*model.Ticket, error)
	Unrelayed(ctx context.Context, limit int) ([]model.Handoff, error)
	Relayed(ctx context.Context, ticketID string, version int64) error
}

// Liveness tells which instances are running (their liveness mark is set).
type Liveness interface {
	Alive(ctx context.Context, instances []string) (map[string]bool, error)
}

// LiveEvents publishes what changed to the staff's live view (nil: none).
type LiveEvents interface {
	Changed(ctx context.Context, t *model.Ticket, events []model.Event) error
}

// RelayDeps are the collaborators of Relay.
type RelayDeps struct {
	Tickets HandoffStore
	// Screening and Dispatch are the work queues a new report and an
	// unrouted ticket go to.
	Screening, Dispatch Queue
	Timers              TimerStore
	Notify              Notifications
	Events              LiveEvents
	Liveness            Liveness
	// Instance is this process's name, as the store records it in the
	// handoffs it commits.
	Instance string
	// FeedbackWindow is how long a resolved ticket waits for its rating
	// (the close timer).
	FeedbackWindow time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// Relay hands what a committed ticket change must do next to Redis: the
// screening job of a new report, the dispatch job of an unrouted ticket,
// the ticket's timers, the subscribe messages of its new events and the
// staff's live events. The store records a handoff with every change
// (docs/consistency.md); the committing request relays it at once (After)
// and clears it, and should the process die in between, another instance —
// or this one after a restart — relays it within seconds (Sweep). Every
// piece of the work is derived from the committed state and idempotent, so
// relaying twice does no harm.
type Relay struct {
	tickets   HandoffStore
	screening Queue
	dispatch  Queue
	timers    TimerStore
	notify    Notifications
	events    LiveEvents
	liveness  Liveness
	instance  string
	window    time.Duration
	now       func() time.Time
	logger    *slog.Logger
	// failed counts this instance's relays that failed since the last
	// sweep: their handoffs wait for it.
	failed atomic.Int64
}

// NewRelay returns the relay.
func NewRelay(d RelayDeps) *Relay {
	return &Relay{tickets: d.Tickets, screening: d.Screening, dispatch: d.Dispatch, timers: d.Timers, notify: d.Notify,
		events: d.Events, liveness: d.Liveness, instance: d.Instance, window: d.FeedbackWindow, now: d.Now, logger: d.Logger}
}

// After relays the work of a change just committed — t as committed, and
// its timeline's events from index from on — and clears the handoff. A
// failure is logged and leaves the handoff for Sweep.
func (r *Relay) After(ctx context.Context, t *model.Ticket, from int) {
	if err := r.relay(ctx, t, from); err != nil {
		r.failed.Add(1)
		r.logger.WarnContext(ctx, "after-commit work not relayed; the sweep will", "ticket", t.ID, "error", err.Error())
		return
	}
	if err := r.tickets.Relayed(ctx, t.ID, t.Version); err != nil {
		r.failed.Add(1)
		r.logger.WarnContext(ctx, "handoff not cleared; the sweep will relay it again", "ticket", t.ID, "error", err.Error())
	}
}

// relay does the after-commit work of t from event index from.
func (r *Relay) relay(ctx context.Context, t *model.Ticket, from int) error {
	var errs []error
	if t.Status == model.StatusSubmitted && !t.Held && r.screening != nil {
		errs = append(errs, r.screening.Add(ctx, t.ID))
	}
	if t.Unrouted() && r.dispatch != nil {
		errs = append(errs, r.dispatch.Add(ctx, t.ID))
	}
	errs = append(errs, r.schedule(ctx, t))
	from = min(max(from, 0), len(t.Timeline))
	if r.notify != nil {
		for _, e := range t.Timeline[from:] {
			errs = append(errs, r.notifyOf(ctx, t, e))
		}
	}
	if r.events != nil {
		errs = append(errs, r.events.Changed(ctx, t, t.Timeline[from:]))
	}
	return errors.Join(errs...)
}

// notifyOf queues the subscribe message an event sends, if any.
func (r *Relay) notifyOf(ctx context.Context, t *model.Ticket, e model.Event) error {
	switch e.Type {
	case model.EventDispatched, model.EventVerifyFailed:
		return r.notify.Assigned(ctx, t, t.AssigneeID)
	case model.EventAccepted, model.EventClaimed:
		return r.notify.Accepted(ctx, t)
	case model.EventResolved:
		return r.notify.Resolved(ctx, t)
	case model.EventUrged:
		return r.notify.Urged(ctx, t, e.Note)
	}
	return nil
}

// The timers a ticket's state sets (member "<kind>|<ticket>[|<assignee>]").
const (
	timerAccept = "accept"
	timerDue    = "due"
	timerClose  = "close"
)

// schedule (re)sets the ticket's deadlines in Redis: the accept deadline of
// a dispatched ticket, the handling deadline of an open one (none while
// deferred: its clock is stopped), the feedback window of a resolved one.
// Setting a timer again is harmless: each one's handler checks the state.
func (r *Relay) schedule(ctx context.Context, t *model.Ticket) error {
	if r.timers == nil {
		return nil
	}
	var err error
	if t.Status == model.StatusDispatched && t.AssigneeID != "" && !t.AcceptBy.IsZero() {
		err = errors.Join(err, r.timers.Schedule(ctx, timerAccept+"|"+t.ID+"|"+t.AssigneeID, t.AcceptBy))
	}
	if model.CanApply(model.EventEscalated, t.Status) && !t.Escalated && !t.DueAt.IsZero() {
		err = errors.Join(err, r.timers.Schedule(ctx, timerDue+"|"+t.ID, t.DueAt))
	}
	if t.Status == model.StatusResolved && t.Resolution != nil && r.window > 0 {
		err = errors.Join(err, r.timers.Schedule(ctx, timerClose+"|"+t.ID, t.Resolution.ResolvedAt.Add(r.window)))
	}
	return err
}

// How long a handoff of a running instance is left to that instance (its
// request relays it at once; its own sweep retries after ownGrace), and how
// long any handoff may wait before any instance relays it.
const (
	ownGrace  = 3 * time.Second
	anyGrace  = 30 * time.Second
	sweepPage = 200
)

// Sweep relays the handoffs left behind: those of instances no longer
// alive (killed; or this process's predecessor, after a restart) at once,
// this instance's own after ownGrace, and any after anyGrace. It returns
// how many it relayed. Takeover calls it when there is a reason (see
// there), the Reconciler every RECONCILE_INTERVAL.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	failed := r.failed.Swap(0)
	hs, err := r.tickets.Unrelayed(ctx, sweepPage)
	if err != nil {
		r.failed.Add(failed)
		return 0, err
	}
	var owners []string
	for _, h := range hs {
		if h.Owner != r.instance && !slices.Contains(owners, h.Owner) {
			owners = append(owners, h.Owner)
		}
	}
	alive := map[string]bool{}
	if r.liveness != nil && len(owners) > 0 {
		if alive, err = r.liveness.Alive(ctx, owners); err != nil {
			return 0, err
		}
	}
	now, n := r.now(), 0
	var errs []error
	for _, h := range hs {
		age := now.Sub(h.At)
		due := age >= anyGrace || (h.Owner == r.instance && age >= ownGrace) || (h.Owner != r.instance && !alive[h.Owner])
		if !due {
			if h.Owner == r.instance {
				r.failed.Add(1) // look again at the next round
			}
			continue
		}
		t, err := r.tickets.Get(ctx, h.TicketID)
		if errors.Is(err, model.ErrNotFound) {
			errs = append(errs, r.tickets.Relayed(ctx, h.TicketID, h.Version))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := r.relay(ctx, t, h.From); err != nil {
			r.failed.Add(1)
			errs = append(errs, err)
			continue
		}
		if err := r.tickets.Relayed(ctx, t.ID, t.Version); err != nil {
			r.failed.Add(1)
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n > 0 {
		r.logger.InfoContext(ctx, "relayed after-commit work left behind", "handoffs", n)
	}
	return n, errors.Join(errs...)
}

// Restore re-does, for a ticket read back after Redis lost its data, what
// its state hands to Redis (the reconciler's backstop): its timers, and the
// dispatch job of an unrouted one. Notifications are not sent again.
func (r *Relay) Restore(ctx context.Context, t *model.Ticket) error {
	var errs []error
	if t.Unrouted() && r.dispatch != nil {
		errs = append(errs, r.dispatch.Add(ctx, t.ID))
	}
	errs = append(errs, r.schedule(ctx, t))
	return errors.Join(errs...)
}
