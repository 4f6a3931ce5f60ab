package ticket

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// MemberGetter loads party-member profiles.
type MemberGetter interface {
	GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error)
}

// Tasks is the grid workers' and party members' side: their tasks, the
// pool, and each step of handling (处置).
type Tasks struct {
	tickets  Store
	photos   PhotoStore
	members  MemberGetter
	users    UserGetter
	workflow *Workflow
	now      func() time.Time
}

// TasksDeps are the collaborators of Tasks.
type TasksDeps struct {
	Tickets  Store
	Photos   PhotoStore
	Members  MemberGetter
	Users    UserGetter
	Workflow *Workflow
	Now      func() time.Time
}

// NewTasks returns the task service; it commits through the Workflow.
func NewTasks(d TasksDeps) *Tasks {
	return &Tasks{tickets: d.Tickets, photos: d.Photos, members: d.Members, users: d.Users, workflow: d.Workflow, now: d.Now}
}

var assignedStatuses = []model.Status{model.StatusDispatched, model.StatusInProgress}

// Mine lists the tickets assigned to the caller that are dispatched or in
// progress.
func (s *Tasks) Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error) {
	return s.tickets.ListAssigned(ctx, u.ID, assignedStatuses, cursor, limit)
}

// Pool lists what a party member may claim: pool tickets of the
// communities they serve. Errors: permission_denied for others.
func (s *Tasks) Pool(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error) {
	m, err := s.member(ctx, u)
	if err != nil {
		return nil, "", err
	}
	return s.tickets.ListPool(ctx, m.Communities, cursor, limit)
}

func (s *Tasks) member(ctx context.Context, u *model.User) (*model.PartyMember, error) {
	if !u.Has(model.RolePartyMember) || u.PartyMemberID == "" {
		return nil, model.Errorf(model.CodePermissionDenied, "任务池只对在职党员开放")
	}
	return s.members.GetPartyMember(ctx, u.PartyMemberID)
}

