package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
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

// TaskIndex is the Redis index of open tasks and open tickets' positions
// that the store keeps in step with every commit; the reconciler rebuilds
// it from MongoDB (see store.TaskIndex).
type TaskIndex interface {
	Sync(ctx context.Context, t *model.Ticket) error
	BeginRebuild() time.Time
	FinishRebuild(ctx context.Context, began time.Time, open map[string]bool) (int, error)
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
}

// Dispatcher routes registered tickets to grid workers and party members
// (派遣), and runs their deadlines. Each step is idempotent and committed by
// a version-checked transition, so at-least-once delivery has an
// exactly-once effect.
type Dispatcher struct {
	tickets    TicketStore
	grids      *Grids
	candidates Candidates
	duty       DutyRoster
	loads      Loads
	index      TaskIndex
	categories *Categories
	timers     TimerStore
	notify     Notifications
	names      *Names
	queue      Queue
	cfg        DispatchConfig
	now        func() time.Time
	logger     *slog.Logger
}

// DispatcherDeps are the collaborators of Dispatcher.
type DispatcherDeps struct {
	Tickets    TicketStore
	Grids      *Grids
	Candidates Candidates
	Duty       DutyRoster
	Loads      Loads
	// Index, when set, is rebuilt by Reconcile.
	Index      TaskIndex
	Categories *Categories
	Timers     TimerStore
	Notify     Notifications
	Names      *Names
	Queue      Queue
	Config     DispatchConfig
	Now        func() time.Time
	Logger     *slog.Logger
}

// NewDispatcher returns the dispatcher.
func NewDispatcher(d DispatcherDeps) *Dispatcher {
	return &Dispatcher{tickets: d.Tickets, grids: d.Grids, candidates: d.Candidates, duty: d.Duty, loads: d.Loads, index: d.Index,
		categories: d.Categories, timers: d.Timers, notify: d.Notify, names: d.Names, queue: d.Queue, cfg: d.Config, now: d.Now, logger: d.Logger}
}

// Timeline notes shown to residents.
const (
	noteDispatched   = "已派遣至网格员处置"
	noteNoGrid       = "所在位置不在任何网格内，等待人工派遣"
	noteNobodyOnDuty = "网格内暂无在岗网格员，已推送社区在职党员，并等待人工派遣"
	notePooled       = "已同时推送社区在职党员认领"
	noteTooManyRet   = "多次退回，转人工派遣"
	noteReassigned   = "超时未接单，重新派遣"
	noteEscalated    = "超过处置时限，已上报督办"
)

// unrouted reports whether a ticket waits for routing: registered, not yet
// assigned, queued for staff or offered to the pool.
func unrouted(t *model.Ticket) bool {
	return t.Status == model.StatusPending && t.AssigneeID == "" && t.Queue == "" && !t.Pool
}

