package model

import (
	"time"
)

// ChinaTime is China Standard Time (UTC+8, no daylight saving since 1991):
// the statistics' days, months and years, the daily limits and the case
// numbers' dates fall in it.
func ChinaTime() *time.Location { return chinaTime }

var chinaTime = time.FixedZone("CST", 8*3600)

// The statistics' dimensions. DimAll has the empty key; DimMember is keyed
// by the party member's user id, DimWorker by the handler's user id.
const (
	DimAll       = "all"
	DimCategory  = "category"
	DimGrid      = "grid"
	DimCommunity = "community"
	DimWorker    = "worker"
	DimMember    = "member"
	DimSource    = "source"
)

// RollupKey names one statistics roll-up row: a period bucket (d20261125,
// m202611, y2026, in China Standard Time), a dimension and its key.
type RollupKey struct {
	Period string
	Dim    string
	Key    string
}

// Contribution is what one ticket, in one state, adds to the statistics.
type Contribution map[RollupKey]RollupValues

// fact is one counted thing at one moment, credited (for DimWorker) to
// worker, or to the ticket's current assignee when worker is empty.
type fact struct {
	at     time.Time
	v      RollupValues
	worker string
}

// workerCounters are the counters a fact credits to the worker: the outcome
// of the handling and the steps of the evaluation, never the resident's
// report itself.
var workerCounters = []int{CounterResolved, CounterClosed, CounterOnTime, CounterOverdue, CounterReopened,
	CounterRated, CounterSatisfied, CounterHours, CounterDispatched, CounterReturned, CounterExtended,
	CounterDeferred, CounterUrged, CounterVerifyFailed, CounterSelfHandled, CounterPhotoFlagged, CounterOpenOverdue}

// eventCounters are the counters an event of the timeline adds, at its
// time, credited to who held the ticket then (Event.AssigneeID).
var eventCounters = map[EventType][]int{
	EventEscalated:         {CounterOverdue},
	EventReopened:          {CounterReopened, CounterRated}, // 返工 counts against who resolved it
	EventDispatched:        {CounterDispatched},
	EventReturned:          {CounterReturned},
	EventExtensionApproved: {CounterExtended},
	EventDeferred:          {CounterDeferred},
	EventUrged:             {CounterUrged},
	EventVerifyFailed:      {CounterVerifyFailed},
	EventSelfHandled:       {CounterSelfHandled},
}

func one(counters ...int) RollupValues {
	var v RollupValues
	for _, c := range counters {
		v[c] = 1
	}
	return v
}

