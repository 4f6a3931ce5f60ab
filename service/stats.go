package service

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// StatsLog is the ticket log as the statistics applier reads it.
type StatsLog interface {
	PendingEntry(ctx context.Context, applied int64) (*model.LogEntry, error)
	NumberEntry(ctx context.Context, id string, seq int64) error
	StateAt(ctx context.Context, id string, version int64) (*model.Ticket, error)
	SetStatsVersion(ctx context.Context, id string, version int64) error
	Counted(ctx context.Context, fn func(*model.Ticket) error) error
}

// RollupStore keeps the roll-ups.
type RollupStore interface {
	Applied(ctx context.Context) (int64, error)
	SetApplied(ctx context.Context, seq int64) error
	Apply(ctx context.Context, seq int64, rows []model.RollupRow) error
	Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error)
	Replace(ctx context.Context, seq int64, rows []model.RollupRow) error
}

// Stats maintains and reads the statistics.
//
// Every committed ticket transition is counted exactly once: one applier at
// a time (a Redis lease) numbers the transitions in the order it applies
// them and adds each one's delta — Contribute(after) − Contribute(before) —
// to the roll-ups with watermark-conditioned $inc. A crash mid-event is
// finished by the next run without double counting; a second instance
// waits for the lease. (On FerretDB a concurrent $inc is not atomic, which
// is why there is exactly one writer.)
type Stats struct {
	log        StatsLog
	rollups    RollupStore
	locks      Locker
	categories *Categories
	grids      *Grids
	names      *Names
	activities ActivityFigures
	branches   BranchGetter
	owner      string
	now        func() time.Time
	logger     *slog.Logger
}

// StatsDeps are the collaborators of Stats.
type StatsDeps struct {
	Log        StatsLog
	Rollups    RollupStore
	Locks      Locker
	Categories *Categories
	Grids      *Grids
	Names      *Names
	Activities ActivityFigures
	Branches   BranchGetter
	Owner      string // this instance, for the lease
	Now        func() time.Time
	Logger     *slog.Logger
}

// NewStats returns the statistics service.
func NewStats(d StatsDeps) *Stats {
	return &Stats{log: d.Log, rollups: d.Rollups, locks: d.Locks, categories: d.Categories, grids: d.Grids,
		names: d.Names, activities: d.Activities, branches: d.Branches, owner: d.Owner, now: d.Now, logger: d.Logger}
}

const (
	applierLease    = "stats-applier"
	applierLeaseTTL = 30 * time.Second
)

// ApplyPending counts the transitions not yet counted, if this instance
// holds (or gets) the applier lease, for up to budget; it returns how many.
func (s *Stats) ApplyPending(ctx context.Context, budget time.Duration) (int, error) {
	ok, _, err := s.locks.Acquire(ctx, applierLease, s.owner, applierLeaseTTL)
	if err != nil || !ok {
		return 0, err
	}
	defer func() { _ = s.locks.Release(context.WithoutCancel(ctx), applierLease, s.owner) }()
	start := time.Now()
	n := 0
	for time.Since(start) < budget && ctx.Err() == nil {
		done, err := s.applyOne(ctx)
		if err != nil || !done {
			return n, err
		}
		n++
	}
	return n, nil
}

// applyOne counts the next transition; false when there is none.
func (s *Stats) applyOne(ctx context.Context) (bool, error) {
	applied, err := s.rollups.Applied(ctx)
	if err != nil {
		return false, err
	}
	e, err := s.log.PendingEntry(ctx, applied)
	if err != nil || e == nil {
		return false, err
	}
	seq := applied + 1
	if e.Seq == 0 {
		if err := s.log.NumberEntry(ctx, e.ID, seq); err != nil {
			return false, err
		}
	}
	after, err := s.log.StateAt(ctx, e.Ticket, e.Version)
	if err != nil {
		return false, fmt.Errorf("count %s: %w", e.ID, err)
	}
	var before *model.Ticket
	if e.Version > 1 {
		if before, err = s.log.StateAt(ctx, e.Ticket, e.Version-1); err != nil {
			return false, fmt.Errorf("count %s: %w", e.ID, err)
		}
	}
	if err := s.rollups.Apply(ctx, seq, toRows(Delta(Contribute(before), Contribute(after)))); err != nil {
		return false, err
	}
	if err := s.log.SetStatsVersion(ctx, e.Ticket, e.Version); err != nil {
		return false, err
	}
	return true, s.rollups.SetApplied(ctx, seq)
}

