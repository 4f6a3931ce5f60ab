package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/workcal"
)

// Candidates finds who can take a grid's tickets.
type Candidates interface {
	// WorkerUsers returns the users bound to the grid's worker profiles.
	WorkerUsers(ctx context.Context, gridCode string) ([]string, error)
}

// DutyRoster tells who is on duty.
type DutyRoster interface {
	OnDuty(ctx context.Context, userIDs []string) ([]string, error)
}

// Loads counts users' open tickets.
type Loads interface {
	OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error)
}

// TimerStore keeps deadlines; see store.Timers.
type TimerStore interface {
	Schedule(ctx context.Context, member string, at time.Time) error
	Due(ctx context.Context, now time.Time, limit int) ([]string, error)
	Claim(ctx context.Context, member string) (bool, error)
}

// Notifications sends subscribe messages off the request path.
type Notifications interface {
	Assigned(ctx context.Context, t *model.Ticket, assigneeID string) error
	Accepted(ctx context.Context, t *model.Ticket) error
	Resolved(ctx context.Context, t *model.Ticket) error
	// Urged tells the assignee of a 督办, with the staff's note.
	Urged(ctx context.Context, t *model.Ticket, note string) error
}

// DispatchConfig are the routing rules.
type DispatchConfig struct {
	// AcceptTimeout is how long an assignee has to accept before the ticket
	// is re-assigned.
	AcceptTimeout time.Duration
	// MaxReturns is how many returns a ticket takes before it goes to staff.
	MaxReturns int
	// Calendar counts the categories' handling limits in working time.
	Calendar *workcal.Calendar
	// FeedbackWindow is how long a resolved ticket waits for the resident's
	// rating before it closes on its own.
	FeedbackWindow time.Duration
	// PhotoMaxDistanceM is how far from the ticket an "after" photo's EXIF
	// position may be before the resolution is flagged for 核查
	// (default DefaultPhotoMaxDistanceM).
	PhotoMaxDistanceM float64
}

// Router decides where a ticket goes: the on-duty grid worker of its grid
// with the fewest open tasks, else the staff's queue, and the community's
// party members' pool for volunteer-suitable or unstaffed tickets.
type Router struct {
	grids      *catalogue.Grids
	candidates Candidates
	duty       DutyRoster
	loads      Loads
	categories *catalogue.Categories
	names      *people.Names
}

// RouterDeps are the collaborators of Router.
type RouterDeps struct {
	Grids      *catalogue.Grids
	Candidates Candidates
	Duty       DutyRoster
	Loads      Loads
	Categories *catalogue.Categories
	Names      *people.Names
}

// NewRouter returns the router.
func NewRouter(d RouterDeps) *Router {
	return &Router{grids: d.Grids, candidates: d.Candidates, duty: d.Duty, loads: d.Loads, categories: d.Categories, names: d.Names}
}

// Dispatcher routes registered tickets to grid workers and party members
// (派遣) from the dispatch queue, and runs their deadlines. Each step is
// idempotent and committed by the Workflow, so at-least-once delivery has an
// exactly-once effect.
type Dispatcher struct {
	workflow *Workflow
	router   *Router
	tickets  Store
	relay    *Relay
	timers   TimerStore
	cfg      DispatchConfig
	now      func() time.Time
	logger   *slog.Logger
}

// DispatcherDeps are the collaborators of Dispatcher.
type DispatcherDeps struct {
	Workflow *Workflow
	Router   *Router
	Tickets  Store
	// Relay restores what Redis lost (Reconcile).
	Relay  *Relay
	Timers TimerStore
	Config DispatchConfig
	Now    func() time.Time
	Logger *slog.Logger
}

// NewDispatcher returns the dispatcher.
func NewDispatcher(d DispatcherDeps) *Dispatcher {
	return &Dispatcher{workflow: d.Workflow, router: d.Router, tickets: d.Tickets, relay: d.Relay, timers: d.Timers,
		cfg: d.Config, now: d.Now, logger: d.Logger}
}

