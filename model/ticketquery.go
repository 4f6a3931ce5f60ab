package model

import "time"

// TicketSort orders the staff's ticket list.
type TicketSort string

// The orders of GET /admin/tickets?sort=.
const (
	SortNewest TicketSort = "-created_at" // newest first (the default)
	SortOldest TicketSort = "created_at"  // oldest first
	SortDue    TicketSort = "due_at"      // soonest deadline first; tickets without one last
)

// Valid reports whether s is one of the orders.
func (s TicketSort) Valid() bool { return s == SortNewest || s == SortOldest || s == SortDue }

// TicketQuery is a search of every ticket for staff; empty fields match all.
type TicketQuery struct {
	Statuses []Status
	Grid     string
	Category string
	Source   Source
	// Queue is QueueStaff for tickets waiting for staff to dispatch them.
	Queue string
	// Overdue, when set, keeps tickets past their deadline (flagged by the
	// escalation, or open with due_at passed at Now) — or the others.
	Overdue *bool
	// Words must each appear in the description or the address; ID, when
	// set, matches that ticket whatever the words.
	Words []string
	ID    string
	Sort  TicketSort
	// From and To bound created_at: [From, To).
	From, To time.Time
	// Now is the time "past the deadline" is judged at.
	Now time.Time
}

// OpenForDeadline are the statuses in which a passed deadline makes a
// ticket overdue: it is still being worked on.
var OpenForDeadline = []Status{StatusPending, StatusDispatched, StatusInProgress}

// TicketVersion is what one committed transition of a ticket left: how
// long its timeline was and who held the ticket after it — the record of
// to whom a dispatch went.
type TicketVersion struct {
	Version      int64
	Events       int
	AssigneeID   string
	AssigneeRole Role
}
