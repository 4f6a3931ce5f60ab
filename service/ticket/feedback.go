package ticket

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

// Feedback is the resident's confirmation of a resolved report: satisfied
// closes it (结案), not satisfied reopens it (返工) to the same grid.
type Feedback struct {
	workflow *Workflow
	now      func() time.Time
}

// NewFeedback returns the feedback service; it commits through d's Workflow.
func NewFeedback(w *Workflow, now func() time.Time) *Feedback {
	return &Feedback{workflow: w, now: now}
}

// check validates a feedback: a rating 1–5 that agrees with satisfied
// (satisfied ⇔ rating ≥ model.SatisfiedRating) when it is given, and a
// comment of at most 500 characters. Errors: invalid_argument naming
// satisfied, rating or comment.
func (in *FeedbackInput) check(needSatisfied bool) error {
	if in.Satisfied == nil && needSatisfied {
		return model.Invalid("satisfied", "不能为空（true 或 false）")
	}
	if in.Rating < 1 || in.Rating > 5 {
		return model.Invalid("rating", "必须是 1 到 5 之间的整数")
	}
	if in.Satisfied != nil && *in.Satisfied != (in.Rating >= model.SatisfiedRating) {
		if *in.Satisfied {
			return model.InvalidNamed("rating", "评分为 %d 分，与“满意”不符：满意的评分是 %d 到 5 分", in.Rating, model.SatisfiedRating)
		}
		return model.InvalidNamed("rating", "评分为 %d 分，与“不满意”不符：不满意的评分是 1 到 %d 分", in.Rating, model.SatisfiedRating-1)
	}
	in.Comment = strings.TrimSpace(in.Comment)
	if utf8.RuneCountInString(in.Comment) > 500 {
		return model.Invalid("comment", "最多 500 个字")
	}
	return nil
}

// Give records the reporter's feedback. Errors: invalid_argument (rating
// and satisfied must agree), not_found (not the reporter's), conflict (not
// resolved).
func (f *Feedback) Give(ctx context.Context, u *model.User, id string, in FeedbackInput) (*model.Ticket, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	out, err := f.workflow.Step(ctx, id, func(t *model.Ticket) error {
		if t.ReporterID != u.ID {
			return model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
		}
		if t.Status != model.StatusResolved {
			return model.Errorf(model.CodeConflict, "只有「已处置」的上报才能评价，这条上报当前为「%s」", t.Status.Label())
		}
		fb := model.Feedback{Satisfied: *in.Satisfied, Rating: in.Rating, Comment: in.Comment}
		act := model.Act{At: f.now(), By: model.Actor{ID: u.ID, Role: model.RoleResident}}
		if *in.Satisfied {
			act.Note = "居民确认满意，结案"
			return t.Confirm(act, fb)
		}
		// 返工: back to work in the same grid, with a fresh handling limit.
		sla, err := f.workflow.SLA(ctx, t)
		if err != nil {
			return err
		}
		act.Note = "居民不满意，返工：" + in.Comment
		if err := t.Reopen(act, fb, sla); err != nil {
			return err
		}
		return f.workflow.Route(ctx, t, nil)
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
	}
	return out, err
}

// Change is the reporter's one change of a rating within 24 hours of giving
// it (PUT): the rating and comment change, whether they were satisfied
// cannot (the ticket was closed or reopened by it), and the statistics
// follow the new rating in the same commit. satisfied may be left out; when
// given it must agree with the rating. Errors: invalid_argument (rating,
// satisfied, comment), not_found (not the reporter's), conflict (no
// feedback, changed already, too late, or a change of satisfied).
func (f *Feedback) Change(ctx context.Context, u *model.User, id string, in FeedbackInput) (*model.Ticket, error) {
	if err := in.check(false); err != nil {
		return nil, err
	}
	out, err := f.workflow.Step(ctx, id, func(t *model.Ticket) error {
		if t.ReporterID != u.ID {
			return model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
		}
		if t.Feedback != nil && in.Satisfied != nil && *in.Satisfied != t.Feedback.Satisfied {
			if t.Feedback.Satisfied {
				return model.Errorf(model.CodeConflict, "这条上报已按“满意”结案，不能改为不满意；如问题仍未解决，请重新上报")
			}
			return model.Errorf(model.CodeConflict, "这条上报已按“不满意”返工，不能改为满意")
		}
		return t.ChangeRating(model.Act{At: f.now(), By: model.Actor{ID: u.ID, Role: model.RoleResident}}, in.Rating, in.Comment)
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
	}
	return out, err
}
