package model

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// hourCal is a calendar in which every hour is a working hour except
// 12:00–13:00 (so that working time and wall-clock time differ).
type hourCal struct{}

func (hourCal) working(t time.Time) bool { return t.Hour() != 12 }

func (c hourCal) Add(start time.Time, d time.Duration) time.Time {
	t := start
	for d > 0 {
		step := min(d, time.Minute)
		if c.working(t) {
			d -= step
		}
		t = t.Add(step)
	}
	return t
}

func (c hourCal) Between(from, to time.Time) time.Duration {
	var d time.Duration
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if c.working(t) {
			d += time.Minute
		}
	}
	return d
}

var (
	t0       = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	worker   = Actor{ID: "w1", Role: RoleGridWorker, Name: "张*"}
	worker2  = Actor{ID: "w2", Role: RoleGridWorker, Name: "李*"}
	member   = Actor{ID: "p1", Role: RolePartyMember, Name: "王*"}
	staff    = Actor{ID: "s1", Role: RoleStaff}
	resident = Actor{ID: "r1", Role: RoleResident}
	sla      = SLA{Hours: 8, Calendar: hourCal{}}
)

// fixture is a ticket in status s that meets every condition of et other
// than the status: in the pool for a claim, with an extension pending for
// a decision, past its deadline for an escalation …
func fixture(s Status, et EventType) *Ticket {
	t := &Ticket{ID: "t1", ReporterID: resident.ID, Category: "0101", Source: SourceWeChat, Status: s, Reporters: 1,
		CreatedAt: t0.Add(-3 * time.Hour), RegisteredAt: t0.Add(-2 * time.Hour), DueAt: t0.Add(6 * time.Hour),
		GridCode: "g1", Community: "c1"}
	switch s {
	case "":
		t.RegisteredAt, t.DueAt = time.Time{}, time.Time{}
	case StatusSubmitted:
		t.RegisteredAt, t.DueAt = time.Time{}, time.Time{}
	case StatusDispatched:
		t.AssigneeID, t.AssigneeRole, t.AcceptBy = worker.ID, worker.Role, t0.Add(time.Hour)
	case StatusInProgress:
		t.AssigneeID, t.AssigneeRole = worker.ID, worker.Role
	case StatusResolved, StatusClosed:
		t.AssigneeID, t.AssigneeRole = worker.ID, worker.Role
		t.Resolution = &Resolution{Note: "done", PhotoIDs: []string{"a"}, ResolvedAt: t0.Add(-time.Hour), ResolverID: worker.ID}
	case StatusDeferred:
		t.AssigneeID, t.AssigneeRole = worker.ID, worker.Role
		t.DeferredFrom, t.DeferredAt, t.DeferredLeft = StatusInProgress, t0.Add(-time.Hour), 3*time.Hour
	}
	switch et {
	case EventClaimed:
		t.Pool = true
	case EventExtensionApproved, EventExtensionDenied:
		t.Extension = &Extension{Status: ExtensionRequested, Hours: 8, Reason: "材料未到", RequestedAt: t0.Add(-time.Hour), RequestedBy: worker.ID}
	case EventEscalated:
		t.DueAt = t0.Add(-time.Minute)
	case EventReassigned:
		t.AcceptBy = t0.Add(-time.Minute)
	case EventRegistered, EventHeld, EventMerged:
	case EventSelfHandled:
		t.Source, t.ReporterID = SourcePatrol, worker.ID
	case EventRatingChanged:
		// Rated an hour ago: satisfied if closed, else reopened by it.
		t.Feedback = &Feedback{Satisfied: s == StatusClosed, Rating: 2, Comment: "慢", At: t0.Add(-time.Hour)}
		if t.Feedback.Satisfied {
			t.Feedback.Rating = 4
		}
	}
	// Steps by the assignee are refused by the status, not by who asks;
	// routing needs a ticket nobody holds.
	if t.AssigneeID == "" && (s != StatusPending || slices.Contains([]EventType{EventAccepted, EventReturned, EventExtensionRequested, EventResolved}, et)) {
		t.AssigneeID, t.AssigneeRole = worker.ID, worker.Role
	}
	if s != "" {
		t.Timeline = []Event{{At: t.CreatedAt, Type: EventReported, Status: StatusSubmitted}}
	}
	return t
}

