package model

import (
	"fmt"
	"slices"
	"time"
)

// Status is where a ticket is in its life (GB/T 30428: 信息采集 → 立案 → 派遣 →
// 处置 → 核查结案).
type Status string

// The statuses of the HTTP API (docs/openapi.yaml, Ticket.status).
const (
	// StatusSubmitted: reported, being screened (content security).
	StatusSubmitted Status = "submitted"
	// StatusRejected: refused by screening or by staff. Final.
	StatusRejected Status = "rejected"
	// StatusPending: registered (立案) but waiting for staff to dispatch by
	// hand, or for a party member to claim it from the pool.
	StatusPending Status = "pending"
	// StatusDispatched: assigned (派遣), not yet accepted.
	StatusDispatched Status = "dispatched"
	// StatusInProgress: accepted or claimed, being handled (处置).
	StatusInProgress Status = "in_progress"
	// StatusResolved: handled, waiting for the resident's confirmation or
	// the staff's verification (核查).
	StatusResolved Status = "resolved"
	// StatusClosed: confirmed, verified or closed after the feedback window
	// (结案). Final.
	StatusClosed Status = "closed"
	// StatusMerged: a duplicate joined to an open ticket. Final.
	StatusMerged Status = "merged"
	// StatusDeferred: 挂账 — put on hold by staff; the handling clock stops
	// and nothing but resuming is allowed.
	StatusDeferred Status = "deferred"
)

// Statuses are every status, in the order of the workflow.
var Statuses = []Status{StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress, StatusDeferred,
	StatusResolved, StatusClosed, StatusRejected, StatusMerged}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Open reports whether work on the ticket may still happen: a duplicate
// report joins an open ticket.
func (s Status) Open() bool {
	switch s {
	case StatusPending, StatusDispatched, StatusInProgress, StatusSubmitted:
		return true
	}
	return false
}

// Final reports whether nothing can change the ticket's status any more.
func (s Status) Final() bool {
	return s == StatusRejected || s == StatusClosed || s == StatusMerged
}

// Label is the status in Chinese, for the console and exports.
func (s Status) Label() string {
	switch s {
	case StatusSubmitted:
		return "审核中"
	case StatusRejected:
		return "不予立案"
	case StatusPending:
		return "待派遣"
	case StatusDispatched:
		return "已派遣"
	case StatusInProgress:
		return "处置中"
	case StatusResolved:
		return "已处置"
	case StatusClosed:
		return "已结案"
	case StatusMerged:
		return "已合并"
	case StatusDeferred:
		return "挂账"
	}
	return string(s)
}

// EventType names a step in a ticket's timeline.
type EventType string

// The timeline's event types; Stage gives each its GB/T 30428 name.
const (
	EventReported   EventType = "reported"   // 信息采集
	EventHeld       EventType = "held"       // held for staff review
	EventRegistered EventType = "registered" // 立案
	EventRejected   EventType = "rejected"
	EventMerged     EventType = "merged"     // this report joined another ticket
	EventJoined     EventType = "joined"     // another resident reported the same problem
	EventQueued     EventType = "queued"     // waiting for manual dispatch (no grid / nobody)
	EventDispatched EventType = "dispatched" // 派遣
	EventAccepted   EventType = "accepted"
	EventClaimed    EventType = "claimed" // a party member took it from the pool
	EventReturned   EventType = "returned"
	EventReassigned EventType = "reassigned" // not accepted in time
	EventEscalated  EventType = "escalated"  // overdue, to staff
	EventResolved   EventType = "resolved"   // 处置完成 (处理反馈)
	EventReopened   EventType = "reopened"   // 返工
	EventClosed     EventType = "closed"     // 结案

	EventSelfHandled        EventType = "self_handled"        // 自处置: a patrol case handled on the spot
	EventVerified           EventType = "verified"            // 核查 passed: 结案
	EventVerifyFailed       EventType = "verify_failed"       // 核查 failed: 返工 to the same assignee
	EventExtensionRequested EventType = "extension_requested" // 延期 asked by the assignee
	EventExtensionApproved  EventType = "extension_approved"  // 延期 granted: the deadline moves
	EventExtensionDenied    EventType = "extension_denied"    // 延期 refused
	EventDeferred           EventType = "deferred"            // 挂账: the clock stops
	EventResumed            EventType = "resumed"             // 挂账 ends: the clock runs again
	EventUrged              EventType = "urged"               // 督办 by staff
	EventRatingChanged      EventType = "rating_changed"      // the resident changed their rating (once, within a day)
)

// EventTypes are every event type, in the order of the workflow.
var EventTypes = []EventType{EventReported, EventHeld, EventRegistered, EventRejected, EventMerged, EventJoined,
	EventQueued, EventDispatched, EventClaimed, EventAccepted, EventReturned, EventReassigned, EventEscalated,
	EventExtensionRequested, EventExtensionApproved, EventExtensionDenied, EventDeferred, EventResumed, EventUrged,
	EventResolved, EventSelfHandled, EventReopened, EventVerified, EventVerifyFailed, EventClosed, EventRatingChanged}

