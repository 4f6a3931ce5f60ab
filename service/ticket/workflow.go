package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/people"
)

// PhotoStore is what the ticket flows need of the photos: reading them and
// claiming them for a ticket.
type PhotoStore interface {
	Get(ctx context.Context, id string) (*model.Photo, error)
	Many(ctx context.Context, ids []string) ([]*model.Photo, error)
	Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error)
}

// Workflow commits the steps of a ticket's life. It is the one place that
// records a new ticket (Intake), loads a ticket, lets a step (a model.Ticket
// method) change it, commits the change with the ticket's version as
// precondition, retries when another writer got there first, and then
// relays what follows a committed step (Relay: jobs, deadlines,
// notifications, live events). The services (Reports, Screening, Tasks,
// Feedback, Dispatcher, StaffTickets, Open311) decide which step to take;
// none of them sets a status or a side field, and every commit goes through
// here. It is built once and given to each of them.
type Workflow struct {
	tickets    Store
	categories *catalogue.Categories
	router     *Router
	names      *people.Names
	relay      *Relay
	cfg        DispatchConfig
	now        func() time.Time
	logger     *slog.Logger
}

// WorkflowDeps are the collaborators of Workflow.
type WorkflowDeps struct {
	Tickets    Store
	Categories *catalogue.Categories
	// Router routes a ticket within the step that leaves it unrouted; nil:
	// the ticket is left pending and the relay queues it for dispatch.
	Router *Router
	Names  *people.Names
	Relay  *Relay
	Config DispatchConfig
	Now    func() time.Time
	Logger *slog.Logger
}

// NewWorkflow returns the workflow.
func NewWorkflow(d WorkflowDeps) *Workflow {
	return &Workflow{tickets: d.Tickets, categories: d.Categories, router: d.Router, names: d.Names, relay: d.Relay,
		cfg: d.Config, now: d.Now, logger: d.Logger}
}

// errUnchanged, returned by a step's change, says there is nothing to do:
// nothing is committed and Step returns the ticket as it is.
var errUnchanged = errors.New("nothing to do")

// maxCommitAttempts bounds the retries of a step that keeps losing its
// version to other writers.
const maxCommitAttempts = 10

// Step loads the ticket ref names (its id or case number: Load), applies
// change, and commits it with the version as precondition, reloading and
// applying change again when another writer committed first; then it
// relays the after-commit work. change returns errUnchanged to commit
// nothing. Errors: those of change, not_found, conflict (ten lost races),
// unavailable.
func (w *Workflow) Step(ctx context.Context, ref string, change func(t *model.Ticket) error) (*model.Ticket, error) {
	id := ""
	for attempt := 0; ; attempt++ {
		var (
			t   *model.Ticket
			err error
		)
		if id == "" {
			t, err = Load(ctx, w.tickets, ref)
		} else {
			t, err = w.tickets.Get(ctx, id)
		}
		if err != nil {
			return nil, err
		}
		id = t.ID
		before := Snapshot(t)
		if err := change(t); err != nil {
			if errors.Is(err, errUnchanged) {
				return before, nil
			}
			return nil, err
		}
		err = w.Commit(ctx, before, t)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, model.ErrConflict) || attempt == maxCommitAttempts-1 {
			return nil, err
		}
	}
}

// Commit commits t, changed by a step from before, without reloading it (the
// caller loaded it and decides again on conflict), then relays the
// after-commit work. Errors: conflict (someone else committed first),
// unavailable.
func (w *Workflow) Commit(ctx context.Context, before, t *model.Ticket) error {
	if err := w.tickets.Commit(ctx, before, t); err != nil {
		return err
	}
	if w.relay != nil {
		w.relay.After(ctx, t, len(before.Timeline))
	}
	return nil
}

// Snapshot copies t before a step, for Commit.
func Snapshot(t *model.Ticket) *model.Ticket {
	b := *t
	b.Timeline = t.Timeline[:len(t.Timeline):len(t.Timeline)]
	return &b
}

// Intake records a new ticket — whatever its channel — and hands it on: a
// report (submitted) to screening; a case registered on the word of staff or
// of another platform (hotline, Open311) to routing, which happens at once,
// in this request, or through the dispatch queue should that fail. The
// store records the handoff with the ticket, so a crash after the insert
// loses nothing (Relay.Sweep). It returns the ticket as stored and routed
// (with its case number). Errors: conflict (idem taken), unavailable
// (nothing recorded).
func (w *Workflow) Intake(ctx context.Context, t *model.Ticket, idem, bodyHash string) (*model.Ticket, error) {
	if err := w.tickets.Insert(ctx, t, idem, bodyHash); err != nil {
		return nil, fmt.Errorf("record ticket: %w", err)
	}
	if t.Unrouted() && w.router != nil {
		routed, err := w.Step(ctx, t.ID, func(t *model.Ticket) error {
			if !t.Unrouted() {
				return errUnchanged
			}
			return w.Route(ctx, t, nil)
		})
		if err == nil {
			return routed, nil
		}
		// The ticket is recorded: the caller is told so (it must not enter
		// it twice), and the dispatch queue routes it.
		w.logger.WarnContext(ctx, "new ticket recorded but not routed at once; queued for dispatch", "ticket", t.ID, "error", err.Error())
	}
	if w.relay != nil {
		w.relay.After(ctx, t, 0)
	}
	return t, nil
}

// Load loads the ticket ref names: its id or its case number. Errors:
// not_found, unavailable.
func (w *Workflow) Load(ctx context.Context, ref string) (*model.Ticket, error) {
	return Load(ctx, w.tickets, ref)
}

// Replay returns the ticket an earlier submission with the same
// idempotency digest made, nil if none; reused is the message of the 422
// for a digest made from another body. Errors: idempotency_key_reused,
// unavailable.
func (w *Workflow) Replay(ctx context.Context, idem, hash, reused string) (*model.Ticket, error) {
	t, h, err := w.tickets.ByIdem(ctx, idem)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if h != hash {
		return nil, model.Errorf(model.CodeIdempotencyKeyReused, "%s", reused)
	}
	return t, nil
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
// catalogue.Categories.Get (invalid_argument for an unknown code).
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

// Route routes an unrouted ticket within the step that left it unrouted
// (one commit, no queue hop); without a router it stays unrouted and is
// queued for the dispatcher after the commit.
func (w *Workflow) Route(ctx context.Context, t *model.Ticket, exclude []string) error {
	if w.router == nil || !t.Unrouted() {
		return nil
	}
	return w.router.route(ctx, t, exclude, w.now(), w.cfg.AcceptTimeout)
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
				p.TakenAt.In(model.ChinaTime()).Format("2006-01-02 15:04"), since.In(model.ChinaTime()).Format("2006-01-02 15:04")))
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
