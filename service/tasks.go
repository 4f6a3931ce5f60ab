package service

import (
	"context"
	"errors"
	"fmt"
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
	tickets    TicketStore
	photos     PhotoStore
	members    MemberGetter
	users      UserGetter
	dispatcher *Dispatcher
	notify     Notifications
	now        func() time.Time
}

// NewTasks returns the task service.
func NewTasks(tickets TicketStore, photos PhotoStore, members MemberGetter, users UserGetter, d *Dispatcher, notify Notifications, now func() time.Time) *Tasks {
	return &Tasks{tickets: tickets, photos: photos, members: members, users: users, dispatcher: d, notify: notify, now: now}
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

var errTaken = model.Errorf(model.CodeConflict, "这个任务已被别人抢先认领")

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
	var claimed *model.Ticket
	err = retryConflicts(ctx, s.tickets, id, func(t *model.Ticket) (bool, error) {
		if t.AssigneeID == u.ID && t.Status == model.StatusInProgress {
			claimed = t // a retry of our own successful claim
			return false, nil
		}
		if !slices.Contains(m.Communities, t.Community) || (!t.Pool && t.AssigneeRole != model.RolePartyMember) {
			return false, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
		}
		if !t.Pool || !model.CanApply(model.EventClaimed, t.Status) {
			return false, errTaken
		}
		t.AssigneeID, t.AssigneeRole, t.Pool, t.Queue, t.AcceptBy = u.ID, model.RolePartyMember, false, "", time.Time{}
		if err := t.Append(model.Event{At: s.now(), Type: model.EventClaimed, Status: model.StatusInProgress,
			ActorID: u.ID, ActorRole: model.RolePartyMember, ActorName: s.dispatcher.names.Masked(ctx, u.ID, model.RolePartyMember),
			Note: "在职党员认领处置"}); err != nil {
			return false, err
		}
		claimed = t
		return true, nil
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	if err != nil {
		return nil, err
	}
	s.dispatcher.scheduleTimers(ctx, claimed)
	s.notifyAccepted(ctx, claimed)
	return claimed, nil
}

// assigned loads a ticket assigned to u; anyone else's is not_found.
func (s *Tasks) assigned(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	t, err := s.tickets.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) || (err == nil && t.AssigneeID != u.ID) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	return t, err
}

// step applies change to a ticket assigned to u, retrying when an unrelated
// writer (a duplicate joining, a timer) got in first.
func (s *Tasks) step(ctx context.Context, u *model.User, id string, change func(t *model.Ticket) error) (*model.Ticket, error) {
	var out *model.Ticket
	err := retryConflicts(ctx, s.tickets, id, func(t *model.Ticket) (bool, error) {
		if t.AssigneeID != u.ID {
			return false, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
		}
		if err := change(t); err != nil {
			return false, err
		}
		out = t
		return true, nil
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有任务 %s", id)
	}
	return out, err
}

// Accept starts work on a dispatched ticket. Errors: not_found, conflict.
func (s *Tasks) Accept(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	t, err := s.step(ctx, u, id, func(t *model.Ticket) error {
		t.AcceptBy, t.Pool, t.Queue = time.Time{}, false, ""
		return t.Append(model.Event{At: s.now(), Type: model.EventAccepted, Status: model.StatusInProgress,
			ActorID: u.ID, ActorRole: t.AssigneeRole, ActorName: s.dispatcher.names.Masked(ctx, u.ID, t.AssigneeRole), Note: "已接单，正在处置"})
	})
	if err != nil {
		return nil, err
	}
	s.notifyAccepted(ctx, t)
	return t, nil
}

// Return gives a ticket back with a reason; it is routed again to someone
// else where possible, and to staff after too many returns. Errors:
// invalid_argument (reason), not_found, conflict.
func (s *Tasks) Return(ctx context.Context, u *model.User, id, reason string) (*model.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, model.Invalid("reason", "必须是 1 到 200 个字：请说明退回原因")
	}
	t, err := s.step(ctx, u, id, func(t *model.Ticket) error {
		if err := t.Append(model.Event{At: s.now(), Type: model.EventReturned, ActorID: u.ID, ActorRole: t.AssigneeRole, Note: "退回：" + reason}); err != nil {
			return err
		}
		t.Returns++
		if !slices.Contains(t.ReturnedBy, u.ID) {
			t.ReturnedBy = append(t.ReturnedBy, u.ID)
		}
		if t.Returns > s.dispatcher.cfg.MaxReturns {
			t.AssigneeID, t.AssigneeRole, t.AcceptBy, t.Queue = "", "", time.Time{}, model.QueueStaff
			return t.Append(model.Event{At: s.now(), Type: model.EventQueued, Status: model.StatusPending, Note: noteTooManyRet})
		}
		return s.dispatcher.route(ctx, t, t.ReturnedBy)
	})
	if err != nil {
		return nil, err
	}
	s.dispatcher.afterCommit(ctx, t, u.ID)
	return t, nil
}

// Resolve records the handling with a note and 1–9 "after" photos of the
// caller's. Errors: invalid_argument, not_found, conflict.
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
	if !model.CanApply(model.EventResolved, t.Status) {
		return nil, model.Errorf(model.CodeConflict, "工单当前为「%s」，不能办结；请先接单", model.StatusLabel(t.Status))
	}
	photos, err := s.photos.Many(ctx, photoIDs)
	if err != nil {
		return nil, err
	}
	byID := map[string]*model.Photo{}
	for _, p := range photos {
		byID[p.ID] = p
	}
	for i, pid := range photoIDs {
		p := byID[pid]
		if p == nil || p.OwnerID != u.ID || (p.UsedBy != "" && p.UsedBy != id) {
			return nil, model.Invalid(fmt.Sprintf("photo_ids[%d]", i), "%s 不是您上传且未使用的照片", pid)
		}
	}
	if n, err := s.photos.Claim(ctx, u.ID, photoIDs, id); err != nil {
		return nil, err
	} else if n < len(photoIDs) {
		return nil, model.Invalid("photo_ids", "有照片刚被别处使用；请重新上传")
	}
	t, err = s.step(ctx, u, id, func(t *model.Ticket) error {
		now := s.now()
		t.Resolution = &model.Resolution{Note: note, PhotoIDs: photoIDs, ResolvedAt: now, ResolverID: u.ID}
		t.Pool, t.Queue = false, ""
		return t.Append(model.Event{At: now, Type: model.EventResolved, Status: model.StatusResolved, ActorID: u.ID, ActorRole: t.AssigneeRole,
			ActorName: s.dispatcher.names.Masked(ctx, u.ID, t.AssigneeRole), Note: note})
	})
	if err != nil {
		return nil, err
	}
	s.dispatcher.scheduleTimers(ctx, t) // the feedback window
	if s.notify != nil {
		_ = s.notify.Resolved(ctx, t)
	}
	return t, nil
}