// Rebuild recomputes every roll-up from the tickets, as of the versions
// already counted (later transitions are counted by the applier as usual).
// It holds the applier lease throughout; it returns the number of tickets.
func (s *Stats) Rebuild(ctx context.Context) (int, error) {
	for {
		ok, _, err := s.locks.Acquire(ctx, applierLease, s.owner, applierLeaseTTL)
		if err != nil {
			return 0, err
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer func() { _ = s.locks.Release(context.WithoutCancel(ctx), applierLease, s.owner) }()
	applied, err := s.rollups.Applied(ctx)
	if err != nil {
		return 0, err
	}
	total := Contribution{}
	n := 0
	lastRenew := time.Now()
	err = s.log.Counted(ctx, func(t *model.Ticket) error {
		for k, v := range Contribute(t) {
			total.add(k, v)
		}
		n++
		if time.Since(lastRenew) > applierLeaseTTL/3 {
			lastRenew = time.Now()
			if err := s.locks.Take(ctx, applierLease, s.owner, applierLeaseTTL); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, s.rollups.Replace(ctx, applied, toRows(total))
}

var vectorFields = []string{"reported", "registered", "resolved", "closed", "on_time", "overdue", "reopened",
	"rated", "satisfied", "hours", "party_resolved", "participations"}

func (v Vector) values() map[string]float64 {
	vals := []float64{float64(v.Reported), float64(v.Registered), float64(v.Resolved), float64(v.Closed),
		float64(v.OnTime), float64(v.Overdue), float64(v.Reopened), float64(v.Rated), float64(v.Satisfied),
		v.HoursToResolve, float64(v.PartyResolved), float64(v.Participations)}
	m := make(map[string]float64, len(vals))
	for i, x := range vals {
		if x != 0 {
			m[vectorFields[i]] = x
		}
	}
	return m
}

func vectorOf(m map[string]float64) Vector {
	i := func(k string) int64 { return int64(m[k] + 0.5*sign(m[k])) }
	return Vector{Counts: Counts{
		Reported: i("reported"), Registered: i("registered"), Resolved: i("resolved"), Closed: i("closed"),
		OnTime: i("on_time"), Overdue: i("overdue"), Reopened: i("reopened"), Rated: i("rated"), Satisfied: i("satisfied"),
		HoursToResolve: m["hours"]}, PartyResolved: i("party_resolved"), Participations: i("participations")}
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

func toRows(c Contribution) []model.RollupRow {
	rows := make([]model.RollupRow, 0, len(c))
	for k, v := range c {
		rows = append(rows, model.RollupRow{Period: k.Period, Dim: k.Dim, Key: k.Key, Values: v.values()})
	}
	// The "all" documents go last: a reader that sees an event in the
	// totals sees it in every group too.
	sort.Slice(rows, func(a, b int) bool {
		ra, rb := rows[a], rows[b]
		if (ra.Dim == dimAll) != (rb.Dim == dimAll) {
			return rb.Dim == dimAll
		}
		if ra.Period != rb.Period {
			return ra.Period < rb.Period
		}
		if ra.Dim != rb.Dim {
			return ra.Dim < rb.Dim
		}
		return ra.Key < rb.Key
	})
	return rows
}

// PeriodBuckets covers the days of p with the fewest buckets: whole years,
// then whole months, then days.
func PeriodBuckets(p Period) []string {
	var out []string
	from, to := p.From.In(shanghai), p.To.In(shanghai)
	for d := from; !d.After(to); {
		switch {
		case d.YearDay() == 1 && !d.AddDate(1, 0, -1).After(to):
			out = append(out, "y"+d.Format("2006"))
			d = d.AddDate(1, 0, 0)
		case d.Day() == 1 && !d.AddDate(0, 1, -1).After(to):
			out = append(out, "m"+d.Format("200601"))
			d = d.AddDate(0, 1, 0)
		default:
			out = append(out, "d"+d.Format("20060102"))
			d = d.AddDate(0, 0, 1)
		}
	}
	return out
}

// Summary returns the indicators for a period, grouped by category, grid,
// community or worker (or not at all). Errors: invalid_argument.
func (s *Stats) Summary(ctx context.Context, p Period, groupBy string) (*Summary, error) {
	switch groupBy {
	case "", ByCategory, ByGrid, ByCommunity, ByWorker:
	default:
		return nil, model.Invalid("group_by", "must be category, grid, community or worker")
	}
	buckets := PeriodBuckets(p)
	out := &Summary{Period: p, GroupBy: groupBy}
	all, err := s.rollups.Read(ctx, dimAll, buckets)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		out.Counts.Add(vectorOf(r.Values).Counts)
	}
	if groupBy == "" {
		return out, nil
	}
	rows, err := s.rollups.Read(ctx, groupBy, buckets)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*SummaryGroup{}
	for _, r := range rows {
		g := byKey[r.Key]
		if g == nil {
			g = &SummaryGroup{Key: r.Key}
			byKey[r.Key] = g
		}
		g.Counts.Add(vectorOf(r.Values).Counts)
	}
	for _, g := range byKey {
		g.Name = s.groupName(ctx, groupBy, g.Key)
		out.Groups = append(out.Groups, *g)
	}
	sort.Slice(out.Groups, func(a, b int) bool {
		if out.Groups[a].Resolved != out.Groups[b].Resolved {
			return out.Groups[a].Resolved > out.Groups[b].Resolved
		}
		return out.Groups[a].Key < out.Groups[b].Key
	})
	return out, nil
}

func (s *Stats) groupName(ctx context.Context, dim, key string) string {
	switch dim {
	case ByCategory:
		if c, err := s.categories.Get(ctx, key); err == nil {
			return c.Name
		}
	case ByGrid:
		if g, ok := s.grids.Get(key); ok {
			return g.Name
		}
	case ByWorker:
		return s.names.Full(ctx, key)
	}
	return key
}

// MemberRows returns the party members' roll-ups for a period, by user id.
func (s *Stats) MemberRows(ctx context.Context, p Period) (map[string]Vector, Vector, error) {
	buckets := PeriodBuckets(p)
	rows, err := s.rollups.Read(ctx, dimMember, buckets)
	if err != nil {
		return nil, Vector{}, err
	}
	all, err := s.rollups.Read(ctx, dimAll, buckets)
	if err != nil {
		return nil, Vector{}, err
	}
	var total Vector
	for _, r := range all {
		total.add(vectorOf(r.Values), 1)
	}
	byUser := map[string]Vector{}
	for _, r := range rows {
		v := byUser[r.Key]
		v.add(vectorOf(r.Values), 1)
		byUser[r.Key] = v
	}
	return byUser, total, nil
}