// Timeline notes shown to residents.
const (
	noteDispatched   = "已派遣至网格员处置"
	noteNoGrid       = "所在位置不在任何网格内，等待人工派遣"
	noteNobodyOnDuty = "网格内暂无在岗网格员，已推送社区在职党员，并等待人工派遣"
	notePooled       = "已同时推送社区在职党员认领"
	noteReassigned   = "超时未接单，重新派遣"
	noteEscalated    = "超过处置时限，已升级督办"
)

// Handle routes one registered ticket; safe to call any number of times.
func (d *Dispatcher) Handle(ctx context.Context, ticketID string) error {
	_, err := d.workflow.Step(ctx, ticketID, func(t *model.Ticket) error {
		if !t.Unrouted() {
			return errUnchanged
		}
		return d.router.route(ctx, t, nil, d.now(), d.cfg.AcceptTimeout)
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	return err
}

// locate finds the grid of a point, looking again once after a refresh:
// grids uploaded through another instance moments ago may not be in this
// one's index yet.
func (r *Router) locate(ctx context.Context, p model.Point) (model.Grid, bool) {
	grid, ok := r.grids.Locate(p)
	if !ok {
		if changed, err := r.grids.Refresh(ctx); err == nil && changed {
			grid, ok = r.grids.Locate(p)
		}
	}
	return grid, ok
}

// route decides where t goes and takes the routing step on it (t.Route);
// the caller commits.
func (r *Router) route(ctx context.Context, t *model.Ticket, exclude []string, now time.Time, acceptTimeout time.Duration) error {
	cat, err := r.categories.Get(ctx, t.Category)
	if err != nil {
		return fmt.Errorf("route %s: %w", t.ID, err)
	}
	grid, ok := r.locate(ctx, t.Point)
	if !ok {
		return t.Route(model.Act{At: now, Note: noteNoGrid}, model.Routing{})
	}
	worker, err := r.pickWorker(ctx, grid.Code, exclude)
	if err != nil {
		return err
	}
	to := model.Routing{GridCode: grid.Code, Community: grid.Community, Pool: cat.VolunteerSuitable || worker == ""}
	if worker == "" {
		return t.Route(model.Act{At: now, Note: noteNobodyOnDuty}, to)
	}
	name := r.names.Masked(ctx, worker, model.RoleGridWorker)
	to.Assignee = model.Actor{ID: worker, Role: model.RoleGridWorker, Name: name}
	to.AcceptBy = now.Add(acceptTimeout)
	note := noteDispatched
	if name != "" {
		note = "已派遣至网格员" + name + "处置"
	}
	if to.Pool {
		note += "；" + notePooled
	}
	return t.Route(model.Act{At: now, Note: note}, to)
}

// pickWorker returns the on-duty worker of the grid with the fewest open
// tickets (ties broken by id, so every instance decides alike), or "".
func (r *Router) pickWorker(ctx context.Context, grid string, exclude []string) (string, error) {
	users, err := r.candidates.WorkerUsers(ctx, grid)
	if err != nil {
		return "", err
	}
	users = slices.DeleteFunc(users, func(u string) bool { return slices.Contains(exclude, u) })
	onDuty, err := r.duty.OnDuty(ctx, users)
	if err != nil {
		return "", err
	}
	slices.Sort(onDuty)
	if len(onDuty) == 0 {
		return "", nil
	}
	loads, err := r.loads.OpenLoads(ctx, onDuty)
	if err != nil {
		return "", err
	}
	best, bestLoad := "", 0
	for _, u := range onDuty {
		if n := loads[u]; best == "" || n < bestLoad {
			best, bestLoad = u, n
		}
	}
	return best, nil
}

// FireDue claims and fires the timers that are due; each fires on one
// instance only. It returns how many fired.
func (d *Dispatcher) FireDue(ctx context.Context) (int, error) {
	members, err := d.timers.Due(ctx, d.now(), 100)
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, m := range members {
		ok, err := d.timers.Claim(ctx, m)
		if err != nil {
			return fired, err
		}
		if !ok {
			continue // another instance has it
		}
		if err := d.fire(ctx, m); err != nil {
			// The reconciler re-adds the timer from MongoDB; its handler
			// checks the state, so a retry cannot act twice.
			d.logger.WarnContext(ctx, "timer failed", "timer", m, "error", err.Error())
			continue
		}
		fired++
	}
	return fired, nil
}

func (d *Dispatcher) fire(ctx context.Context, member string) error {
	parts := strings.Split(member, "|")
	switch {
	case len(parts) == 3 && parts[0] == timerAccept:
		return d.acceptTimeout(ctx, parts[1], parts[2])
	case len(parts) == 2 && parts[0] == timerDue:
		return d.escalate(ctx, parts[1])
	case len(parts) == 2 && parts[0] == timerClose:
		return d.closeUnrated(ctx, parts[1])
	}
	return fmt.Errorf("unknown timer %q", member)
}

// timerStep takes a timer's step: a step the ticket no longer allows (it
// moved on since the timer was set) is nothing to do.
func (d *Dispatcher) timerStep(ctx context.Context, ticketID string, step func(t *model.Ticket) error) error {
	_, err := d.workflow.Step(ctx, ticketID, func(t *model.Ticket) error {
		if err := step(t); err != nil {
			if model.ErrorCode(err) == model.CodeConflict {
				return errUnchanged
			}
			return err
		}
		return nil
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	return err
}

// acceptTimeout re-assigns a ticket its assignee did not accept in time.
func (d *Dispatcher) acceptTimeout(ctx context.Context, ticketID, assignee string) error {
	return d.timerStep(ctx, ticketID, func(t *model.Ticket) error {
		if err := t.Reassign(model.Act{At: d.now(), Note: noteReassigned}, assignee); err != nil {
			return err
		}
		return d.router.route(ctx, t, t.ReturnedBy, d.now(), d.cfg.AcceptTimeout)
	})
}

// escalate marks a ticket past its handling deadline overdue and puts it in
// front of staff; the assignee keeps working on it.
func (d *Dispatcher) escalate(ctx context.Context, ticketID string) error {
	return d.timerStep(ctx, ticketID, func(t *model.Ticket) error {
		return t.Escalate(model.Act{At: d.now(), Note: noteEscalated})
	})
}

// closeUnrated closes a resolved ticket whose resident did not answer
// within the feedback window (结案 without a rating).
func (d *Dispatcher) closeUnrated(ctx context.Context, ticketID string) error {
	return d.timerStep(ctx, ticketID, func(t *model.Ticket) error {
		return t.Close(model.Act{At: d.now(), Note: "超过评价期限，自动结案"}, d.cfg.FeedbackWindow)
	})
}

// Reconcile rebuilds the dispatch state Redis holds from the store, the
// record: registered tickets not yet routed are queued again and every open
// ticket's deadlines are scheduled again. It is the backstop for a Redis
// that lost its data (restart, FLUSHALL); after-commit work a crash left
// behind is the relay's (Relay.Sweep), within seconds. Since every handler
// checks the ticket's state, nothing happens twice. It returns how many
// tickets it queued.
func (d *Dispatcher) Reconcile(ctx context.Context, minAge time.Duration) (int, error) {
	queued, after := 0, ""
	cutoff := d.now().Add(-minAge)
	for {
		page, err := d.tickets.Open(ctx, after, 500)
		if err != nil {
			return queued, err
		}
		for _, t := range page {
			after = t.ID
			if t.Unrouted() && !t.UpdatedAt.Before(cutoff) {
				continue // just committed: its own handoff queues it
			}
			if err := d.relay.Restore(ctx, t); err != nil {
				return queued, err
			}
			if t.Unrouted() {
				queued++
			}
		}
		if len(page) < 500 {
			break
		}
	}
	return queued, nil
}
