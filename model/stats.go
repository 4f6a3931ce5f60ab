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
	// The evaluation's counters (appended: a stored roll-up's bit mask of
	// counters stays valid).
	CounterDispatched   // 派遣: dispatch events
	CounterReturned     // 退回 by the assignee
	CounterExtended     // 延期 approved
	CounterDeferred     // 挂账
	CounterUrged        // 督办
	CounterVerifyFailed // 核查 failed (返工)
	CounterSelfHandled  // 自处置 patrol cases
	CounterPhotoFlagged // resolutions whose photos want a 核查
	CounterOpenOverdue  // still open past the deadline (the on-time rate's other half)
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
	case CounterDispatched:
		return "dispatched"
	case CounterReturned:
		return "returned"
	case CounterExtended:
		return "extended"
	case CounterDeferred:
		return "deferred"
	case CounterUrged:
		return "urged"
	case CounterVerifyFailed:
		return "verify_failed"
	case CounterSelfHandled:
		return "self_handled"
	case CounterPhotoFlagged:
		return "photo_flagged"
	case CounterOpenOverdue:
		return "open_overdue"
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
