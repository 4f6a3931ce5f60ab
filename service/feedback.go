package service

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// FeedbackInput is the resident's confirmation of a resolved report.
type FeedbackInput struct {
	Satisfied *bool
	Rating    int
	Comment   string
}

// Feedback is 核查结案: the resident confirms and rates a resolved report;
// satisfied closes it, not satisfied reopens it (返工) to the same grid.
type Feedback struct {
	tickets    TicketStore
	dispatcher *Dispatcher
	now        func() time.Time
}

// NewFeedback returns the feedback service.
func NewFeedback(tickets TicketStore, d *Dispatcher, now func() time.Time) *Feedback {
	return &Feedback{tickets: tickets, dispatcher: d, now: now}
}

// Give records the reporter's feedback. Errors: invalid_argument,
// not_found (not the reporter's), conflict (not resolved).
func (f *Feedback) Give(ctx context.Context, u *model.User, id string, in FeedbackInput) (*model.Ticket, error) {
	if in.Satisfied == nil {
		return nil, model.Invalid("satisfied", "不能为空（true 或 false）")
	}
	if in.Rating < 1 || in.Rating > 5 {
		return nil, model.Invalid("rating", "必须是 1 到 5 之间的整数")
	}
	in.Comment = strings.TrimSpace(in.Comment)
	if utf8.RuneCountInString(in.Comment) > 500 {
		return nil, model.Invalid("comment", "最多 500 个字")
	}
	var out *model.Ticket
	var prev string
	err := retryConflicts(ctx, f.tickets, id, func(t *model.Ticket) (bool, error) {
		if t.ReporterID != u.ID {
			return false, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
		}
		if t.Status != model.StatusResolved {
			return false, model.Errorf(model.CodeConflict, "只有「已处置」的上报才能评价，这条上报当前为「%s」", model.StatusLabel(t.Status))
		}
		now := f.now()
		t.Feedback = &model.Feedback{Satisfied: *in.Satisfied, Rating: in.Rating, Comment: in.Comment, At: now}
		if *in.Satisfied {
			prev = t.AssigneeID // nobody to notify
			out = t
			return true, t.Append(model.Event{At: now, Type: model.EventClosed, Status: model.StatusClosed,
				ActorID: u.ID, ActorRole: model.RoleResident, Note: "居民确认满意，结案"})
		}
		// 返工: back to work in the same grid, with a fresh handling limit.
		if err := t.Append(model.Event{At: now, Type: model.EventReopened, Status: model.StatusPending, ActorID: u.ID, ActorRole: model.RoleResident,
			Note: "居民不满意，返工：" + in.Comment}); err != nil {
			return false, err
		}
		t.Reopens++
		t.Escalated, t.Resolution = false, nil
		if cat, err := f.dispatcher.categories.Get(ctx, t.Category); err == nil && f.dispatcher.cfg.Calendar != nil {
			t.DueAt = f.dispatcher.cfg.Calendar.Add(now, time.Duration(cat.SLAHours)*time.Hour)
		}
		if err := f.dispatcher.route(ctx, t, nil); err != nil {
			return false, err
		}
		out = t
		return true, nil
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
	}
	if err != nil {
		return nil, err
	}
	f.dispatcher.afterCommit(ctx, out, prev)
	return out, nil
}
