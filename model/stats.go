package model

// LogEntry identifies one committed ticket transition, for the statistics
// applier that counts it.
type LogEntry struct {
	ID      string
	Ticket  string
	Version int64
	// Seq is the applier's number for it; 0 until taken up.
	Seq int64
}

// The statistics counters, as indexes of RollupValues.
const (
	CounterReported = iota
	CounterRegistered
	CounterResolved
	CounterClosed
	CounterOnTime
	CounterOverdue
	CounterReopened
	CounterRated
	CounterSatisfied
	CounterHours // the only one that is not a whole number
	CounterPartyResolved
	CounterParticipations
	NumCounters
)

// CounterName is a counter's name (the key of the first, JSON, roll-up
// encoding).
func CounterName(i int) string {
	switch i {
	case CounterReported:
		return "reported"
	case CounterRegistered:
		return "registered"
	case CounterResolved:
		return "resolved"
	case CounterClosed:
		return "closed"
	case CounterOnTime:
		return "on_time"
	case CounterOverdue:
		return "overdue"
	case CounterReopened:
		return "reopened"
	case CounterRated:
		return "rated"
	case CounterSatisfied:
		return "satisfied"
	case CounterHours:
		return "hours"
	case CounterPartyResolved:
		return "party_resolved"
	case CounterParticipations:
		return "participations"
	}
	return ""
}

// RollupValues are one roll-up key's counters, indexed by the Counter
// constants.
type RollupValues [NumCounters]float64

// RollupRow is one key's counters in one statistics roll-up: a period
// bucket, a dimension and its key.
type RollupRow struct {
	Period, Dim, Key string
	Values           RollupValues
}
