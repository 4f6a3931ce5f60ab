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

// RollupRow is one statistics roll-up document: a period bucket, a
// dimension and its key, and counters by name.
type RollupRow struct {
	Period, Dim, Key string
	Values           map[string]float64
}
