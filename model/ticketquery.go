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
	// Overdue, when set, keeps the tickets that are open and past their
	// deadline (Ticket.OpenOverdue: escalated and not closed, rejected or
	// merged — what the overview's 超期在办 counts) — or the others.
	Overdue *bool
	// Late, when set, keeps the tickets closed after their deadline
	// (Ticket.ClosedLate) — or the others.
	Late *bool
	// Held, when set, keeps the reports held for staff review — or the
	// others.
	Held *bool
	// Words must each appear in the description or the address (substrings:
	// Chinese has no spaces). Ref, when set, matches the ticket with that id
	// or case number whatever the words.
	Words []string
	Ref   string
	Sort  TicketSort
	// From and To bound created_at: [From, To).
	From, To time.Time
	// Now is the time "past the deadline" is judged at.
	Now time.Time
}

// TicketPage is one page of a staff search.
type TicketPage struct {
	Items []*Ticket
	// Next is the cursor of the next page; "" at the end.
	Next string
	// Total counts the tickets matching the query: exact, or — where
	// counting exactly would read more than an index can count cheaply —
	// a lower bound with TotalCapped set.
	Total       int64
	TotalCapped bool
}

// MaxExactTotal is how many matching tickets a staff search counts before
// it gives a lower bound (TicketPage.TotalCapped) instead of an exact total.
const MaxExactTotal = 10000

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
