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