// Claim gives a pool ticket to the first party member who claims it; every
// other claimant gets conflict. Errors: permission_denied (not a party
// member, or off duty), not_found (not in the caller's pool), conflict.
func (s *Tasks) Claim(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	m, err := s.member(ctx, u)
	if err != nil {
		return nil, err
	}
	if !u.OnDuty {
		return nil, model.Errorf(model.CodePermissionDenied, "请先上岗（PUT /api/v1/me/duty）再认领任务")
	}
	by := s.workflow.Actor(ctx, u, model.RolePartyMember)
	t, err := s.workflow.Step(ctx, id, func(t *model.Ticket) error {
		if t.AssigneeID == u.ID && t.Status == model.StatusInProgress {
			return errUnchanged // a retry of our own successful claim
		}
		if !slices.Contains(m.Communities, t.Community) || (!t.Pool && t.AssigneeRole != model.RolePartyMember) {
			return model.Errorf(model.CodeNotFound, "没有任务 %s", id)
		}
		return t.Claim(model.Act{At: s.now(), By: by, Note: "在职党员认领处置"})
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	return t, err
}

// step takes a step on a ticket assigned to u; anyone else's is not_found.
func (s *Tasks) step(ctx context.Context, u *model.User, id string, change func(t *model.Ticket, by model.Actor) error) (*model.Ticket, error) {
	t, err := s.workflow.Step(ctx, id, func(t *model.Ticket) error {
		if t.AssigneeID != u.ID {
			return model.Errorf(model.CodeNotFound, "没有任务 %s", id)
		}
		return change(t, s.workflow.Actor(ctx, u, t.AssigneeRole))
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	return t, err
}

// Accept starts work on a dispatched ticket. Errors: not_found, conflict.
func (s *Tasks) Accept(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	return s.step(ctx, u, id, func(t *model.Ticket, by model.Actor) error {
		return t.Accept(model.Act{At: s.now(), By: by, Note: "已接单，正在处置"})
	})
}

// Return gives a ticket back with a reason; it is routed again to someone
// else where possible, and to staff after too many returns. Errors:
// invalid_argument (reason), not_found, conflict.
func (s *Tasks) Return(ctx context.Context, u *model.User, id, reason string) (*model.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, model.Invalid("reason", "必须是 1 到 200 个字：请说明退回原因")
	}
	return s.step(ctx, u, id, func(t *model.Ticket, by model.Actor) error {
		by.Name = "" // the resident sees that it was returned, not by whom
		if err := t.Return(model.Act{At: s.now(), By: by, Note: "退回：" + reason}, s.workflow.MaxReturns()); err != nil {
			return err
		}
		return s.workflow.Route(ctx, t, t.ReturnedBy)
	})
}

// Resolve records the handling with a note and 1–9 "after" photos of the
// caller's. Photos whose EXIF says they were taken far from the ticket or
// before the dispatch are accepted, and the resolution is flagged for 核查.
// Errors: invalid_argument, not_found, conflict.
func (s *Tasks) Resolve(ctx context.Context, u *model.User, id, note string, photoIDs []string) (*model.Ticket, error) {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 500 {
		return nil, model.Invalid("note", "必须是 1 到 500 个字：请说明处置情况")
	}
	if len(photoIDs) == 0 || len(photoIDs) > maxPhotos {
		return nil, model.Invalid("photo_ids", "需要 1 到 %d 张处置结果照片", maxPhotos)
	}
	t, err := s.assigned(ctx, u, id)
	if err != nil {
		return nil, err
	}
	id = t.ID // the photos are claimed for the ticket, whatever the caller named it by
	if !model.CanApply(model.EventResolved, t.Status) {
		return nil, model.Errorf(model.CodeConflict, "工单当前状态为“%s”（%s），不能办结；请先接单", t.Status.Label(), t.Status)
	}
	photos, err := ownPhotos(ctx, s.photos, u, photoIDs, id, "photo_ids")
	if err != nil {
		return nil, err
	}
	if n, err := s.photos.Claim(ctx, u.ID, photoIDs, id); err != nil {
		return nil, err
	} else if n < len(photoIDs) {
		return nil, model.Invalid("photo_ids", "有照片刚被别处使用；请重新上传")
	}
	return s.step(ctx, u, id, func(t *model.Ticket, by model.Actor) error {
		flags := s.workflow.PhotoFlags(t, photos, t.DispatchedAt())
		return t.Resolve(model.Act{At: s.now(), By: by, Note: note}, photoIDs, flags)
	})
}

// assigned loads a ticket assigned to u; anyone else's is not_found.
func (s *Tasks) assigned(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	t, err := Load(ctx, s.tickets, id)
	if errors.Is(err, model.ErrNotFound) || (err == nil && t.AssigneeID != u.ID) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	return t, err
}

// Dispatch assigns a ticket by hand (staff), including one held for review
// (registered by it), with note on the timeline ("人工派遣" when empty).
// Errors: invalid_argument (assignee), not_found, conflict.
func (s *Tasks) Dispatch(ctx context.Context, staff *model.User, id, assigneeID, note string) (*model.Ticket, error) {
	if note == "" {
		note = "人工派遣"
	}
	if assigneeID == "" {
		return nil, model.Invalid("assignee_id", "不能为空")
	}
	a, err := s.users.Get(ctx, assigneeID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && !a.HasAny(model.RoleGridWorker, model.RolePartyMember)) {
		return nil, model.Invalid("assignee_id", "%q 不是网格员或在职党员", assigneeID)
	}
	if err != nil {
		return nil, err
	}
	role := model.RoleGridWorker
	if !a.Has(role) {
		role = model.RolePartyMember
	}
	to := s.workflow.ActorOf(ctx, a.ID, role)
	return s.workflow.Step(ctx, id, func(t *model.Ticket) error {
		sla, err := s.workflow.SLA(ctx, t)
		if err != nil {
			return err
		}
		now := s.now()
		return t.Dispatch(model.Act{At: now, By: model.Actor{ID: staff.ID, Role: model.RoleStaff}, Note: note},
			to, s.workflow.AcceptBy(now), sla)
	})
}

// Reject closes a ticket as not to be handled (staff), with a reason the
// resident sees. Errors: invalid_argument, not_found, conflict.
func (s *Tasks) Reject(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, model.Invalid("reason", "必须是 1 到 200 个字：请说明驳回原因")
	}
	return s.workflow.Step(ctx, id, func(t *model.Ticket) error {
		return t.Reject(model.Act{At: s.now(), By: model.Actor{ID: staff.ID, Role: model.RoleStaff}, Note: reason})
	})
}