// apply takes step et as its rightful actor would.
func apply(t *Ticket, et EventType) error {
	at := Act{At: t0, Note: "备注"}
	switch et {
	case EventReported:
		at.By = resident
		return t.Report(at)
	case EventHeld:
		return t.Hold(at)
	case EventRegistered:
		return t.Register(at, sla)
	case EventRejected:
		at.By = staff
		return t.Reject(at)
	case EventMerged:
		return t.Merge(at, "t0")
	case EventJoined:
		return t.Join(at, "t9", "r9")
	case EventQueued:
		return t.Route(at, Routing{GridCode: "g2", Community: "c2"})
	case EventDispatched:
		if t.Unrouted() {
			return t.Route(at, Routing{GridCode: "g2", Community: "c2", Assignee: worker2, AcceptBy: t0.Add(time.Hour)})
		}
		at.By = staff
		return t.Dispatch(at, worker2, t0.Add(time.Hour), sla)
	case EventAccepted:
		at.By = worker
		return t.Accept(at)
	case EventClaimed:
		at.By = member
		return t.Claim(at)
	case EventReturned:
		at.By = worker
		return t.Return(at, 3)
	case EventReassigned:
		return t.Reassign(at, worker.ID)
	case EventEscalated:
		return t.Escalate(at)
	case EventExtensionRequested:
		at.By = worker
		return t.RequestExtension(at, 8, "材料未到")
	case EventExtensionApproved:
		at.By = staff
		return t.DecideExtension(at, true, hourCal{})
	case EventExtensionDenied:
		at.By = staff
		return t.DecideExtension(at, false, hourCal{})
	case EventDeferred:
		at.By = staff
		return t.Defer(at, hourCal{})
	case EventResumed:
		at.By = staff
		return t.Resume(at, hourCal{})
	case EventUrged:
		at.By = staff
		return t.Urge(at)
	case EventResolved:
		at.By = worker
		return t.Resolve(at, []string{"b"}, nil)
	case EventSelfHandled:
		at.By = worker
		return t.SelfHandle(at, "g1", "c1", []string{"b"}, []string{"照片拍摄时间早于派遣"})
	case EventReopened:
		at.By = resident
		return t.Reopen(at, Feedback{Satisfied: false, Rating: 2}, sla)
	case EventVerified:
		at.By = staff
		return t.Verify(at, true, sla)
	case EventVerifyFailed:
		at.By = staff
		return t.Verify(at, false, sla)
	case EventClosed:
		return t.Close(at, time.Hour)
	case EventRatingChanged:
		at.By, at.Note = resident, ""
		rating := 1
		if t.Feedback != nil && t.Feedback.Satisfied {
			rating = 5
		}
		return t.ChangeRating(at, rating, "改评")
	}
	panic("no step for " + et)
}