// Stage is the GB/T 30428 stage an event belongs to: 信息采集, 立案, 派遣, 处置,
// 反馈, 核查, 结案, 评价, 延期, 挂账, 督办 or 返工.
func (e EventType) Stage() string {
	switch e {
	case EventReported, EventHeld, EventJoined, EventMerged:
		return "信息采集"
	case EventRegistered, EventRejected:
		return "立案"
	case EventQueued, EventDispatched, EventClaimed, EventReturned, EventReassigned:
		return "派遣"
	case EventAccepted, EventSelfHandled:
		return "处置"
	case EventResolved:
		return "反馈"
	case EventVerified:
		return "核查"
	case EventClosed:
		return "结案"
	case EventExtensionRequested, EventExtensionApproved, EventExtensionDenied:
		return "延期"
	case EventDeferred, EventResumed:
		return "挂账"
	case EventUrged, EventEscalated:
		return "督办"
	case EventReopened, EventVerifyFailed:
		return "返工"
	case EventRatingChanged:
		return "评价"
	}
	return ""
}

// Event is one step of a ticket's timeline.
type Event struct {
	At        time.Time
	Type      EventType
	Status    Status // the status after the step
	ActorID   string // user id; empty for the system
	ActorRole Role
	// ActorName is the actor's masked name (张**), the only identity a
	// resident's timeline shows of a worker.
	ActorName string
	Note      string
	// AssigneeID is who held the ticket when the step happened, for
	// crediting it (a dispatch, a return, an urge) to a worker.
	AssigneeID string
}

// Location is a point as the client submitted it.
type Location struct {
	Lat, Lng  float64
	CoordType CoordType
}

// CoordType is the coordinate system of a submitted point.
type CoordType string

// The coordinate systems the mini-program produces.
const (
	CoordGCJ02 CoordType = "gcj02"
	CoordWGS84 CoordType = "wgs84"
)

// Resolution is how a ticket was handled.
type Resolution struct {
	Note       string
	PhotoIDs   []string
	ResolvedAt time.Time
	ResolverID string
}

// Feedback is the resident's confirmation and rating.
type Feedback struct {
	Satisfied bool
	Rating    int
	Comment   string
	At        time.Time
}

// Ticket is a report and the work it causes. It is stored as one document
// and changed only by single-document updates conditioned on its Version, so
// every transition is atomic without transactions.
type Ticket struct {
	ID string
	// CaseNo is the ticket's 案件编号, YYYYMMDD-NNNN: the China Standard Time
	// date of intake and that day's sequence from 0001 (more digits past
	// 9999). The store gives it at insert; unique, never reused.
	CaseNo      string
	ReporterID  string
	Category    string
	Description string
	Location    Location // as submitted
	Point       Point    // WGS-84, for routing and nearby queries
	Address     string
	PhotoIDs    []string
	// Source is the channel the ticket came in by.
	Source Source

	Status  Status
	Version int64

	GridCode  string
	Community string
	// AssigneeID is the user handling the ticket; AssigneeRole says whether
	// as grid worker or party member.
	AssigneeID   string
	AssigneeRole Role

	DuplicateOf string
	// Reporters counts the residents who reported this problem (1 + merged).
	Reporters int
	// Followers are the residents of merged reports, who follow this ticket.
	Followers []string

	// Queue is QueueStaff while the ticket waits for staff to dispatch it by
	// hand (no grid, nobody available, too many returns).
	Queue string
	// Pool is set while the ticket is offered to the on-duty party members
	// of Community (volunteer-suitable, or nobody on duty in the grid).
	Pool bool
	// ReturnedBy are the users who returned or let the ticket time out;
	// routing avoids them.
	ReturnedBy []string
	// Escalated is set when the handling deadline passed (counted overdue).
	Escalated    bool
	RegisteredAt time.Time

	RejectReason string
	// Held is set when content screening asked for a human review: the
	// ticket stays submitted, in the staff's queue.
	Held bool
	// MergedIDs are the reports merged into this ticket as duplicates.
	MergedIDs []string
	Returns   int
	Reopens   int
	Overdue   bool
	DueAt     time.Time
	AcceptBy  time.Time

	Resolution *Resolution
	Feedback   *Feedback
	Timeline   []Event

	// Extension is the latest 延期 request and its decision.
	Extension *Extension
	// DeferredFrom is the status a 挂账 ticket had before (empty unless
	// deferred), DeferredAt when it was deferred, and DeferredLeft the
	// working time it had left to its deadline then.
	DeferredFrom Status
	DeferredAt   time.Time
	DeferredLeft time.Duration
	// Urges counts the 督办 by staff.
	Urges int
	// VerifyFails counts the failed 核查 (返工 to the same assignee).
	VerifyFails int
	// SelfHandled marks a patrol case its reporter handled on the spot
	// (自处置).
	SelfHandled bool
	// PhotoFlags are why the latest resolution's photos want a 核查 (an
	// EXIF position far from the ticket, an EXIF time before the dispatch);
	// empty when they look credible. Shown to staff only.
	PhotoFlags []string
	// CallerName and CallerPhone are a hotline caller's details, shown to
	// staff only.
	CallerName, CallerPhone string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// QueueStaff marks a ticket in the staff's manual-dispatch queue.
const QueueStaff = "staff"

// Point is a WGS-84 position.
type Point struct {
	Lat, Lng float64
}

// String is for logs: the id and status only, never personal data.
func (t *Ticket) String() string { return fmt.Sprintf("ticket %s (%s v%d)", t.ID, t.Status, t.Version) }