// Handle routes one registered ticket; safe to call any number of times.
func (d *Dispatcher) Handle(ctx context.Context, ticketID string) error {
	var committed *model.Ticket
	err := retryConflicts(ctx, d.tickets, ticketID, func(t *model.Ticket) (bool, error) {
		if !unrouted(t) {
			return false, nil
		}
		if err := d.route(ctx, t, nil); err != nil {
			return false, err
		}
		committed = t
		return true, nil
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil || committed == nil {
		return err
	}
	d.afterCommit(ctx, committed, "")
	return nil
}

// route decides where t goes — the on-duty grid worker with the fewest
// open tasks, else the staff's queue — and offers volunteer-suitable or
// unstaffed tickets to the community's party members. It only changes t;
// the caller commits.
func (d *Dispatcher) route(ctx context.Context, t *model.Ticket, exclude []string) error {
	now := d.now()
	if t.RegisteredAt.IsZero() {
		t.RegisteredAt = now
	}
	cat, err := d.categories.Get(ctx, t.Category)
	if err != nil {
		return fmt.Errorf("route %s: %w", t.ID, err)
	}
	if t.DueAt.IsZero() && d.cfg.Calendar != nil {
		t.DueAt = d.cfg.Calendar.Add(t.RegisteredAt, time.Duration(cat.SLAHours)*time.Hour)
	}
	t.AssigneeID, t.AssigneeRole, t.AcceptBy = "", "", time.Time{}
	grid, ok := d.grids.Locate(t.Point)
	if !ok {
		// Grids uploaded through another instance moments ago may not be in
		// this one's index yet: look again before giving up.
		if changed, err := d.grids.Refresh(ctx); err == nil && changed {
			grid, ok = d.grids.Locate(t.Point)
		}
	}
	if !ok {
		t.Queue, t.Pool, t.GridCode, t.Community = model.QueueStaff, false, "", ""
		return t.Append(model.Event{At: now, Type: model.EventQueued, Status: model.StatusPending, Note: noteNoGrid})
	}
	t.GridCode, t.Community = grid.Code, grid.Community
	worker, err := d.pickWorker(ctx, grid.Code, exclude)
	if err != nil {
		return err
	}
	t.Pool = cat.VolunteerSuitable || worker == ""
	if worker == "" {
		t.Queue = model.QueueStaff
		return t.Append(model.Event{At: now, Type: model.EventQueued, Status: model.StatusPending, Note: noteNobodyOnDuty})
	}
	t.Queue = ""
	t.AssigneeID, t.AssigneeRole = worker, model.RoleGridWorker
	t.AcceptBy = now.Add(d.cfg.AcceptTimeout)
	note := noteDispatched
	if name := d.names.Masked(ctx, worker, model.RoleGridWorker); name != "" {
		note = "已派遣至网格员" + name + "处置"
	}
	if t.Pool {
		note += "；" + notePooled
	}
	return t.Append(model.Event{At: now, Type: model.EventDispatched, Status: model.StatusDispatched, Note: note})
}

// pickWorker returns the on-duty worker of the grid with the fewest open
// tickets (ties broken by id, so every instance decides alike), or "".
func (d *Dispatcher) pickWorker(ctx context.Context, grid string, exclude []string) (string, error) {
	users, err := d.candidates.WorkerUsers(ctx, grid)
	if err != nil {
		return "", err
	}
	users = slices.DeleteFunc(users, func(u string) bool { return slices.Contains(exclude, u) })
	onDuty, err := d.duty.OnDuty(ctx, users)
	if err != nil {
		return "", err
	}
	slices.Sort(onDuty)
	if len(onDuty) == 0 {
		return "", nil
	}
	loads, err := d.loads.OpenLoads(ctx, onDuty)
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

// afterCommit does what follows a committed routing step: deadlines and the
// assignee's notification. Both are idempotent and rebuildable.
func (d *Dispatcher) afterCommit(ctx context.Context, t *model.Ticket, prevAssignee string) {
	d.scheduleTimers(ctx, t)
	if t.Status == model.StatusDispatched && t.AssigneeID != "" && t.AssigneeID != prevAssignee && d.notify != nil {
		if err := d.notify.Assigned(ctx, t, t.AssigneeID); err != nil {
			d.logger.WarnContext(ctx, "assignment notification not queued", "ticket", t.ID, "error", err.Error())
		}
	}
}

const (
	timerAccept = "accept"
	timerDue    = "due"
	timerClose  = "close"
)

// scheduleTimers (re)sets the ticket's deadlines in Redis.
func (d *Dispatcher) scheduleTimers(ctx context.Context, t *model.Ticket) {
	var err error
	if t.Status == model.StatusDispatched && t.AssigneeID != "" && !t.AcceptBy.IsZero() {
		err = errors.Join(err, d.timers.Schedule(ctx, timerAccept+"|"+t.ID+"|"+t.AssigneeID, t.AcceptBy))
	}
	if t.Status.Open() && t.Status != model.StatusSubmitted && !t.Escalated && !t.DueAt.IsZero() {
		err = errors.Join(err, d.timers.Schedule(ctx, timerDue+"|"+t.ID, t.DueAt))
	}
	if t.Status == model.StatusResolved && t.Resolution != nil && d.cfg.FeedbackWindow > 0 {
		err = errors.Join(err, d.timers.Schedule(ctx, timerClose+"|"+t.ID, t.Resolution.ResolvedAt.Add(d.cfg.FeedbackWindow)))
	}
	if err != nil {
		d.logger.WarnContext(ctx, "timers not scheduled; the reconciler will", "ticket", t.ID, "error", err.Error())
	}
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

// acceptTimeout re-assigns a ticket its assignee did not accept in time.
func (d *Dispatcher) acceptTimeout(ctx context.Context, ticketID, assignee string) error {
	var committed *model.Ticket
	err := retryConflicts(ctx, d.tickets, ticketID, func(t *model.Ticket) (bool, error) {
		if t.Status != model.StatusDispatched || t.AssigneeID != assignee || d.now().Before(t.AcceptBy) {
			return false, nil
		}
		if !slices.Contains(t.ReturnedBy, assignee) {
			t.ReturnedBy = append(t.ReturnedBy, assignee)
		}
		if err := t.Append(model.Event{At: d.now(), Type: model.EventReassigned, Status: model.StatusDispatched, Note: noteReassigned}); err != nil {
			return false, err
		}
		if err := d.route(ctx, t, t.ReturnedBy); err != nil {
			return false, err
		}
		committed = t
		return true, nil
	})
	if err != nil || committed == nil {
		return err
	}
	d.afterCommit(ctx, committed, assignee)
	return nil
}

// escalate marks a ticket past its handling deadline overdue and puts it in
// front of staff; the assignee keeps working on it.
func (d *Dispatcher) escalate(ctx context.Context, ticketID string) error {
	return retryConflicts(ctx, d.tickets, ticketID, func(t *model.Ticket) (bool, error) {
		if !model.CanApply(model.EventEscalated, t.Status) {
			return false, nil
		}
		if t.Escalated || t.DueAt.IsZero() || d.now().Before(t.DueAt) {
			return false, nil
		}
		t.Escalated, t.Overdue = true, true
		return true, t.Append(model.Event{At: d.now(), Type: model.EventEscalated, Note: noteEscalated})
	})
}

// closeUnrated closes a resolved ticket whose resident did not answer
// within the feedback window (核查结案 without a rating).
func (d *Dispatcher) closeUnrated(ctx context.Context, ticketID string) error {
	return retryConflicts(ctx, d.tickets, ticketID, func(t *model.Ticket) (bool, error) {
		if t.Status != model.StatusResolved || t.Resolution == nil || d.now().Before(t.Resolution.ResolvedAt.Add(d.cfg.FeedbackWindow)) {
			return false, nil
		}
		return true, t.Append(model.Event{At: d.now(), Type: model.EventClosed, Status: model.StatusClosed, Note: "超过评价期限，自动结案"})
	})
}

// Reconcile rebuilds the dispatch state Redis holds from MongoDB, the
// record: registered tickets not yet routed are queued again, every open
// ticket's deadlines are scheduled again, and the task index is rebuilt.
// After a Redis restart or FLUSHALL nothing is lost; since every handler
// checks the ticket's state, nothing happens twice. It returns how many
// tickets it queued.
func (d *Dispatcher) Reconcile(ctx context.Context, minAge time.Duration) (int, error) {
	queued, after := 0, ""
	cutoff := d.now().Add(-minAge)
	var began time.Time
	open := map[string]bool{}
	if d.index != nil {
		began = d.index.BeginRebuild()
	}
	for {
		page, err := d.tickets.Open(ctx, after, 500)
		if err != nil {
			return queued, err
		}
		for _, t := range page {
			after = t.ID
			if d.index != nil {
				open[t.ID] = true
				if err := d.index.Sync(ctx, t); err != nil {
					return queued, err
				}
			}
			if unrouted(t) {
				if t.UpdatedAt.Before(cutoff) {
					if err := d.queue.Add(ctx, t.ID); err != nil {
						return queued, err
					}
					queued++
				}
				continue
			}
			d.scheduleTimers(ctx, t)
		}
		if len(page) < 500 {
			break
		}
	}
	if d.index != nil {
		if n, err := d.index.FinishRebuild(ctx, began, open); err != nil {
			return queued, err
		} else if n > 0 {
			d.logger.InfoContext(ctx, "task index: pruned entries of tickets no longer open", "pruned", n)
		}
	}
	return queued, nil
}