// Contribute computes what a ticket adds to the statistics in its current
// state. It is a pure function of the ticket: the statistics of any set of
// tickets are the sum of their contributions, and a transition's effect is
// the difference between the contributions after and before it (Delta). That
// one definition serves every store's counting and the rebuild alike, so
// they agree (docs/statistics.md).
func Contribute(t *Ticket) Contribution {
	c := Contribution{}
	if t == nil {
		return c
	}
	facts := []fact{{at: t.CreatedAt, v: one(CounterReported)}}
	if !t.RegisteredAt.IsZero() {
		facts = append(facts, fact{at: t.RegisteredAt, v: one(CounterRegistered)})
	}
	var escalatedAt time.Time
	for _, e := range t.Timeline {
		if counters, ok := eventCounters[e.Type]; ok {
			facts = append(facts, fact{at: e.At, v: one(counters...), worker: e.AssigneeID})
		}
		switch {
		case e.Type == EventEscalated:
			escalatedAt = e.At
		case e.Type == EventClosed && e.ActorRole == RoleResident:
			facts = append(facts, fact{at: e.At, v: one(CounterRated, CounterSatisfied)})
		}
	}
	if fb := t.Feedback; fb != nil && fb.Rating > 0 && !fb.At.IsZero() {
		// The latest rating, at the time it was given: a change of it
		// (ChangeRating) moves the points, not the count or the period.
		v := one(CounterScored)
		v[CounterRatingPoints] = float64(fb.Rating)
		facts = append(facts, fact{at: fb.At, v: v})
	}
	if r := t.Resolution; r != nil && len(t.PhotoFlags) > 0 && !r.ResolvedAt.IsZero() {
		facts = append(facts, fact{at: r.ResolvedAt, v: one(CounterPhotoFlagged)})
	}
	if t.Escalated && !t.Status.Final() && !escalatedAt.IsZero() {
		facts = append(facts, fact{at: escalatedAt, v: one(CounterOpenOverdue)})
	}
	var member *fact
	if t.Status == StatusClosed {
		closedAt := t.ClosedAt()
		v := one(CounterClosed)
		if r := t.Resolution; r != nil {
			v[CounterResolved] = 1
			if t.OnTime() {
				v[CounterOnTime] = 1
			}
			if !t.RegisteredAt.IsZero() {
				v[CounterHours] = r.ResolvedAt.Sub(t.RegisteredAt).Hours()
			}
			if t.AssigneeRole == RolePartyMember && r.ResolverID != "" {
				v[CounterPartyResolved], v[CounterParticipations] = 1, 1
				member = &fact{at: closedAt, v: one(CounterPartyResolved, CounterParticipations)}
			}
		}
		facts = append(facts, fact{at: closedAt, v: v})
	}

	source := t.Source
	if source == "" {
		source = SourceWeChat
	}
	dims := []RollupKey{{Dim: DimAll}, {Dim: DimCategory, Key: t.Category}, {Dim: DimSource, Key: string(source)}}
	if t.GridCode != "" {
		dims = append(dims, RollupKey{Dim: DimGrid, Key: t.GridCode})
	}
	if t.Community != "" {
		dims = append(dims, RollupKey{Dim: DimCommunity, Key: t.Community})
	}
	for _, f := range facts {
		for _, period := range PeriodKeys(f.at) {
			for _, d := range dims {
				c.add(RollupKey{Period: period, Dim: d.Dim, Key: d.Key}, &f.v, 1)
			}
		}
		// By worker: the outcome of the handling, credited to who handled
		// it — so an acceptance changes no worker's figures — and the steps
		// of the evaluation to who held the ticket when they happened.
		var w RollupValues
		for _, k := range workerCounters {
			w[k] = f.v[k]
		}
		worker := f.worker
		if worker == "" {
			worker = t.AssigneeID
		}
		if worker == "" || w == (RollupValues{}) {
			continue
		}
		for _, period := range PeriodKeys(f.at) {
			c.add(RollupKey{Period: period, Dim: DimWorker, Key: worker}, &w, 1)
		}
	}
	if member != nil {
		for _, period := range PeriodKeys(member.at) {
			c.add(RollupKey{Period: period, Dim: DimMember, Key: t.Resolution.ResolverID}, &member.v, 1)
		}
	}
	return c
}

func (c Contribution) add(k RollupKey, v *RollupValues, sign float64) {
	cur := c[k]
	for i := range cur {
		cur[i] += sign * v[i]
	}
	c[k] = cur
}

// Add adds o to c.
func (c Contribution) Add(o Contribution) {
	for k, v := range o {
		c.add(k, &v, 1)
	}
}

// Delta is after − before, without the rows that did not change.
func Delta(before, after Contribution) Contribution {
	d := Contribution{}
	for k, v := range after {
		d[k] = v
	}
	for k, v := range before {
		d.add(k, &v, -1)
	}
	for k, v := range d {
		if v == (RollupValues{}) {
			delete(d, k)
		}
	}
	return d
}

// Rows lists c's rows, in no particular order.
func (c Contribution) Rows() []RollupRow {
	rows := make([]RollupRow, 0, len(c))
	for k, v := range c {
		rows = append(rows, RollupRow{Period: k.Period, Dim: k.Dim, Key: k.Key, Values: v})
	}
	return rows
}

// StatsDelta is what a committed transition from before to after changes
// in the statistics. A ticket counts from its first transition on (a
// report still being screened for the first time is not in the figures),
// so before at version 0 — or nil — counts as nothing.
func StatsDelta(before, after *Ticket) Contribution {
	if before == nil || before.Version == 0 {
		return Contribute(after)
	}
	return Delta(Contribute(before), Contribute(after))
}

// PeriodKeys are the day, month and year buckets of an instant, in China
// Standard Time.
func PeriodKeys(t time.Time) []string {
	l := t.In(chinaTime)
	return []string{"d" + l.Format("20060102"), "m" + l.Format("200601"), "y" + l.Format("2006")}
}