// allowed is the state machine of docs/state-machine.md, written out again
// independently of the code's table.
var allowed = map[EventType][]Status{
	EventReported:           {""},
	EventHeld:               {StatusSubmitted},
	EventRegistered:         {StatusSubmitted},
	EventRejected:           {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventMerged:             {StatusSubmitted},
	EventJoined:             {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventQueued:             {StatusPending},
	EventDispatched:         {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventAccepted:           {StatusDispatched},
	EventClaimed:            {StatusPending, StatusDispatched},
	EventReturned:           {StatusDispatched, StatusInProgress},
	EventReassigned:         {StatusDispatched},
	EventEscalated:          {StatusPending, StatusDispatched, StatusInProgress},
	EventExtensionRequested: {StatusDispatched, StatusInProgress},
	EventExtensionApproved:  {StatusPending, StatusDispatched, StatusInProgress, StatusResolved},
	EventExtensionDenied:    {StatusPending, StatusDispatched, StatusInProgress, StatusResolved},
	EventDeferred:           {StatusPending, StatusDispatched, StatusInProgress},
	EventResumed:            {StatusDeferred},
	EventUrged:              {StatusPending, StatusDispatched, StatusInProgress},
	EventResolved:           {StatusInProgress},
	EventSelfHandled:        {StatusPending},
	EventReopened:           {StatusResolved},
	EventVerified:           {StatusResolved},
	EventVerifyFailed:       {StatusResolved},
	EventClosed:             {StatusResolved},
	EventRatingChanged:      {StatusPending, StatusDispatched, StatusInProgress, StatusDeferred, StatusResolved, StatusClosed},
}

// leaves checks the fields a step leaves on a ticket that was in status
// from; it returns what is wrong.
var leaves = map[EventType]func(from Status, t *Ticket) string{
	EventReported: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusSubmitted && t.Reporters == 1 && t.Source == SourceWeChat, "submitted, one reporter, wechat")
	},
	EventHeld: func(_ Status, t *Ticket) string {
		return want(t.Held && t.Status == StatusSubmitted, "held, submitted")
	},
	EventRegistered: func(_ Status, t *Ticket) string {
		// 8 working hours from 09:00 with 12:00–13:00 off: 18:00.
		return want(t.Status == StatusPending && t.RegisteredAt.Equal(t0) && t.DueAt.Equal(t0.Add(9*time.Hour)) && !t.Held,
			"pending, registered now, due 8 working hours later")
	},
	EventRejected: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusRejected && t.RejectReason == "备注" && t.AssigneeID == "" && !t.Pool && t.Queue == "", "rejected, reason, nobody holds it")
	},
	EventMerged: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusMerged && t.DuplicateOf == "t0", "merged into t0")
	},
	EventJoined: func(from Status, t *Ticket) string {
		return want(t.Status == from && t.Reporters == 2 && slices.Equal(t.MergedIDs, []string{"t9"}) && slices.Equal(t.Followers, []string{"r9"}),
			"unchanged status, two reporters, a follower")
	},
	EventQueued: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusPending && t.Queue == QueueStaff && t.GridCode == "g2" && t.AssigneeID == "", "pending in the staff queue, located")
	},
	EventDispatched: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusDispatched && t.AssigneeID == worker2.ID && t.AcceptBy.Equal(t0.Add(time.Hour)) && t.Queue == "" &&
			!t.Pool && !t.RegisteredAt.IsZero() && !t.DueAt.IsZero() && !t.Held, "dispatched to w2 with an accept deadline, registered")
	},
	EventAccepted: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusInProgress && t.AcceptBy.IsZero() && t.AssigneeID == worker.ID, "in progress, no accept deadline")
	},
	EventClaimed: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusInProgress && t.AssigneeID == member.ID && t.AssigneeRole == RolePartyMember && !t.Pool, "the member's, in progress")
	},
	EventReturned: func(_ Status, t *Ticket) string {
		return want(t.Unrouted() && t.Returns == 1 && slices.Contains(t.ReturnedBy, worker.ID), "unrouted, one return, avoiding w1")
	},
	EventReassigned: func(_ Status, t *Ticket) string {
		return want(t.Unrouted() && t.Returns == 0 && slices.Contains(t.ReturnedBy, worker.ID), "unrouted, avoiding w1")
	},
	EventEscalated: func(from Status, t *Ticket) string {
		return want(t.Status == from && t.Escalated && t.Overdue, "escalated and overdue")
	},
	EventExtensionRequested: func(from Status, t *Ticket) string {
		return want(t.Status == from && t.Extension != nil && t.Extension.Status == ExtensionRequested && t.Extension.Hours == 8 &&
			t.DueAt.Equal(t0.Add(6*time.Hour)), "an 8-hour request, deadline unchanged")
	},
	EventExtensionApproved: func(from Status, t *Ticket) string {
		// 15:00 + 8 working hours, 12:00 off only on a new day: 23:00.
		return want(t.Status == from && t.Extension.Status == ExtensionApproved && t.DueAt.Equal(t0.Add(14*time.Hour)),
			"approved, deadline 8 working hours later")
	},
	EventExtensionDenied: func(from Status, t *Ticket) string {
		return want(t.Status == from && t.Extension.Status == ExtensionDenied && t.DueAt.Equal(t0.Add(6*time.Hour)), "denied, deadline unchanged")
	},
	EventDeferred: func(from Status, t *Ticket) string {
		// 09:00 to 15:00 less 12:00–13:00: 5 working hours left.
		return want(t.Status == StatusDeferred && t.DeferredFrom == from && t.DeferredLeft == 5*time.Hour, "deferred with 5 h left")
	},
	EventResumed: func(_ Status, t *Ticket) string {
		// 3 working hours from 09:00: 12:00.
		return want(t.Status == StatusInProgress && t.DueAt.Equal(t0.Add(3*time.Hour)) && t.DeferredFrom == "" && t.DeferredLeft == 0,
			"back in progress, due in the 3 h it had left")
	},
	EventUrged: func(from Status, t *Ticket) string {
		return want(t.Status == from && t.Urges == 1, "one urge, status unchanged")
	},
	EventResolved: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusResolved && t.Resolution != nil && t.Resolution.ResolvedAt.Equal(t0) && t.Resolution.ResolverID == worker.ID,
			"resolved now by w1")
	},
	EventSelfHandled: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusResolved && t.SelfHandled && t.AssigneeID == worker.ID && t.Resolution != nil && len(t.PhotoFlags) == 1,
			"resolved by its reporter, self-handled, flagged")
	},
	EventReopened: func(_ Status, t *Ticket) string {
		return want(t.Unrouted() && t.Reopens == 1 && t.Resolution == nil && t.Feedback != nil && !t.Feedback.Satisfied &&
			t.DueAt.Equal(t0.Add(9*time.Hour)), "unrouted, reopened once, fresh deadline")
	},
	EventVerified: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusClosed && t.ClosedAt().Equal(t0) && t.Resolution != nil, "closed now, resolution kept")
	},
	EventVerifyFailed: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusInProgress && t.AssigneeID == worker.ID && t.VerifyFails == 1 && t.Resolution == nil,
			"back in progress with the same assignee")
	},
	EventClosed: func(_ Status, t *Ticket) string {
		return want(t.Status == StatusClosed && t.ClosedAt().Equal(t0), "closed now")
	},
	EventRatingChanged: func(from Status, t *Ticket) string {
		fb := t.Feedback
		return want(t.Status == from && fb != nil && fb.Comment == "改评" && fb.At.Equal(t0.Add(-time.Hour)) &&
			(fb.Satisfied && fb.Rating == 5 || !fb.Satisfied && fb.Rating == 1),
			"status unchanged, the new rating on the same side, given at the old time")
	},
}