func (s *Tasks) notifyAccepted(ctx context.Context, t *model.Ticket) {
	if s.notify != nil {
		_ = s.notify.Accepted(ctx, t)
	}
}

// AdminList lists tickets for staff. Errors: invalid_argument (filter).
func (s *Tasks) AdminList(ctx context.Context, f model.TicketFilter, cursor string, limit int) ([]*model.Ticket, string, error) {
	if f.Status != "" && !validStatus(model.Status(f.Status)) {
		return nil, "", model.Invalid("status", "%q 不是工单状态", f.Status)
	}
	return s.tickets.ListAdmin(ctx, f, cursor, limit)
}

func validStatus(st model.Status) bool {
	switch st {
	case model.StatusSubmitted, model.StatusRejected, model.StatusPending, model.StatusDispatched,
		model.StatusInProgress, model.StatusResolved, model.StatusClosed, model.StatusMerged:
		return true
	}
	return false
}

// Dispatch assigns a ticket by hand (staff), including one held for review.
// Errors: invalid_argument (assignee), not_found, conflict.
func (s *Tasks) Dispatch(ctx context.Context, staff *model.User, id, assigneeID string) (*model.Ticket, error) {
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
	var prev string
	var out *model.Ticket
	err = retryConflicts(ctx, s.tickets, id, func(t *model.Ticket) (bool, error) {
		now := s.now()
		prev = t.AssigneeID
		if t.RegisteredAt.IsZero() {
			t.RegisteredAt = now
		}
		if t.DueAt.IsZero() && s.dispatcher.cfg.Calendar != nil {
			if cat, err := s.dispatcher.categories.Get(ctx, t.Category); err == nil {
				t.DueAt = s.dispatcher.cfg.Calendar.Add(t.RegisteredAt, time.Duration(cat.SLAHours)*time.Hour)
			}
		}
		t.AssigneeID, t.AssigneeRole, t.Queue, t.Pool, t.Held = a.ID, role, "", false, false
		t.AcceptBy = now.Add(s.dispatcher.cfg.AcceptTimeout)
		if err := t.Append(model.Event{At: now, Type: model.EventDispatched, Status: model.StatusDispatched,
			ActorID: staff.ID, ActorRole: model.RoleStaff, Note: "人工派遣"}); err != nil {
			return false, err
		}
		out = t
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	s.dispatcher.afterCommit(ctx, out, prev)
	return out, nil
}

// Reject closes a ticket as not to be handled (staff), with a reason the
// resident sees. Errors: invalid_argument, not_found, conflict.
func (s *Tasks) Reject(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, model.Invalid("reason", "必须是 1 到 200 个字：请说明驳回原因")
	}
	var out *model.Ticket
	err := retryConflicts(ctx, s.tickets, id, func(t *model.Ticket) (bool, error) {
		t.RejectReason, t.Pool, t.Queue = reason, false, ""
		if err := t.Append(model.Event{At: s.now(), Type: model.EventRejected, Status: model.StatusRejected,
			ActorID: staff.ID, ActorRole: model.RoleStaff, Note: reason}); err != nil {
			return false, err
		}
		out = t
		return true, nil
	})
	return out, err
}
