package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Workflow commits the steps of a ticket's life. It is the one place that
// loads a ticket, lets a step (a model.Ticket method) change it, commits the
// change with the ticket's version as precondition, retries when another
// writer got there first, and then does what follows a committed step:
// deadlines (timers), notifications and routing. The services (Tasks,
// Feedback, Screening, Dispatcher) decide which step to take; none of them
// sets a status or a side field, and none of them commits a ticket itself.
type Workflow struct {
	tickets    TicketStore
	categories *Categories
	timers     TimerStore
	notify     Notifications
	router     *Router
	names      *Names
	queue      Queue // the dispatch queue, for tickets a step left unrouted without a router
	cfg        DispatchConfig
	now        func() time.Time
	logger     *slog.Logger
}

// errUnchanged, returned by a step's change, says there is nothing to do:
// nothing is committed and Step returns the ticket as it is.
var errUnchanged = errors.New("nothing to do")

// maxCommitAttempts bounds the retries of a step that keeps losing its
// version to other writers.
const maxCommitAttempts = 10

// Step loads ticket id, applies change, and commits it with the version as
// precondition, reloading and applying change again when another writer
// committed first; then it does the after-commit work. change returns
// errUnchanged to commit nothing. Errors: those of change, not_found,
// conflict (ten lost races), unavailable.
func (w *Workflow) Step(ctx context.Context, id string, change func(t *model.Ticket) error) (*model.Ticket, error) {
	var before, after *model.Ticket
	err := retryConflicts(ctx, w.tickets, id, func(t *model.Ticket) (bool, error) {
		b := *t
		b.Timeline = t.Timeline[:len(t.Timeline):len(t.Timeline)]
		before = &b
		after = t
		if err := change(t); err != nil {
			if errors.Is(err, errUnchanged) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if after.Version > before.Version {
		w.afterCommit(ctx, before, after)
	}
	return after, nil
}

// Commit commits t, changed by a step from before, without reloading it (the
// caller loaded it and decides again on conflict), then does the
// after-commit work. Errors: conflict (someone else committed first),
// unavailable.
func (w *Workflow) Commit(ctx context.Context, before, t *model.Ticket) error {
	if err := w.tickets.Commit(ctx, before, t); err != nil {
		return err
	}
	w.afterCommit(ctx, before, t)
	return nil
}

// Snapshot copies t before a step, for Commit.
func Snapshot(t *model.Ticket) *model.Ticket {
	b := *t
	b.Timeline = t.Timeline[:len(t.Timeline):len(t.Timeline)]
	return &b
}

// retryConflicts loads ticket id, lets change modify it (returning false
// when there is nothing to do), and commits, reloading and trying again
// when another writer got there first.
func retryConflicts(ctx context.Context, tickets TicketStore, id string, change func(*model.Ticket) (bool, error)) error {
	for attempt := 0; ; attempt++ {
		t, err := tickets.Get(ctx, id)
		if err != nil {
			return err
		}
		before := Snapshot(t)
		ok, err := change(t)
		if err != nil || !ok {
			return err
		}
		err = tickets.Commit(ctx, before, t)
		if !errors.Is(err, model.ErrConflict) || attempt == maxCommitAttempts-1 {
			return err
		}
	}
}

// SLA is the handling limit of t's category in the work calendar.
// Errors: those of the catalogue.
func (w *Workflow) SLA(ctx context.Context, t *model.Ticket) (model.SLA, error) {
	cat, err := w.categories.Get(ctx, t.Category)
	if err != nil {
		return model.SLA{}, fmt.Errorf("handling limit of %s: %w", t.ID, err)
	}
	return model.SLA{Hours: cat.SLAHours, Calendar: w.Calendar()}, nil
}

// Category looks a category up in the catalogue. Errors: those of
// Categories.Get (invalid_argument for an unknown code).
func (w *Workflow) Category(ctx context.Context, code string) (model.Category, error) {
	return w.categories.Get(ctx, code)
}

// Calendar is the work calendar steps count working time in, or nil
// (wall-clock time) without one.
func (w *Workflow) Calendar() model.Calendar {
	if w.cfg.Calendar == nil {
		return nil
	}
	return w.cfg.Calendar
}

// Actor is u acting in role, with the masked name a resident may see.
func (w *Workflow) Actor(ctx context.Context, u *model.User, role model.Role) model.Actor {
	return w.ActorOf(ctx, u.ID, role)
}

// ActorOf is the user id acting in role, with the masked name a resident
// may see of a worker or party member.
func (w *Workflow) ActorOf(ctx context.Context, userID string, role model.Role) model.Actor {
	a := model.Actor{ID: userID, Role: role}
	if role == model.RoleGridWorker || role == model.RolePartyMember {
		a.Name = w.names.Masked(ctx, userID, role)
	}
	return a
}

// MaxReturns is how many returns a ticket takes before it goes to staff.
func (w *Workflow) MaxReturns() int { return w.cfg.MaxReturns }

// AcceptBy is the accept deadline of an assignment made at now.
func (w *Workflow) AcceptBy(now time.Time) time.Time { return now.Add(w.cfg.AcceptTimeout) }

// Locate finds the grid a point lies in (false: none, or no router).
func (w *Workflow) Locate(ctx context.Context, p model.Point) (model.Grid, bool) {
	if w.router == nil {
		return model.Grid{}, false
	}
	return w.router.locate(ctx, p)
}

// Intake records a ticket that needs no screening — a hotline case taken
// by staff, a case from another platform: it inserts t (reported, see
// model.Ticket.Report) and then registers (立案) and routes it in one step,
// with by as the registering actor and note in the timeline. Should that
// step fail, the ticket is returned as recorded (submitted): the reconciler
// finds it and Screening finishes it the same way. Errors: conflict (idem
// taken), unavailable (nothing recorded).
func (w *Workflow) Intake(ctx context.Context, t *model.Ticket, idem string, by model.Actor, note string) (*model.Ticket, error) {
	if err := w.tickets.Insert(ctx, t, idem, ""); err != nil {
		return nil, fmt.Errorf("record ticket: %w", err)
	}
	done, err := w.Step(ctx, t.ID, func(t *model.Ticket) error {
		sla, err := w.SLA(ctx, t)
		if err != nil {
			return err
		}
		if err := t.Register(model.Act{At: w.now(), By: by, Note: note}, sla); err != nil {
			return err
		}
		return w.Route(ctx, t, nil)
	})
	if err != nil {
		// The ticket is recorded: the caller is told so (it must not enter
		// it twice), and the reconciler finishes the step.
		w.logger.WarnContext(ctx, "new ticket recorded but not registered yet; the reconciler will", "ticket", t.ID, "error", err.Error())
		return t, nil
	}
	return done, nil
}

// Route routes an unrouted ticket within the step that left it unrouted
// (one commit, no queue hop); without a router it stays unrouted and is
// queued for the dispatcher after the commit.
func (w *Workflow) Route(ctx context.Context, t *model.Ticket, exclude []string) error {
	if w.router == nil || !t.Unrouted() {
		return nil
	}
	return w.router.route(ctx, t, exclude, w.now(), w.cfg.AcceptTimeout)
}

// afterCommit does what follows a committed step: the deadlines, the
// notifications of the steps taken, and routing for a ticket left waiting
// for it. Each is idempotent and rebuilt by the reconciler if lost.
func (w *Workflow) afterCommit(ctx context.Context, before, t *model.Ticket) {
	w.scheduleTimers(ctx, t)
	if w.notify != nil {
		for _, e := range t.Timeline[min(len(before.Timeline), len(t.Timeline)):] {
			var err error
			switch e.Type {
			case model.EventDispatched, model.EventVerifyFailed:
				err = w.notify.Assigned(ctx, t, t.AssigneeID)
			case model.EventAccepted, model.EventClaimed:
				err = w.notify.Accepted(ctx, t)
			case model.EventResolved:
				err = w.notify.Resolved(ctx, t)
			case model.EventUrged:
				err = w.notify.Urged(ctx, t, e.Note)
			}
			if err != nil {
				w.logger.WarnContext(ctx, "notification not queued", "ticket", t.ID, "event", string(e.Type), "error", err.Error())
			}
		}
	}
	if t.Unrouted() && w.queue != nil && (w.router == nil || !before.Unrouted()) {
		if err := w.queue.Add(ctx, t.ID); err != nil {
			w.logger.WarnContext(ctx, "dispatch not queued; the reconciler will", "ticket", t.ID, "error", err.Error())
		}
	}
}

const (
	timerAccept = "accept"
	timerDue    = "due"
	timerClose  = "close"
)

// scheduleTimers (re)sets the ticket's deadlines in Redis: the accept
// deadline of a dispatched ticket, the handling deadline of an open one
// (none while deferred: its clock is stopped), the feedback window of a
// resolved one.
func (w *Workflow) scheduleTimers(ctx context.Context, t *model.Ticket) {
	if w.timers == nil {
		return
	}
	var err error
	if t.Status == model.StatusDispatched && t.AssigneeID != "" && !t.AcceptBy.IsZero() {
		err = errors.Join(err, w.timers.Schedule(ctx, timerAccept+"|"+t.ID+"|"+t.AssigneeID, t.AcceptBy))
	}
	if model.CanApply(model.EventEscalated, t.Status) && !t.Escalated && !t.DueAt.IsZero() {
		err = errors.Join(err, w.timers.Schedule(ctx, timerDue+"|"+t.ID, t.DueAt))
	}
	if t.Status == model.StatusResolved && t.Resolution != nil && w.cfg.FeedbackWindow > 0 {
		err = errors.Join(err, w.timers.Schedule(ctx, timerClose+"|"+t.ID, t.Resolution.ResolvedAt.Add(w.cfg.FeedbackWindow)))
	}
	if err != nil {
		w.logger.WarnContext(ctx, "timers not scheduled; the reconciler will", "ticket", t.ID, "error", err.Error())
	}
}

// PhotoFlags are the reasons the "after" photos of t want a 核查: an EXIF
// position more than the configured distance from the ticket, or an EXIF
// time before since (the dispatch). Photos without EXIF are not flagged.
func (w *Workflow) PhotoFlags(t *model.Ticket, photos []*model.Photo, since time.Time) []string {
	maxM := w.cfg.PhotoMaxDistanceM
	if maxM <= 0 {
		maxM = DefaultPhotoMaxDistanceM
	}
	var flags []string
	for _, p := range photos {
		if p.ExifLocation != nil {
			d := geo.DistanceMeters(geo.Point{Lat: t.Point.Lat, Lng: t.Point.Lng}, geo.Point{Lat: p.ExifLocation.Lat, Lng: p.ExifLocation.Lng})
			if d > maxM {
				flags = append(flags, fmt.Sprintf("照片 %s 的拍摄位置距工单位置 %.0f 米，超过 %.0f 米", p.ID, d, maxM))
			}
		}
		if p.TakenAt != nil && !since.IsZero() && p.TakenAt.Before(since) {
			flags = append(flags, fmt.Sprintf("照片 %s 的拍摄时间 %s 早于派遣时间 %s", p.ID,
				p.TakenAt.In(shanghai).Format("2006-01-02 15:04"), since.In(shanghai).Format("2006-01-02 15:04")))
		}
	}
	return flags
}

// DefaultPhotoMaxDistanceM is how far from the ticket an "after" photo's
// EXIF position may be before it is flagged (RESOLUTION_PHOTO_MAX_DISTANCE_M).
const DefaultPhotoMaxDistanceM = 300

// ownPhotos checks that ids are photos of u's, unused or already this
// ticket's, and returns them in order. Errors: invalid_argument naming
// photo_ids[i].
func ownPhotos(ctx context.Context, photos PhotoStore, u *model.User, ids []string, ticketID, field string) ([]*model.Photo, error) {
	got, err := photos.Many(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]*model.Photo{}
	for _, p := range got {
		byID[p.ID] = p
	}
	out := make([]*model.Photo, len(ids))
	for i, pid := range ids {
		p := byID[pid]
		if p == nil || p.OwnerID != u.ID || (p.UsedBy != "" && p.UsedBy != ticketID) {
			return nil, model.Invalid(fmt.Sprintf("%s[%d]", field, i), "%s 不是您上传且未使用的照片，请重新上传", pid)
		}
		if slices.Index(ids, pid) != i {
			return nil, model.Invalid(fmt.Sprintf("%s[%d]", field, i), "照片 %s 重复", pid)
		}
		out[i] = p
	}
	return out, nil
}
