package service

import (
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The roll-up dimensions. "all" has the empty key.
const (
	dimAll       = "all"
	dimCategory  = "category"
	dimGrid      = "grid"
	dimCommunity = "community"
	dimWorker    = "worker"
	dimMember    = "member" // party members, by user id
	dimSource    = "source"
)

// Vector is one roll-up document's counters.
type Vector struct {
	Counts
	PartyResolved  int64 // resolved with a party member's participation
	Participations int64 // a party member's claim-and-resolve
}

func (v *Vector) add(o Vector, sign int64) {
	v.Dispatched += sign * o.Dispatched
	v.Returned += sign * o.Returned
	v.Extended += sign * o.Extended
	v.Deferred += sign * o.Deferred
	v.Urged += sign * o.Urged
	v.VerifyFailed += sign * o.VerifyFailed
	v.SelfHandled += sign * o.SelfHandled
	v.PhotoFlagged += sign * o.PhotoFlagged
	v.OpenOverdue += sign * o.OpenOverdue
	v.Reported += sign * o.Reported
	v.Registered += sign * o.Registered
	v.Resolved += sign * o.Resolved
	v.Closed += sign * o.Closed
	v.OnTime += sign * o.OnTime
	v.Overdue += sign * o.Overdue
	v.Reopened += sign * o.Reopened
	v.Rated += sign * o.Rated
	v.Satisfied += sign * o.Satisfied
	v.HoursToResolve += float64(sign) * o.HoursToResolve
	v.PartyResolved += sign * o.PartyResolved
	v.Participations += sign * o.Participations
}

func (v Vector) zero() bool { return v == Vector{} }

// RollupKey names one roll-up document: a period bucket (d20261125,
// m202611, y2026 — days in China Standard Time), a dimension and its key.
type RollupKey struct {
	Period string
	Dim    string
	Key    string
}

// Contribution is what one ticket, in one state, adds to the roll-ups.
type Contribution map[RollupKey]Vector

// fact is one counted thing at one moment.
type fact struct {
	at time.Time
	v  Vector
}

// Contribute computes a ticket's contribution in its current state. It is
// a pure function of the ticket: the statistics of any set of tickets are
// the sum of their contributions, and an event's effect is the difference
// between the contributions after and before it. That one definition
// serves the incremental roll-ups and the rebuild alike, so they agree.
func Contribute(t *model.Ticket) Contribution {
	if t == nil {
		return Contribution{}
	}
	var facts []fact
	// credit names the worker an event's fact is credited to: who held the
	// ticket at that step ("" for the current assignee).
	var credit []string
	addFact := func(at time.Time, v Vector, worker string) {
		facts = append(facts, fact{at, v})
		credit = append(credit, worker)
	}
	addFact(t.CreatedAt, Vector{Counts: Counts{Reported: 1}}, "")
	if !t.RegisteredAt.IsZero() {
		addFact(t.RegisteredAt, Vector{Counts: Counts{Registered: 1}}, "")
	}
	var escalatedAt time.Time
	for _, e := range t.Timeline {
		switch {
		case e.Type == model.EventEscalated:
			addFact(e.At, Vector{Counts: Counts{Overdue: 1}}, e.AssigneeID)
			escalatedAt = e.At
		case e.Type == model.EventReopened:
			// 返工 counts against who resolved it, not who redoes it.
			addFact(e.At, Vector{Counts: Counts{Reopened: 1, Rated: 1}}, e.AssigneeID)
		case e.Type == model.EventClosed && e.ActorRole == model.RoleResident:
			addFact(e.At, Vector{Counts: Counts{Rated: 1, Satisfied: 1}}, "")
		case e.Type == model.EventDispatched:
			addFact(e.At, Vector{Counts: Counts{Dispatched: 1}}, e.AssigneeID)
		case e.Type == model.EventReturned:
			addFact(e.At, Vector{Counts: Counts{Returned: 1}}, e.AssigneeID)
		case e.Type == model.EventExtensionApproved:
			addFact(e.At, Vector{Counts: Counts{Extended: 1}}, e.AssigneeID)
		case e.Type == model.EventDeferred:
			addFact(e.At, Vector{Counts: Counts{Deferred: 1}}, e.AssigneeID)
		case e.Type == model.EventUrged:
			addFact(e.At, Vector{Counts: Counts{Urged: 1}}, e.AssigneeID)
		case e.Type == model.EventVerifyFailed:
			addFact(e.At, Vector{Counts: Counts{VerifyFailed: 1}}, e.AssigneeID)
		case e.Type == model.EventSelfHandled:
			addFact(e.At, Vector{Counts: Counts{SelfHandled: 1}}, e.AssigneeID)
		}
	}
	if r := t.Resolution; r != nil && len(t.PhotoFlags) > 0 && !r.ResolvedAt.IsZero() {
		addFact(r.ResolvedAt, Vector{Counts: Counts{PhotoFlagged: 1}}, "")
	}
	if t.Escalated && !t.Status.Final() && !escalatedAt.IsZero() {
		addFact(escalatedAt, Vector{Counts: Counts{OpenOverdue: 1}}, "")
	}
	var memberFact *fact
	if t.Status == model.StatusClosed {
		closedAt := t.ClosedAt()
		v := Vector{Counts: Counts{Closed: 1}}
		if r := t.Resolution; r != nil {
			v.Resolved = 1
			if t.OnTime() {
				v.OnTime = 1
			}
			if !t.RegisteredAt.IsZero() {
				v.HoursToResolve = r.ResolvedAt.Sub(t.RegisteredAt).Hours()
			}
			if t.AssigneeRole == model.RolePartyMember && r.ResolverID != "" {
				v.PartyResolved = 1
				memberFact = &fact{closedAt, Vector{PartyResolved: 1, Participations: 1}}
				v.Participations = 1
			}
		}
		addFact(closedAt, v, "")
	}

	c := Contribution{}
	dims := []RollupKey{{Dim: dimAll}, {Dim: dimCategory, Key: t.Category}}
	if t.GridCode != "" {
		dims = append(dims, RollupKey{Dim: dimGrid, Key: t.GridCode})
	}
	if t.Community != "" {
		dims = append(dims, RollupKey{Dim: dimCommunity, Key: t.Community})
	}
	source := t.Source
	if source == "" {
		source = model.SourceWeChat
	}
	dims = append(dims, RollupKey{Dim: dimSource, Key: string(source)})
	for _, f := range facts {
		for _, period := range periodKeys(f.at) {
			for _, d := range dims {
				c.add(RollupKey{Period: period, Dim: d.Dim, Key: d.Key}, f.v)
			}
		}
	}
	// By worker: the outcome of the handling, credited to who handled it —
	// so an acceptance changes no roll-up at all — and the steps of the
	// evaluation (a dispatch, a return, an urge …) to who held the ticket
	// when they happened.
	for i, f := range facts {
		w := Vector{Counts: Counts{Closed: f.v.Closed, Resolved: f.v.Resolved, OnTime: f.v.OnTime,
			HoursToResolve: f.v.HoursToResolve, Overdue: f.v.Overdue, Reopened: f.v.Reopened,
			Rated: f.v.Rated, Satisfied: f.v.Satisfied, PhotoFlagged: f.v.PhotoFlagged, OpenOverdue: f.v.OpenOverdue,
			Dispatched: f.v.Dispatched, Returned: f.v.Returned, Extended: f.v.Extended, Deferred: f.v.Deferred,
			Urged: f.v.Urged, VerifyFailed: f.v.VerifyFailed, SelfHandled: f.v.SelfHandled}}
		worker := credit[i]
		if worker == "" {
			worker = t.AssigneeID
		}
		if w.zero() || worker == "" {
			continue
		}
		for _, period := range periodKeys(f.at) {
			c.add(RollupKey{Period: period, Dim: dimWorker, Key: worker}, w)
		}
	}
	if memberFact != nil {
		for _, period := range periodKeys(memberFact.at) {
			c.add(RollupKey{Period: period, Dim: dimMember, Key: t.Resolution.ResolverID}, memberFact.v)
		}
	}
	return c
}

func (c Contribution) add(k RollupKey, v Vector) {
	cur := c[k]
	cur.add(v, 1)
	c[k] = cur
}

// Delta is after − before, without the keys that did not change.
func Delta(before, after Contribution) Contribution {
	d := Contribution{}
	for k, v := range after {
		d[k] = v
	}
	for k, v := range before {
		cur := d[k]
		cur.add(v, -1)
		d[k] = cur
	}
	for k, v := range d {
		if v.zero() {
			delete(d, k)
		}
	}
	return d
}

// periodKeys are the day, month and year buckets of an instant, in China
// Standard Time.
func periodKeys(t time.Time) []string {
	l := t.In(shanghai)
	return []string{"d" + l.Format("20060102"), "m" + l.Format("200601"), "y" + l.Format("2006")}
}
