package model

import (
	"fmt"
	"slices"
	"time"
)

// Status is where a ticket is in its life (GB/T 30428: 信息采集 → 立案 → 派遣 →
// 处置 → 核查结案).
type Status string

// The statuses of API.md.
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
	// StatusResolved: handled, waiting for the resident's confirmation.
	StatusResolved Status = "resolved"
	// StatusClosed: confirmed or closed after the feedback window (结案). Final.
	StatusClosed Status = "closed"
	// StatusMerged: a duplicate joined to an open ticket. Final.
	StatusMerged Status = "merged"
)

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

// EventType names a step in a ticket's timeline.
type EventType string

// The timeline's event types.
const (
	EventReported   EventType = "reported"   // 信息采集
	EventScreened   EventType = "screened"   // text or photo check passed
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
	EventResolved   EventType = "resolved"   // 处置完成
	EventReopened   EventType = "reopened"   // 返工
	EventClosed     EventType = "closed"     // 核查结案
)

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
	ID          string
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

	CreatedAt time.Time
	UpdatedAt time.Time
}

// QueueStaff marks a ticket in the staff's manual-dispatch queue.
const QueueStaff = "staff"

// Point is a WGS-84 position.
type Point struct {
	Lat, Lng float64
}

// transitions lists, for each event, the statuses it may happen in.
var transitions = map[EventType][]Status{
	EventScreened:   {StatusSubmitted},
	EventHeld:       {StatusSubmitted},
	EventRegistered: {StatusSubmitted},
	EventRejected:   {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventMerged:     {StatusSubmitted},
	EventJoined:     {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventQueued:     {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventDispatched: {StatusSubmitted, StatusPending, StatusDispatched, StatusInProgress},
	EventAccepted:   {StatusDispatched},
	EventClaimed:    {StatusPending, StatusDispatched},
	EventReturned:   {StatusDispatched, StatusInProgress},
	EventReassigned: {StatusDispatched},
	EventEscalated:  {StatusPending, StatusDispatched, StatusInProgress},
	EventResolved:   {StatusInProgress},
	EventReopened:   {StatusResolved},
	EventClosed:     {StatusResolved},
}

// CanApply reports whether an event of type et may happen to a ticket in
// status s.
func CanApply(et EventType, s Status) bool {
	return slices.Contains(transitions[et], s)
}

// Append records ev on the ticket after checking the state machine: a step
// the status does not allow is a conflict. It sets the ticket's status (to
// ev.Status, or unchanged when that is empty) and UpdatedAt; the caller sets
// the other fields.
func (t *Ticket) Append(ev Event) error {
	if ev.Type != EventReported && !CanApply(ev.Type, t.Status) {
		return Errorf(CodeConflict, "工单当前状态为「%s」，不能%s", StatusLabel(t.Status), EventLabel(ev.Type))
	}
	if ev.Status == "" {
		ev.Status = t.Status
	}
	t.Timeline = append(t.Timeline, ev)
	t.Status = ev.Status
	t.UpdatedAt = ev.At
	return nil
}

// String is for logs: the id and status only, never personal data.
func (t *Ticket) String() string { return fmt.Sprintf("ticket %s (%s v%d)", t.ID, t.Status, t.Version) }

// TicketFilter narrows the staff's ticket list; empty fields match all.
type TicketFilter struct {
	Status   string
	Grid     string
	Category string
	Queue    string
	From, To time.Time // created_at in [From, To)
}
