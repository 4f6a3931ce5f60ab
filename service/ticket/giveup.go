package ticket

import (
	"context"
	"errors"
	"fmt"

	"github.com/citizen-city/chengguantong/model"
)

// What happens to a queue job that keeps failing (docs/queues.md): after its
// last attempt the ticket it serves becomes staff-visible work with a state,
// never a silent dead letter. Screening holds the report for staff review;
// dispatch puts the ticket in the staff's manual-dispatch queue. Both are
// transitions committed like any other, so a job delivered again afterwards
// (WeChat back, a reclaim) finds nothing left to do.

// checkError marks a failure of WeChat's content security, whose message
// (from the wechat edge, in Chinese, with WeChat's errcode) is the reason a
// held report shows staff.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// holdReason is the Chinese note of the held event: what stopped screening.
func holdReason(cause error) string {
	var ce *checkError
	var me *model.Error
	switch {
	case errors.As(cause, &ce) && errors.As(ce.err, &me) && me.Message != "":
		return "内容安全审核多次未能完成（" + me.Message + "），已转人工审核"
	case errors.As(cause, &ce):
		return "内容安全审核多次未能完成（微信内容安全接口调用失败），已转人工审核"
	case errors.Is(cause, context.DeadlineExceeded):
		return "内容安全审核多次超时未能完成，已转人工审核"
	}
	return "内容安全审核多次未能完成（系统暂时不可用），已转人工审核"
}

// Hold puts a report whose screening failed its last attempt in front of
// staff: held, with a held event naming the reason; staff release it by
// dispatching or rejecting it. A report screened meanwhile, or already held,
// is left as it is. Errors: those of the store (the job is then retried).
func (s *Screening) Hold(ctx context.Context, ticketID string, cause error) error {
	reason := holdReason(cause)
	held := false
	_, err := s.workflow.Step(ctx, ticketID, func(t *model.Ticket) error {
		held = false
		if t.Status != model.StatusSubmitted || t.Held {
			return errUnchanged
		}
		held = true
		return t.Hold(model.Act{At: s.now(), Note: reason})
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hold %s: %w", ticketID, err)
	}
	if held {
		s.logger.WarnContext(ctx, "report held for staff: screening kept failing", "ticket", ticketID, "reason", reason)
	}
	return nil
}

// noteDispatchFailed is the timeline note of a ticket whose routing kept
// failing.
const noteDispatchFailed = "自动派遣多次失败，转人工派遣"

// ToStaff puts a ticket whose routing failed its last attempt in the staff's
// manual-dispatch queue. A ticket routed meanwhile is left as it is.
// Errors: those of the store (the job is then retried).
func (d *Dispatcher) ToStaff(ctx context.Context, ticketID string, cause error) error {
	queued := false
	_, err := d.workflow.Step(ctx, ticketID, func(t *model.Ticket) error {
		queued = false
		if !t.Unrouted() {
			return errUnchanged
		}
		queued = true
		return t.Route(model.Act{At: d.now(), Note: noteDispatchFailed}, model.Routing{GridCode: t.GridCode, Community: t.Community})
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("to staff %s: %w", ticketID, err)
	}
	if queued {
		d.logger.WarnContext(ctx, "ticket queued for staff: routing kept failing", "ticket", ticketID, "error", cause.Error())
	}
	return nil
}
