package model

import (
	"fmt"
	"slices"
	"time"
)

// This file is the whole workflow of a ticket (GB/T 30428: 信息采集 → 立案 →
// 派遣 → 处置 → 反馈 → 核查 → 结案, with 延期, 挂账, 督办 and 返工): a method for
// each step someone (or a timer) takes — Register, Route, Dispatch, Accept …
// — some of which record the same event (routing and a staff's dispatch
// both record dispatched; docs/state-machine.md maps each event to the
// methods that record it). Each checks that the step is allowed in the ticket's status, sets the
// new status and every field the step changes, computes the deadline where
// the step moves it, and appends the step's event. A step that is not
// allowed is a conflict and changes nothing. Services call these methods and
// commit the result; they set no status or side field themselves.
// docs/state-machine.md is the same table in prose; model's table test holds
// every (status, event) pair.

// Calendar counts working time (the bureau's work calendar, see package
// workcal): deadlines are working hours, not wall-clock hours.
type Calendar interface {
	// Add returns the instant d of working time after start.
	Add(start time.Time, d time.Duration) time.Time
	// Between returns the working time in [from, to).
	Between(from, to time.Time) time.Duration
}

// addWork is cal.Add, or wall-clock time without a calendar.
func addWork(cal Calendar, start time.Time, d time.Duration) time.Time {
	if cal == nil {
		return start.Add(d)
	}
	return cal.Add(start, d)
}

// workBetween is cal.Between, or wall-clock time without a calendar.
func workBetween(cal Calendar, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if cal == nil {
		return to.Sub(from)
	}
	return cal.Between(from, to)
}

// SLA is a category's handling limit (处置时限) in working hours and the
// calendar it is counted in. The deadline rule lives in one place: a
// ticket's handling clock starts at registration (and again at a 返工) and
// runs for Hours of working time.
type SLA struct {
	Hours    int
	Calendar Calendar
}

// due is the deadline of a clock started at start.
func (s SLA) due(start time.Time) time.Time {
	if s.Hours <= 0 {
		return time.Time{}
	}
	return addWork(s.Calendar, start, time.Duration(s.Hours)*time.Hour)
}

// Actor is who takes a step: a user in a role, with the masked name a
// resident's timeline may show. The zero Actor is the system.
type Actor struct {
	ID   string
	Role Role
	Name string
}

// Act is one step's when, who and note (the note is shown in the timeline).
type Act struct {
	At   time.Time
	By   Actor
	Note string
}

// ExtensionStatus is where a 延期 request is.
type ExtensionStatus string

// The states of an extension request.
const (
	ExtensionRequested ExtensionStatus = "requested"
	ExtensionApproved  ExtensionStatus = "approved"
	ExtensionDenied    ExtensionStatus = "denied"
)

// MaxExtensionHours bounds one 延期 request (30 days of working hours).
const MaxExtensionHours = 720

// Extension is a 延期 request: the assignee asks for more working hours,
// staff approve or deny.
type Extension struct {
	Status      ExtensionStatus
	Hours       int
	Reason      string
	RequestedAt time.Time
	RequestedBy string
	DecidedAt   time.Time
	DecidedBy   string
	Note        string
}

// Routing is where routing decided a ticket goes.
type Routing struct {
	GridCode, Community string
	// Assignee is the grid worker it goes to; the zero Actor sends it to the
	// staff's queue.
	Assignee Actor
	AcceptBy time.Time
	// Pool offers it to the community's party members too.
	Pool bool
}