func want(ok bool, what string) string {
	if ok {
		return ""
	}
	return "want " + what
}

// TestStateMachine takes every step in every status: an allowed one leaves
// the fields the workflow says and appends its event; a refused one is a
// conflict in Chinese and changes nothing.
func TestStateMachine(t *testing.T) {
	statuses := append([]Status{""}, Statuses...)
	for _, et := range EventTypes {
		if _, ok := allowed[et]; !ok {
			t.Errorf("event %s is missing from the test's table", et)
		}
		if et.Stage() == "" {
			t.Errorf("event %s has no GB/T 30428 stage", et)
		}
		for _, s := range statuses {
			tk := fixture(s, et)
			before := *tk
			before.Timeline = slices.Clone(tk.Timeline)
			err := apply(tk, et)
			ok := slices.Contains(allowed[et], s)
			if CanApply(et, s) != ok {
				t.Errorf("CanApply(%s, %q) = %v, the table says %v", et, s, !ok, ok)
			}
			switch {
			case ok && err != nil:
				t.Errorf("%s in %q: %v", et, s, err)
			case ok:
				if msg := leaves[et](s, tk); msg != "" {
					t.Errorf("%s in %q: %s; got %+v", et, s, msg, tk)
				}
				if len(tk.Timeline) <= len(before.Timeline) {
					t.Errorf("%s in %q appended no event", et, s)
				} else if ev := tk.Timeline[len(before.Timeline)]; ev.Type != et &&
					!(et == EventDispatched && s == StatusSubmitted && ev.Type == EventRegistered) {
					t.Errorf("%s in %q appended a %s event", et, s, ev.Type)
				}
				if last := tk.Timeline[len(tk.Timeline)-1]; last.Status != tk.Status || !tk.UpdatedAt.Equal(t0) {
					t.Errorf("%s in %q: last event status %s, ticket %s, updated %v", et, s, last.Status, tk.Status, tk.UpdatedAt)
				}
			default:
				if err == nil {
					t.Errorf("%s in %q was allowed", et, s)
					continue
				}
				if !errors.Is(err, ErrConflict) {
					t.Errorf("%s in %q: %v, want conflict", et, s, err)
				}
				if e := (*Error)(nil); !errors.As(err, &e) || !hasHan(e.Message) {
					t.Errorf("%s in %q: message %q is not Chinese", et, s, err)
				}
				if tk.Status != before.Status || len(tk.Timeline) != len(before.Timeline) || tk.AssigneeID != before.AssigneeID ||
					!tk.DueAt.Equal(before.DueAt) || tk.Urges != before.Urges {
					t.Errorf("%s in %q was refused but changed the ticket", et, s)
				}
			}
		}
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// TestStepConditions: the conditions the status alone does not decide.
func TestStepConditions(t *testing.T) {
	conflict := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v, want conflict", name, err)
		}
	}
	tk := fixture(StatusInProgress, EventExtensionRequested)
	if err := tk.RequestExtension(Act{At: t0, By: worker}, 8, "x"); err != nil {
		t.Fatal(err)
	}
	conflict("second extension request", tk.RequestExtension(Act{At: t0, By: worker}, 4, "y"))
	if err := tk.DecideExtension(Act{At: t0, By: staff}, false, nil); err != nil {
		t.Fatal(err)
	}
	conflict("decision with nothing pending", tk.DecideExtension(Act{At: t0, By: staff}, true, nil))
	if err := tk.RequestExtension(Act{At: t0, By: worker}, 4, "y"); err != nil {
		t.Errorf("a new request after a decision: %v", err)
	}
	for _, h := range []int{0, 721, -1} {
		if err := fixture(StatusInProgress, "").RequestExtension(Act{At: t0, By: worker}, h, "x"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("hours %d: %v, want invalid_argument", h, err)
		}
	}
	if err := fixture(StatusInProgress, "").RequestExtension(Act{At: t0, By: worker2}, 8, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("someone else's extension: %v, want not_found", err)
	}
	conflict("claim out of the pool", fixture(StatusPending, "").Claim(Act{At: t0, By: member}))
	conflict("escalation before the deadline", fixture(StatusInProgress, "").Escalate(Act{At: t0}))
	conflict("reassign before the accept deadline", fixture(StatusDispatched, "").Reassign(Act{At: t0}, worker.ID))
	conflict("close in the feedback window", fixture(StatusResolved, "").Close(Act{At: t0}, 24*time.Hour))
	conflict("self-handling a resident's report", fixture(StatusPending, "").SelfHandle(Act{At: t0, By: worker}, "g", "c", nil, nil))
	conflict("route an assigned ticket", fixture(StatusDispatched, "").Route(Act{At: t0}, Routing{Assignee: worker2}))

	// Deferred: nothing but resume.
	d := fixture(StatusInProgress, "")
	if err := d.Defer(Act{At: t0, By: staff, Note: "等待预算"}, hourCal{}); err != nil {
		t.Fatal(err)
	}
	err := d.Resolve(Act{At: t0, By: worker}, []string{"b"}, nil)
	conflict("resolve while deferred", err)
	if !strings.Contains(err.Error(), "挂账") {
		t.Errorf("message %q does not say the ticket is deferred", err)
	}

	// Too many returns go to staff.
	r := fixture(StatusInProgress, "")
	r.Returns = 3
	if err := r.Return(Act{At: t0, By: worker, Note: "不归我管"}, 3); err != nil {
		t.Fatal(err)
	}
	if r.Queue != QueueStaff || r.Status != StatusPending || r.Timeline[len(r.Timeline)-1].Type != EventQueued {
		t.Errorf("fourth return: queue %q status %s", r.Queue, r.Status)
	}

	// An approved extension lifts the overdue mark when the new deadline is
	// ahead, and on-time is judged against it.
	o := fixture(StatusInProgress, EventEscalated)
	if err := o.Escalate(Act{At: t0}); err != nil {
		t.Fatal(err)
	}
	_ = o.RequestExtension(Act{At: t0, By: worker}, 8, "x")
	if err := o.DecideExtension(Act{At: t0, By: staff}, true, nil); err != nil {
		t.Fatal(err)
	}
	if o.Escalated || o.Overdue || !o.DueAt.After(t0) {
		t.Errorf("approved extension: escalated %v overdue %v due %v", o.Escalated, o.Overdue, o.DueAt)
	}
	if err := o.Resolve(Act{At: t0.Add(time.Hour), By: worker, Note: "ok"}, []string{"b"}, nil); err != nil {
		t.Fatal(err)
	}
	if !o.OnTime() {
		t.Error("resolved within the approved deadline is not on time")
	}
}

