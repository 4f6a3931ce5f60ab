package model

import "time"

// Handoff is a committed ticket change whose after-commit work — the jobs,
// timers, notifications and live events it hands to Redis — may not have
// been done yet. The store records it in the same atomic write as the
// change (docs/consistency.md); whoever relays the work clears it, and an
// instance that finds another's handoff left behind (its owner is no longer
// alive) relays it in its place. Relaying is idempotent: it is derived from
// the ticket's committed state and the timeline events from From on.
type Handoff struct {
	TicketID string
	// Version is the ticket's version when the handoff was last recorded.
	Version int64
	// From is the index in the timeline of the first event whose
	// after-commit work has not been relayed. Successive commits keep the
	// smallest From not yet relayed.
	From int
	// Owner is the instance that committed it (as the store was opened).
	Owner string
	At    time.Time
}