// transitions lists, for each event, the statuses it may happen in. The
// methods below add the conditions a status alone does not decide (an
// extension pending, a ticket in the pool, a deadline passed).
var transitions = map[EventType][]Status{
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

// CanApply reports whether an event of type et may happen to a ticket in
// status s, as far as the status decides.
func CanApply(et EventType, s Status) bool {
	return slices.Contains(transitions[et], s)
}

// eventLabels are the steps in Chinese: the one word for each, in the
// timeline, the console (GET /api/v1/labels), the exports and the conflict
// messages ("不能派遣").
var eventLabels = map[EventType]string{
	EventReported: "上报", EventHeld: "转人工审核", EventRegistered: "立案", EventRejected: "不予立案",
	EventMerged: "合并", EventJoined: "并入", EventQueued: "转人工派遣", EventDispatched: "派遣", EventAccepted: "接单",
	EventClaimed: "认领", EventReturned: "退回", EventReassigned: "改派", EventEscalated: "超期升级",
	EventExtensionRequested: "申请延期", EventExtensionApproved: "批准延期", EventExtensionDenied: "驳回延期",
	EventDeferred: "挂账", EventResumed: "恢复办理", EventUrged: "督办", EventResolved: "办结", EventSelfHandled: "自处置",
	EventReopened: "返工", EventVerified: "核查通过", EventVerifyFailed: "核查不通过", EventClosed: "结案",
	EventRatingChanged: "修改评价",
}

// Label is the event as a step in Chinese (办结, 督办, 超期升级 …).
func (e EventType) Label() string {
	if n, ok := eventLabels[e]; ok {
		return n
	}
	return string(e)
}

// StepName is Label: the step's name in a message.
func (e EventType) StepName() string { return e.Label() }

// refuse is the conflict of a step the status does not allow.
func (t *Ticket) refuse(et EventType) error {
	if t.Status == StatusDeferred {
		return Errorf(CodeConflict, "工单已挂账，不能%s；请先恢复办理（resume）", et.StepName())
	}
	return Errorf(CodeConflict, "工单当前状态为“%s”（%s），不能%s", t.Status.Label(), t.Status, et.StepName())
}

// check refuses et unless the status allows it.
func (t *Ticket) check(et EventType) error {
	if !CanApply(et, t.Status) {
		return t.refuse(et)
	}
	return nil
}

// record appends the step's event and moves the ticket to status (unchanged
// when empty).
func (t *Ticket) record(et EventType, status Status, a Act) {
	if status == "" {
		status = t.Status
	}
	t.Timeline = append(t.Timeline, Event{At: a.At, Type: et, Status: status, ActorID: a.By.ID, ActorRole: a.By.Role,
		ActorName: a.By.Name, Note: a.Note, AssigneeID: t.AssigneeID})
	t.Status = status
	t.UpdatedAt = a.At
}

// unassign clears who holds the ticket and how it is offered.
func (t *Ticket) unassign() {
	t.AssigneeID, t.AssigneeRole, t.AcceptBy, t.Queue, t.Pool = "", "", time.Time{}, "", false
}

// Unrouted reports whether the ticket waits for routing: registered, not
// assigned, not queued for staff, not offered to the pool.
func (t *Ticket) Unrouted() bool {
	return t.Status == StatusPending && t.AssigneeID == "" && t.Queue == "" && !t.Pool
}

// Report starts a new ticket's life (信息采集): status submitted.
func (t *Ticket) Report(a Act) error {
	if t.Status != "" || len(t.Timeline) > 0 {
		return Errorf(CodeConflict, "工单已提交，不能重复提交")
	}
	if t.Reporters == 0 {
		t.Reporters = 1
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = a.At
	}
	if t.Source == "" {
		t.Source = SourceWeChat
	}
	t.record(EventReported, StatusSubmitted, a)
	return nil
}

// ReportHandledOnSite starts a patrol case its reporter, a grid worker,
// has handled on the spot (自处置): reported like any ticket, with the
// handling (note, "after" photos) kept until registration resolves it (see
// SelfHandle).
func (t *Ticket) ReportHandledOnSite(a Act, note string, photoIDs []string) error {
	t.Source = SourcePatrol
	if err := t.Report(a); err != nil {
		return err
	}
	t.SelfHandled = true
	t.Resolution = &Resolution{Note: note, PhotoIDs: photoIDs, ResolverID: a.By.ID}
	return nil
}

// Hold puts a submitted ticket in front of staff for a content review; it
// stays submitted. Conflict if it is held already.
func (t *Ticket) Hold(a Act) error {
	if err := t.check(EventHeld); err != nil {
		return err
	}
	if t.Held {
		return Errorf(CodeConflict, "工单已在人工审核中")
	}
	t.Held = true
	t.record(EventHeld, "", a)
	return nil
}

// Register is 立案: a screened report becomes a ticket, pending, and its
// handling clock starts.
func (t *Ticket) Register(a Act, sla SLA) error {
	if err := t.check(EventRegistered); err != nil {
		return err
	}
	t.register(a.At, sla)
	t.record(EventRegistered, StatusPending, a)
	return nil
}

func (t *Ticket) register(at time.Time, sla SLA) {
	t.Held = false
	if t.RegisteredAt.IsZero() {
		t.RegisteredAt = at
	}
	if t.DueAt.IsZero() {
		t.DueAt = sla.due(t.RegisteredAt)
	}
}

// Reject refuses a ticket (不予立案), by screening or staff, with the reason
// in a.Note; nobody holds it any more. Final.
func (t *Ticket) Reject(a Act) error {
	if err := t.check(EventRejected); err != nil {
		return err
	}
	t.RejectReason = a.Note
	t.unassign()
	t.Held = false
	t.record(EventRejected, StatusRejected, a)
	return nil
}

// Merge marks a submitted report a duplicate of the open ticket into.
func (t *Ticket) Merge(a Act, into string) error {
	if err := t.check(EventMerged); err != nil {
		return err
	}
	if into == "" || into == t.ID {
		return Errorf(CodeInvalidArgument, "duplicate_of: 必须是另一张工单")
	}
	t.DuplicateOf = into
	t.Held = false
	t.record(EventMerged, StatusMerged, a)
	return nil
}

// Join records that the report mergedID, by reporterID, joined this open
// ticket; its reporter follows this one. Conflict if it joined already.
func (t *Ticket) Join(a Act, mergedID, reporterID string) error {
	if err := t.check(EventJoined); err != nil {
		return err
	}
	if slices.Contains(t.MergedIDs, mergedID) {
		return Errorf(CodeConflict, "反映 %s 已并入本工单", mergedID)
	}
	t.MergedIDs = append(t.MergedIDs, mergedID)
	if reporterID != t.ReporterID && !slices.Contains(t.Followers, reporterID) {
		t.Followers = append(t.Followers, reporterID)
	}
	t.Reporters++
	if a.Note == "" {
		a.Note = fmt.Sprintf("又有1位居民反映此问题（共%d位）", t.Reporters)
	}
	t.record(EventJoined, "", a)
	return nil
}

// Route is routing's decision for an unrouted ticket: to a grid worker
// (派遣, dispatched, with an accept deadline) or, with no assignee, to the
// staff's queue (pending). Either way it may be offered to the pool.
func (t *Ticket) Route(a Act, r Routing) error {
	if !t.Unrouted() {
		if t.Status != StatusPending {
			return t.refuse(EventDispatched)
		}
		return Errorf(CodeConflict, "工单已分派，不需要再次派遣")
	}
	t.GridCode, t.Community, t.Pool = r.GridCode, r.Community, r.Pool
	if r.Assignee.ID == "" {
		t.Queue = QueueStaff
		t.record(EventQueued, StatusPending, a)
		return nil
	}
	t.AssigneeID, t.AssigneeRole, t.AcceptBy = r.Assignee.ID, r.Assignee.Role, r.AcceptBy
	t.record(EventDispatched, StatusDispatched, a)
	return nil
}

// Dispatch assigns the ticket by hand (staff): to a worker or party member,
// including a ticket held for review (which is registered by it) or one
// already assigned to someone else. Conflict if it is that person's already.
func (t *Ticket) Dispatch(a Act, to Actor, acceptBy time.Time, sla SLA) error {
	if err := t.check(EventDispatched); err != nil {
		return err
	}
	if to.ID == "" {
		return Errorf(CodeInvalidArgument, "assignee_id: 必须指定处置人")
	}
	if to.ID == t.AssigneeID && (t.Status == StatusDispatched || t.Status == StatusInProgress) {
		return Errorf(CodeConflict, "工单已由该处置人办理")
	}
	if t.Status == StatusSubmitted {
		// A report held for review is registered (立案) on the staff's word
		// by the dispatch itself: both events, one transition.
		t.register(a.At, sla)
		t.record(EventRegistered, StatusPending, Act{At: a.At, By: a.By, Note: "人工审核通过，立案"})
	}
	t.register(a.At, sla)
	t.AssigneeID, t.AssigneeRole, t.AcceptBy, t.Queue, t.Pool = to.ID, to.Role, acceptBy, "", false
	t.record(EventDispatched, StatusDispatched, a)
	return nil
}

// holds refuses a step by someone who does not hold the ticket: to them it
// does not exist.
func (t *Ticket) holds(by Actor) error {
	if by.ID == "" || by.ID != t.AssigneeID {
		return Errorf(CodeNotFound, "没有这项任务")
	}
	return nil
}

// Accept starts the assignee's work (接单): in progress.
func (t *Ticket) Accept(a Act) error {
	if err := t.holds(a.By); err != nil {
		return err
	}
	if err := t.check(EventAccepted); err != nil {
		return err
	}
	t.AcceptBy, t.Pool, t.Queue = time.Time{}, false, ""
	t.record(EventAccepted, StatusInProgress, a)
	return nil
}

// Claim gives a pool ticket to the party member a.By: in progress. Conflict
// when it is no longer in the pool (someone was faster).
func (t *Ticket) Claim(a Act) error {
	if err := t.check(EventClaimed); err != nil {
		return err
	}
	if !t.Pool {
		return Errorf(CodeConflict, "这项任务已被他人认领")
	}
	t.AssigneeID, t.AssigneeRole, t.AcceptBy, t.Pool, t.Queue = a.By.ID, a.By.Role, time.Time{}, false, ""
	t.record(EventClaimed, StatusInProgress, a)
	return nil
}

// Return gives the ticket back (退回) with the reason in a.Note: it waits
// for routing again, avoiding who returned it — or, past maxReturns, for
// staff (queued).
func (t *Ticket) Return(a Act, maxReturns int) error {
	if err := t.holds(a.By); err != nil {
		return err
	}
	if err := t.check(EventReturned); err != nil {
		return err
	}
	t.Returns++
	if !slices.Contains(t.ReturnedBy, a.By.ID) {
		t.ReturnedBy = append(t.ReturnedBy, a.By.ID)
	}
	t.record(EventReturned, StatusPending, a)
	t.unassign()
	if t.Returns > maxReturns {
		t.Queue = QueueStaff
		t.record(EventQueued, StatusPending, Act{At: a.At, Note: "多次退回，转人工派遣"})
	}
	return nil
}

// Reassign takes a ticket from an assignee who did not accept it by its
// accept deadline (改派): it waits for routing again, avoiding them.
// Conflict if assignee no longer holds it or the deadline has not passed.
func (t *Ticket) Reassign(a Act, assignee string) error {
	if err := t.check(EventReassigned); err != nil {
		return err
	}
	if t.AssigneeID != assignee || t.AcceptBy.IsZero() || a.At.Before(t.AcceptBy) {
		return Errorf(CodeConflict, "接单时限未到或已改派")
	}
	if !slices.Contains(t.ReturnedBy, assignee) {
		t.ReturnedBy = append(t.ReturnedBy, assignee)
	}
	t.record(EventReassigned, StatusPending, a)
	t.unassign()
	return nil
}

// Escalate marks an open ticket past its deadline overdue (超期, put in front
// of staff); the assignee keeps it. Conflict before the deadline or when it
// was escalated already.
func (t *Ticket) Escalate(a Act) error {
	if err := t.check(EventEscalated); err != nil {
		return err
	}
	if t.Escalated || t.DueAt.IsZero() || a.At.Before(t.DueAt) {
		return Errorf(CodeConflict, "工单未超过处置时限或已升级")
	}
	t.Escalated, t.Overdue = true, true
	t.record(EventEscalated, "", a)
	return nil
}

// RequestExtension is the assignee's 延期 request for hours (1..720) more
// working hours. Conflict while an earlier request waits for a decision.
func (t *Ticket) RequestExtension(a Act, hours int, reason string) error {
	if err := t.holds(a.By); err != nil {
		return err
	}
	if err := t.check(EventExtensionRequested); err != nil {
		return err
	}
	if hours < 1 || hours > MaxExtensionHours {
		return Invalid("hours", "延期时长必须是 1 到 %d 之间的整数小时，收到 %d", MaxExtensionHours, hours)
	}
	if t.Extension != nil && t.Extension.Status == ExtensionRequested {
		return Errorf(CodeConflict, "已有一项延期申请（%d 小时）等待审批，不能重复申请", t.Extension.Hours)
	}
	t.Extension = &Extension{Status: ExtensionRequested, Hours: hours, Reason: reason, RequestedAt: a.At, RequestedBy: a.By.ID}
	if a.Note == "" {
		a.Note = fmt.Sprintf("申请延期 %d 小时：%s", hours, reason)
	}
	t.record(EventExtensionRequested, "", a)
	return nil
}

// DecideExtension is the staff's decision on the pending 延期 request:
// approved moves the deadline by its hours of working time (and, if that
// puts the deadline ahead again, lifts the overdue mark); denied leaves it.
// Conflict when nothing is pending.
func (t *Ticket) DecideExtension(a Act, approve bool, cal Calendar) error {
	et := EventExtensionDenied
	if approve {
		et = EventExtensionApproved
	}
	if err := t.check(et); err != nil {
		return err
	}
	if t.Extension == nil || t.Extension.Status != ExtensionRequested {
		return Errorf(CodeConflict, "没有待审批的延期申请")
	}
	x := *t.Extension
	x.DecidedAt, x.DecidedBy, x.Note = a.At, a.By.ID, a.Note
	if approve {
		x.Status = ExtensionApproved
		base := t.DueAt
		if base.IsZero() {
			base = a.At
		}
		t.DueAt = addWork(cal, base, time.Duration(x.Hours)*time.Hour)
		if t.Escalated && t.DueAt.After(a.At) {
			t.Escalated, t.Overdue = false, false
		}
		if a.Note == "" {
			a.Note = fmt.Sprintf("批准延期 %d 小时", x.Hours)
		}
	} else {
		x.Status = ExtensionDenied
		if a.Note == "" {
			a.Note = "驳回延期申请"
		}
	}
	t.Extension = &x
	t.record(et, "", a)
	return nil
}

// Defer is 挂账 (staff, reason in a.Note): the handling clock stops with the
// working time left to the deadline kept, and no step but Resume is allowed.
func (t *Ticket) Defer(a Act, cal Calendar) error {
	if err := t.check(EventDeferred); err != nil {
		return err
	}
	t.DeferredFrom, t.DeferredAt = t.Status, a.At
	t.DeferredLeft = 0
	if !t.DueAt.IsZero() {
		t.DeferredLeft = workBetween(cal, a.At, t.DueAt)
	}
	t.record(EventDeferred, StatusDeferred, a)
	return nil
}

// Resume ends a 挂账: the ticket returns to the status it had, its deadline
// the working time it had left from now, and its accept deadline shifted by
// the time it was deferred.
func (t *Ticket) Resume(a Act, cal Calendar) error {
	if err := t.check(EventResumed); err != nil {
		return err
	}
	if !t.DueAt.IsZero() && !t.Escalated {
		t.DueAt = addWork(cal, a.At, t.DeferredLeft)
	}
	if !t.AcceptBy.IsZero() && a.At.After(t.DeferredAt) {
		t.AcceptBy = t.AcceptBy.Add(a.At.Sub(t.DeferredAt))
	}
	back := t.DeferredFrom
	if back == "" {
		back = StatusPending
	}
	t.DeferredFrom, t.DeferredAt, t.DeferredLeft = "", time.Time{}, 0
	t.record(EventResumed, back, a)
	return nil
}

// Urge is 督办 by staff on an open ticket, with the note for the assignee.
func (t *Ticket) Urge(a Act) error {
	if err := t.check(EventUrged); err != nil {
		return err
	}
	t.Urges++
	t.record(EventUrged, "", a)
	return nil
}

// Resolve is the assignee's report that the work is done (处置, 反馈), with
// the note in a.Note, the "after" photos, and the reasons those photos want
// a 核查 (flags; none when they look credible): resolved.
func (t *Ticket) Resolve(a Act, photoIDs, flags []string) error {
	if err := t.holds(a.By); err != nil {
		return err
	}
	if err := t.check(EventResolved); err != nil {
		return err
	}
	t.Resolution = &Resolution{Note: a.Note, PhotoIDs: photoIDs, ResolvedAt: a.At, ResolverID: a.By.ID}
	t.PhotoFlags = flags
	t.Pool, t.Queue, t.AcceptBy = false, "", time.Time{}
	t.record(EventResolved, StatusResolved, a)
	return nil
}

// SelfHandle is 自处置: a registered patrol case its reporter, a grid worker
// (a.By), handled on the spot — assigned to them and resolved at once with
// the "after" photos and their flags (see ReportHandledOnSite).
func (t *Ticket) SelfHandle(a Act, gridCode, community string, photoIDs, flags []string) error {
	if err := t.check(EventSelfHandled); err != nil {
		return err
	}
	if t.Source != SourcePatrol || a.By.ID == "" || a.By.ID != t.ReporterID {
		return Errorf(CodeConflict, "只有网格员本人巡查上报的案件可以自处置")
	}
	t.GridCode, t.Community = gridCode, community
	t.AssigneeID, t.AssigneeRole = a.By.ID, a.By.Role
	t.Pool, t.Queue, t.AcceptBy = false, "", time.Time{}
	t.SelfHandled = true
	t.Resolution = &Resolution{Note: a.Note, PhotoIDs: photoIDs, ResolvedAt: a.At, ResolverID: a.By.ID}
	t.PhotoFlags = flags
	t.record(EventSelfHandled, StatusResolved, a)
	return nil
}

// Confirm is the reporter's satisfied feedback: closed (结案).
func (t *Ticket) Confirm(a Act, fb Feedback) error {
	if err := t.check(EventClosed); err != nil {
		return err
	}
	fb.At = a.At
	t.Feedback = &fb
	t.record(EventClosed, StatusClosed, a)
	return nil
}

// SatisfiedRating is the lowest rating that means satisfied: a feedback is
// satisfied exactly when its rating (1–5) is at least this.
const SatisfiedRating = 3

// RatingWindow is how long after giving a rating the resident may change
// it, once.
const RatingWindow = 24 * time.Hour

// ChangeRating is the reporter's one change of the rating they gave (and its
// comment), within RatingWindow of giving it. Whether they were satisfied
// cannot change — the ticket was closed or reopened by it —, so the new
// rating must stay on the same side of SatisfiedRating. The feedback keeps
// the time it was given. Conflict without a feedback, after the window, at
// a second change, or for a change of satisfied.
func (t *Ticket) ChangeRating(a Act, rating int, comment string) error {
	if err := t.check(EventRatingChanged); err != nil {
		return err
	}
	fb := t.Feedback
	if fb == nil {
		return Errorf(CodeConflict, "这条上报还没有评价，不能修改；请先评价")
	}
	if a.At.After(fb.At.Add(RatingWindow)) {
		return Errorf(CodeConflict, "评价只能在给出后 24 小时内修改，已超过")
	}
	for _, e := range t.Timeline {
		if e.Type == EventRatingChanged && !e.At.Before(fb.At) {
			return Errorf(CodeConflict, "评价只能修改一次，已修改过")
		}
	}
	if rating < 1 || rating > 5 {
		return Invalid("rating", "必须是 1 到 5 之间的整数")
	}
	if (rating >= SatisfiedRating) != fb.Satisfied {
		if fb.Satisfied {
			return Errorf(CodeConflict, "已按“满意”结案，评分只能改为 %d 到 5 分；如问题仍未解决，请重新上报", SatisfiedRating)
		}
		return Errorf(CodeConflict, "已按“不满意”返工，评分只能改为 1 到 %d 分", SatisfiedRating-1)
	}
	changed := *fb
	if a.Note == "" {
		a.Note = fmt.Sprintf("评价由 %d 分改为 %d 分", fb.Rating, rating)
	}
	changed.Rating, changed.Comment = rating, comment
	t.Feedback = &changed
	t.record(EventRatingChanged, "", a)
	return nil
}

// Reopen is the reporter's unsatisfied feedback (返工): the resolution is
// void, the handling clock starts again, and the ticket waits for routing.
func (t *Ticket) Reopen(a Act, fb Feedback, sla SLA) error {
	if err := t.check(EventReopened); err != nil {
		return err
	}
	fb.At = a.At
	t.Feedback = &fb
	t.Reopens++
	t.Escalated, t.Resolution, t.PhotoFlags = false, nil, nil
	if d := sla.due(a.At); !d.IsZero() {
		t.DueAt = d
	}
	t.record(EventReopened, StatusPending, a)
	t.unassign()
	return nil
}

// Verify is the staff's 核查 of a resolved ticket: passed closes it (结案);
// failed sends it back (返工) to the same assignee, in progress, with the
// resolution void and the handling clock started again.
func (t *Ticket) Verify(a Act, passed bool, sla SLA) error {
	et := EventVerifyFailed
	if passed {
		et = EventVerified
	}
	if err := t.check(et); err != nil {
		return err
	}
	if passed {
		t.record(EventVerified, StatusClosed, a)
		return nil
	}
	if t.AssigneeID == "" {
		return Errorf(CodeConflict, "工单没有处置人，不能返工")
	}
	t.VerifyFails++
	t.Escalated, t.Resolution, t.PhotoFlags = false, nil, nil
	if d := sla.due(a.At); !d.IsZero() {
		t.DueAt = d
	}
	t.record(EventVerifyFailed, StatusInProgress, a)
	return nil
}

// Close closes a resolved ticket whose feedback window has passed without
// a rating (结案). Conflict before the window ends.
func (t *Ticket) Close(a Act, window time.Duration) error {
	if err := t.check(EventClosed); err != nil {
		return err
	}
	if t.Resolution == nil || a.At.Before(t.Resolution.ResolvedAt.Add(window)) {
		return Errorf(CodeConflict, "评价期限未到")
	}
	t.record(EventClosed, StatusClosed, a)
	return nil
}

// ClosedAt is when the ticket was closed (结案), or zero.
func (t *Ticket) ClosedAt() time.Time {
	for i := len(t.Timeline) - 1; i >= 0; i-- {
		if e := t.Timeline[i]; e.Status == StatusClosed && (e.Type == EventClosed || e.Type == EventVerified) {
			return e.At
		}
	}
	if t.Status == StatusClosed {
		return t.UpdatedAt
	}
	return time.Time{}
}

// DispatchedAt is when the current assignee got the ticket (派遣, 认领, or
// the registration of a self-handled case), or zero.
func (t *Ticket) DispatchedAt() time.Time {
	for i := len(t.Timeline) - 1; i >= 0; i-- {
		switch e := t.Timeline[i]; e.Type {
		case EventDispatched, EventClaimed:
			return e.At
		case EventRegistered:
			if t.SelfHandled || t.Source == SourcePatrol {
				return e.At
			}
		}
	}
	return time.Time{}
}

// OnTime reports whether the ticket, resolved, was resolved by its deadline
// as finally approved (延期 included, 挂账 not counted) and never found
// overdue.
func (t *Ticket) OnTime() bool {
	return t.Resolution != nil && !t.Overdue && !t.DueAt.IsZero() && !t.Resolution.ResolvedAt.After(t.DueAt)
}

// OpenOverdue reports whether the ticket is open and past its deadline:
// escalated (its deadline passed) and not closed, rejected or merged. It is
// what the overview's 超期在办 counts and what overdue=true lists.
func (t *Ticket) OpenOverdue() bool { return t.Escalated && !t.Status.Final() }

// ClosedLate reports whether the ticket was closed after its deadline
// (late=true): closed, and not on time.
func (t *Ticket) ClosedLate() bool { return t.Status == StatusClosed && !t.OnTime() }