// TestStages: every event type carries its GB/T 30428 name.
func TestStages(t *testing.T) {
	names := map[string]bool{}
	for _, et := range EventTypes {
		names[et.Stage()] = true
	}
	for _, n := range []string{"信息采集", "立案", "派遣", "处置", "反馈", "核查", "结案", "评价", "延期", "挂账", "督办", "返工"} {
		if !names[n] {
			t.Errorf("no event is %s", n)
		}
	}
}

// docTable is the status × event table of docs/state-machine.md, made from
// the test's table: ✓ where the step is allowed.
func docTable() string {
	var b strings.Builder
	b.WriteString("| event | stage |")
	statuses := append([]Status{""}, Statuses...)
	for _, s := range statuses {
		if s == "" {
			b.WriteString(" (new) |")
		} else {
			b.WriteString(" " + string(s) + " |")
		}
	}
	b.WriteString("\n|---|---|")
	for range statuses {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, et := range EventTypes {
		b.WriteString("| `" + string(et) + "` | " + et.Stage() + " |")
		for _, s := range statuses {
			if slices.Contains(allowed[et], s) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestStateMachineDoc: docs/state-machine.md holds the same table as the
// code and this test.
func TestStateMachineDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/state-machine.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := docTable(); !strings.Contains(string(doc), want) {
		t.Errorf("docs/state-machine.md does not hold the state machine's table; it should contain:\n%s", want)
	}
}
