package ticket

import (
	"context"
	"errors"
	"strings"

	"github.com/citizen-city/chengguantong/model"
)

// The branches of the GB/T 30428 workflow — 延期, 挂账, 督办, 核查 — and the
// hotline channel. Each validates its input, then takes one step through
// the Workflow.

func staffActor(u *model.User) model.Actor { return model.Actor{ID: u.ID, Role: model.RoleStaff} }

// staffStep takes a staff step on ticket id; a ticket that does not exist
// is not_found in Chinese.
func (s *Tasks) staffStep(ctx context.Context, id string, change func(t *model.Ticket) error) (*model.Ticket, error) {
	t, err := s.workflow.Step(ctx, id, change)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有工单 %s", id)
	}
	return t, err
}

// RequestExtension is the assignee's 延期 request for hours (1..720) more
// working hours, with a reason. Errors: invalid_argument (hours, reason),
// not_found (not the caller's task), conflict (a request is pending, or the
// status allows none).
func (s *Tasks) RequestExtension(ctx context.Context, u *model.User, id string, hours int, reason string) (*model.Ticket, error) {
	if hours < 1 || hours > model.MaxExtensionHours {
		return nil, model.Invalid("hours", "延期时长必须是 1 到 %d 之间的整数小时，收到 %d", model.MaxExtensionHours, hours)
	}
	reason, err := model.TrimText("reason", reason, 200, false, "说明需要延期的原因")
	if err != nil {
		return nil, err
	}
	return s.step(ctx, u, id, func(t *model.Ticket, by model.Actor) error {
		return t.RequestExtension(model.Act{At: s.now(), By: by}, hours, reason)
	})
}

// DecideExtension is the staff's decision on a pending 延期 request:
// approved moves the deadline by its hours of working time. Errors:
// invalid_argument (note), not_found, conflict (nothing pending).
func (s *Tasks) DecideExtension(ctx context.Context, staff *model.User, id string, approve bool, note string) (*model.Ticket, error) {
	note, err := model.TrimText("note", note, 200, true, "")
	if err != nil {
		return nil, err
	}
	return s.staffStep(ctx, id, func(t *model.Ticket) error {
		return t.DecideExtension(model.Act{At: s.now(), By: staffActor(staff), Note: note}, approve, s.workflow.Calendar())
	})
}

// Defer is 挂账 with a reason: the handling clock stops, nothing but Resume
// is allowed. Errors: invalid_argument (reason), not_found, conflict.
func (s *Tasks) Defer(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error) {
	reason, err := model.TrimText("reason", reason, 200, false, "说明挂账的原因")
	if err != nil {
		return nil, err
	}
	return s.staffStep(ctx, id, func(t *model.Ticket) error {
		return t.Defer(model.Act{At: s.now(), By: staffActor(staff), Note: "挂账：" + reason}, s.workflow.Calendar())
	})
}

// Resume ends a 挂账: the ticket returns to the status it had with the
// working time it had left. Errors: not_found, conflict (not deferred).
func (s *Tasks) Resume(ctx context.Context, staff *model.User, id string) (*model.Ticket, error) {
	return s.staffStep(ctx, id, func(t *model.Ticket) error {
		return t.Resume(model.Act{At: s.now(), By: staffActor(staff), Note: "恢复办理"}, s.workflow.Calendar())
	})
}

// Urge is 督办 of an open ticket with a note; the assignee gets a subscribe
// message. Errors: invalid_argument (note), not_found, conflict.
func (s *Tasks) Urge(ctx context.Context, staff *model.User, id, note string) (*model.Ticket, error) {
	note, err := model.TrimText("note", note, 200, false, "写明督办要求")
	if err != nil {
		return nil, err
	}
	return s.staffStep(ctx, id, func(t *model.Ticket) error {
		return t.Urge(model.Act{At: s.now(), By: staffActor(staff), Note: note})
	})
}

// Verify is the staff's 核查 of a resolved ticket: passed closes it, failed
// sends it back (返工) to the same assignee with a fresh handling limit.
// Errors: invalid_argument (passed, note), not_found, conflict.
func (s *Tasks) Verify(ctx context.Context, staff *model.User, id string, passed *bool, note string) (*model.Ticket, error) {
	if passed == nil {
		return nil, model.Invalid("passed", "必须填写：true（核查通过）或 false（不通过，返工）")
	}
	note, err := model.TrimText("note", note, 200, *passed, "说明核查不通过的原因")
	if err != nil {
		return nil, err
	}
	return s.staffStep(ctx, id, func(t *model.Ticket) error {
		sla, err := s.workflow.SLA(ctx, t)
		if err != nil {
			return err
		}
		act := model.Act{At: s.now(), By: staffActor(staff)}
		if *passed {
			act.Note = strings.TrimSpace("核查通过，结案 " + note)
		} else {
			act.Note = "核查不通过，返工：" + note
		}
		return t.Verify(act, *passed, sla)
	})
}
