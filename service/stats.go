package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// StatsLog is the ticket log as the statistics applier reads it.
type StatsLog interface {
	StateAt(ctx context.Context, id string, version int64) (*model.Ticket, error)
	SetStatsVersion(ctx context.Context, id string, version int64) error
	// SetStatsVersions is SetStatsVersion for several tickets (by id) at once.
	SetStatsVersions(ctx context.Context, versions map[string]int64) error
	Counted(ctx context.Context, fn func(*model.Ticket) error) error
}

// StatsCursor finds the transitions the applier has not counted yet.
type StatsCursor interface {
	// PendingEntry returns the entry numbered applied+1 if its counting
	// was cut short, else the next one not yet numbered; nil if none.
	// resume false: the caller knows no entry is numbered applied+1.
	PendingEntry(ctx context.Context, applied int64, resume bool) (*model.LogEntry, error)
	// NumberEntry gives an entry the applier's sequence number (conflict:
	// another applier gave that number to another entry).
	NumberEntry(ctx context.Context, id string, seq int64) error
	// DoneEntry says the entry is counted; within a pass, the cursor may
	// keep its record back until FlushDone.
	DoneEntry(ctx context.Context, id string) error
	// FlushDone records what DoneEntry kept back.
	FlushDone(ctx context.Context) error
	// StateAfter is the ticket as e left it, from what PendingEntry read
	// and before (the ticket at the version before e); nil if unknown.
	StateAfter(e *model.LogEntry, before *model.Ticket) *model.Ticket
	// BeginPass and EndPass bracket one pass of the applier: within it
	// the cursor looks for new transitions once (what is committed later
	// wakes the applier for another pass).
	BeginPass()
	EndPass()
}

// Lease is the applier's lease: a Locker that can also be renewed by its
// holder.
type Lease interface {
	Locker
	// Renew extends the lease if owner still holds it, and says whether
	// it does.
	Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
}

// RollupStore keeps the roll-ups.
type RollupStore interface {
	Applied(ctx context.Context) (int64, error)
	SetApplied(ctx context.Context, seq int64, at time.Time) error
	Apply(ctx context.Context, seq int64, at time.Time, rows []model.RollupRow) error
	// UpdatedAt is when an event was last counted (zero if never).
	UpdatedAt(ctx context.Context) (time.Time, error)
	// Read returns a row per bucket and key, each bucket's rows in key
	// order. They may be shared with other readers: read only.
	Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error)
	Replace(ctx context.Context, seq int64, rows []model.RollupRow) error
	// Forget drops what the store remembers of the documents it wrote, so
	// that the next Apply starts from what is stored.
	Forget()
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
	cursor     StatsCursor
	rollups    RollupStore
	locks      Lease
	categories *Categories
	grids      *Grids
	names      *Names
	activities ActivityFigures
	branches   BranchGetter
	owner      string
	weights    model.RankingWeights
	now        func() time.Time
	logger     *slog.Logger
	// states remembers, by ticket, the last state the applier counted
	// (a ticket's state at a version never changes), so the next
	// transition's "before" is not read again.
	statesMu sync.Mutex
	states   map[string]*model.Ticket

	// While this instance holds the applier's lease without a break, it
	// knows the last event applied (known ≥ 0) — every one since it took
	// the lease was its own — and need not read it, nor look for an event
	// cut short. The lease is kept between passes (until it expires, 5 s
	// after the last pass, or the instance stops) so that the next wake-up
	// finds it held.
	leaseMu sync.Mutex
	holding bool
	known   int64
	// resume says that an event numbered known+1 may exist: the lease was
	// taken afresh, or the last event was one cut short (after a crash
	// mid-pass, several numbered events may follow one another).
	resume bool
	// The bookkeeping of the events counted in this pass and not yet
	// recorded (flush): their tickets' counted versions, the last seq.
	batchV   map[string]int64
	batchSeq int64
	batchAt  time.Time
}

// batchMax bounds the events a pass counts before it records them.
const batchMax = 100

// statesMax bounds the applier's memory of ticket states.
const statesMax = 5_000

// stateAt is the ticket at version, from the applier's memory or the log.
func (s *Stats) stateAt(ctx context.Context, id string, version int64) (*model.Ticket, error) {
	s.statesMu.Lock()
	t, ok := s.states[id]
	s.statesMu.Unlock()
	if ok && t.Version == version {
		return t, nil
	}
	return s.log.StateAt(ctx, id, version)
}

func (s *Stats) remember(t *model.Ticket) {
	s.statesMu.Lock()
	defer s.statesMu.Unlock()
	if s.states == nil || len(s.states) >= statesMax {
		s.states = map[string]*model.Ticket{}
	}
	s.states[t.ID] = t
}

// StatsDeps are the collaborators of Stats.
type StatsDeps struct {
	Log        StatsLog
	Cursor     StatsCursor
	Rollups    RollupStore
	Locks      Lease
	Categories *Categories
	Grids      *Grids
	Names      *Names
	Activities ActivityFigures
	Branches   BranchGetter
	Owner      string // this instance, for the lease
	// RankingWeights weigh the ranking's score (nil: the defaults).
	RankingWeights model.RankingWeights
	Now            func() time.Time
	Logger         *slog.Logger
}

// NewStats returns the statistics service.
func NewStats(d StatsDeps) *Stats {
	return &Stats{log: d.Log, cursor: d.Cursor, rollups: d.Rollups, locks: d.Locks, categories: d.Categories, grids: d.Grids,
		names: d.Names, activities: d.Activities, branches: d.Branches, owner: d.Owner, weights: d.RankingWeights, now: d.Now, logger: d.Logger,
		known: -1}
}

const (
	applierLease    = "stats-applier"
	applierLeaseTTL = 30 * time.Second
	// applierIdleTTL is how long the lease stays with an instance after
	// its pass: the next pass, if it comes sooner, renews it and knows
	// what was applied; otherwise another instance may take it.
	applierIdleTTL = 5 * time.Second
)

// ApplyPending counts the transitions not yet counted, if this instance
// holds (or gets) the applier lease, for up to budget; it returns how many.
// It keeps the lease after a pass for applierIdleTTL (renewing it at the
// next pass, if that comes sooner), so that the next pass knows what was
// applied without reading it; it is given up at shutdown (StopApplying).
func (s *Stats) ApplyPending(ctx context.Context, budget time.Duration) (int, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	ok, err := s.takeLease(ctx)
	if err != nil || !ok {
		return 0, err
	}
	hctx, stop := s.hold(ctx)
	s.cursor.BeginPass()
	defer s.cursor.EndPass()
	start := time.Now()
	n := 0
	for time.Since(start) < budget && hctx.Err() == nil {
		done, err := s.applyOne(hctx)
		if err == nil && (!done || len(s.batchV) >= batchMax) {
			err = s.flush(hctx)
		}
		if err != nil {
			// What was counted and not recorded is found again, numbered,
			// by the next holder of the lease, and finished once.
			s.batchV = nil
			stop()
			s.dropLease(ctx)
			return n, leaseErr(hctx, err)
		}
		if !done {
			break
		}
		n++
	}
	if err := s.flush(hctx); err != nil {
		s.batchV = nil
		stop()
		s.dropLease(ctx)
		return n, leaseErr(hctx, err)
	}
	lost := hctx.Err() != nil // before stop, which ends hctx
	stop()
	if lost {
		s.dropLease(ctx)
		return n, nil
	}
	// Kept for the next pass, briefly: should this instance stop counting
	// (or die), another takes over within applierIdleTTL.
	if ok, err := s.locks.Renew(ctx, applierLease, s.owner, applierIdleTTL); err != nil || !ok {
		s.holding, s.known = false, -1
	}
	return n, nil
}

// takeLease renews the lease this instance kept from its last pass, or
// takes it afresh — forgetting what it knew, since another may have
// counted in between.
func (s *Stats) takeLease(ctx context.Context) (bool, error) {
	if s.holding {
		if ok, err := s.locks.Renew(ctx, applierLease, s.owner, applierLeaseTTL); err == nil && ok {
			return true, nil
		}
	}
	s.holding, s.known, s.resume = false, -1, true
	ok, _, err := s.locks.Acquire(ctx, applierLease, s.owner, applierLeaseTTL)
	if err != nil || !ok {
		return false, err
	}
	s.holding = true
	return true, nil
}

// dropLease gives the lease up (if this instance still holds it).
func (s *Stats) dropLease(ctx context.Context) {
	s.holding, s.known = false, -1
	_ = s.locks.Release(context.WithoutCancel(ctx), applierLease, s.owner)
}

// StopApplying gives up the applier's lease at shutdown, so that another
// instance takes over at its next wake-up rather than when it expires.
func (s *Stats) StopApplying(ctx context.Context) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.holding {
		s.dropLease(ctx)
	}
}

var errLeaseLost = model.Errorf(model.CodeConflict, "统计任务的租约已失效，另一实例正在统计")

// hold renews the applier lease, which this instance holds, every third
// of its time to live until stop is called. If another instance holds it
// by then, the returned context is cancelled (cause errLeaseLost): any
// write still to come fails rather than race the new holder.
func (s *Stats) hold(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(applierLeaseTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// An error (Redis unreachable) is retried at the next tick.
				if ok, err := s.locks.Renew(ctx, applierLease, s.owner, applierLeaseTTL); err == nil && !ok {
					cancel(errLeaseLost)
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		<-finished
		cancel(nil)
	}
}

// leaseErr is err, or errLeaseLost if that is why ctx ended.
func leaseErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errLeaseLost) {
		return errLeaseLost
	}
	return err
}

// flush records what the events counted since the last flush leave
// behind: the tickets' counted versions, the last event applied, the
// marks dropped — in that order, each in one write.
func (s *Stats) flush(ctx context.Context) error {
	if len(s.batchV) == 0 {
		return nil
	}
	if err := s.log.SetStatsVersions(ctx, s.batchV); err != nil {
		return err
	}
	if err := s.rollups.SetApplied(ctx, s.batchSeq, s.batchAt); err != nil {
		return err
	}
	s.batchV = nil
	return s.cursor.FlushDone(ctx)
}

// applyOne counts the next transition; false when there is none. What it
// leaves to record is recorded by flush.
func (s *Stats) applyOne(ctx context.Context) (bool, error) {
	applied, known := s.known, s.known >= 0
	if !known {
		var err error
		if applied, err = s.rollups.Applied(ctx); err != nil {
			return false, err
		}
		s.resume = true
	}
	e, err := s.cursor.PendingEntry(ctx, applied, s.resume)
	if err != nil || e == nil {
		if err == nil {
			s.known, s.resume = applied, false
		}
		return false, err
	}
	// An event cut short may be followed by others numbered after it.
	s.resume = e.Seq != 0
	seq := applied + 1
	if e.Seq == 0 {
		if err := s.cursor.NumberEntry(ctx, e.ID, seq); err != nil {
			return false, err
		}
	} else {
		// Resuming an event cut short, here or elsewhere: some of its
		// documents may be written already.
		s.rollups.Forget()
	}
	var before *model.Ticket
	var err2 error
	if e.Version > 1 {
		if before, err2 = s.stateAt(ctx, e.Ticket, e.Version-1); err2 != nil {
			return false, fmt.Errorf("count %s: %w", e.ID, err2)
		}
	}
	after := s.cursor.StateAfter(e, before)
	if after == nil {
		if after, err = s.stateAt(ctx, e.Ticket, e.Version); err != nil {
			return false, fmt.Errorf("count %s: %w", e.ID, err)
		}
	}
	at := s.now()
	if err := s.rollups.Apply(ctx, seq, at, applyOrder(model.StatsDelta(before, after).Rows())); err != nil {
		return false, err
	}
	if s.batchV == nil {
		s.batchV = map[string]int64{}
	}
	s.batchV[e.Ticket] = e.Version // versions in order: the last one counted
	s.batchSeq, s.batchAt = seq, at
	s.known = seq
	s.remember(after)
	return true, s.cursor.DoneEntry(ctx, e.ID)
}

// Rebuild recomputes every roll-up from the tickets, as of the versions
// already counted (later transitions are counted by the applier as usual).
// It holds the applier lease throughout; it returns the number of tickets.
func (s *Stats) Rebuild(ctx context.Context) (int, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	s.holding, s.known, s.batchV = false, -1, nil // the lease is released at the end
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
	ctx, stop := s.hold(ctx)
	defer stop()
	applied, err := s.rollups.Applied(ctx)
	if err != nil {
		return 0, err
	}
	total := model.Contribution{}
	n := 0
	err = s.log.Counted(ctx, func(t *model.Ticket) error {
		total.Add(model.Contribute(t))
		n++
		return nil
	})
	if err != nil {
		return n, leaseErr(ctx, err)
	}
	return n, leaseErr(ctx, s.rollups.Replace(ctx, applied, total.Rows()))
}

func vectorOf(x *model.RollupValues) Vector {
	i := func(c int) int64 { return int64(math.Round(x[c])) }
	return Vector{Counts: Counts{
		Reported: i(model.CounterReported), Registered: i(model.CounterRegistered), Resolved: i(model.CounterResolved),
		Closed: i(model.CounterClosed), OnTime: i(model.CounterOnTime), Overdue: i(model.CounterOverdue),
		Reopened: i(model.CounterReopened), Rated: i(model.CounterRated), Satisfied: i(model.CounterSatisfied),
		HoursToResolve: x[model.CounterHours],
		Dispatched:     i(model.CounterDispatched), Returned: i(model.CounterReturned), Extended: i(model.CounterExtended),
		Deferred: i(model.CounterDeferred), Urged: i(model.CounterUrged), VerifyFailed: i(model.CounterVerifyFailed),
		SelfHandled: i(model.CounterSelfHandled), PhotoFlagged: i(model.CounterPhotoFlagged), OpenOverdue: i(model.CounterOpenOverdue)},
		PartyResolved: i(model.CounterPartyResolved), Participations: i(model.CounterParticipations)}
}

// applyOrder sorts one event's rows for Apply: the "all" documents go
// last, so a reader that sees an event in the totals sees it in every
// group too.
func applyOrder(rows []model.RollupRow) []model.RollupRow {
	sort.Slice(rows, func(a, b int) bool {
		ra, rb := rows[a], rows[b]
		if (ra.Dim == model.DimAll) != (rb.Dim == model.DimAll) {
			return rb.Dim == model.DimAll
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
	case "", ByCategory, ByGrid, ByCommunity, ByWorker, BySource, ByDay, ByMonth:
	default:
		return nil, model.Invalid("group_by", "只能是 category、grid、community、worker、source、day 或 month，收到 %q", groupBy)
	}
	if groupBy == ByDay && p.To.Sub(p.From) > maxDayGroups*24*time.Hour {
		return nil, model.Invalid("group_by", "按日分组的时段最多 %d 天；更长的时段请按月（month）分组", maxDayGroups)
	}
	if groupBy == ByDay || groupBy == ByMonth {
		return s.byTime(ctx, p, groupBy)
	}
	buckets := PeriodBuckets(p)
	out := &Summary{Period: p, GroupBy: groupBy}
	// Taken before the figures, so that they include everything counted
	// by then.
	at, err := s.rollups.UpdatedAt(ctx)
	if err != nil {
		return nil, err
	}
	out.UpdatedAt = at
	all, err := s.rollups.Read(ctx, model.DimAll, buckets)
	if err != nil {
		return nil, err
	}
	for i := range all {
		out.Counts.Add(vectorOf(&all[i].Values).Counts)
	}
	if groupBy == "" {
		return out, nil
	}
	rows, err := s.rollups.Read(ctx, groupBy, buckets)
	if err != nil {
		return nil, err
	}
	if len(buckets) == 1 { // one bucket: Read gives a row per key, in key order
		out.Groups = make([]SummaryGroup, len(rows))
		for i := range rows {
			out.Groups[i] = SummaryGroup{Key: rows[i].Key, Counts: vectorOf(&rows[i].Values).Counts}
		}
	} else {
		index := make(map[string]int, len(rows)/max(len(buckets), 1)+1)
		out.Groups = make([]SummaryGroup, 0, len(rows)/max(len(buckets), 1)+1)
		for i := range rows {
			r := &rows[i]
			j, ok := index[r.Key]
			if !ok {
				j = len(out.Groups)
				index[r.Key] = j
				out.Groups = append(out.Groups, SummaryGroup{Key: r.Key})
			}
			out.Groups[j].Counts.Add(vectorOf(&r.Values).Counts)
		}
	}
	// Most resolved first, then by key. Sorting numbers, not the groups:
	// they are large, a year by grid has thousands, and their resolved
	// counts tie often. Each is the complement of resolved above the
	// group's rank by key below.
	groups := out.Groups
	rank := make([]int32, len(groups)) // position → rank by key
	if slices.IsSortedFunc(groups, func(a, b SummaryGroup) int { return strings.Compare(a.Key, b.Key) }) {
		for i := range rank {
			rank[i] = int32(i) // as the rows of one bucket come
		}
	} else {
		byKey := make([]int32, len(groups))
		for i := range byKey {
			byKey[i] = int32(i)
		}
		slices.SortFunc(byKey, func(a, b int32) int { return strings.Compare(groups[a].Key, groups[b].Key) })
		for r, i := range byKey {
			rank[i] = int32(r)
		}
	}
	order := make([]uint64, len(groups))
	for i, g := range groups {
		order[i] = uint64(math.MaxUint32-uint32(min(max(g.Resolved, 0), math.MaxUint32)))<<32 | uint64(rank[i])
	}
	slices.Sort(order)
	byRank := make([]int32, len(groups))
	for i := range groups {
		byRank[rank[i]] = int32(i)
	}
	out.Groups = make([]SummaryGroup, len(groups))
	for i, o := range order {
		j := byRank[uint32(o)]
		out.Groups[i] = groups[j]
		out.Groups[i].Name = s.groupName(ctx, groupBy, groups[j].Key)
	}
	return out, nil
}

// maxDayGroups bounds a summary by day.
const maxDayGroups = 366

// byTime is the summary grouped by day or month of the period, in order;
// a month cut by the period counts only its days in it.
func (s *Stats) byTime(ctx context.Context, p Period, groupBy string) (*Summary, error) {
	out := &Summary{Period: p, GroupBy: groupBy}
	var buckets []string
	groupOf := map[string]int{} // bucket → group
	from, to := p.From.In(shanghai), p.To.In(shanghai)
	for d := from; !d.After(to); {
		var sub Period
		var key string
		if groupBy == ByDay {
			sub, key = Period{From: d, To: d}, d.Format("2006-01-02")
			d = d.AddDate(0, 0, 1)
		} else {
			end := time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, shanghai).AddDate(0, 0, -1)
			if end.After(to) {
				end = to
			}
			sub, key = Period{From: d, To: end}, d.Format("2006-01")
			d = end.AddDate(0, 0, 1)
		}
		out.Groups = append(out.Groups, SummaryGroup{Key: key, Name: key})
		for _, b := range PeriodBuckets(sub) {
			groupOf[b] = len(out.Groups) - 1
			buckets = append(buckets, b)
		}
	}
	rows, err := s.rollups.Read(ctx, model.DimAll, buckets)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		c := vectorOf(&rows[i].Values).Counts
		out.Counts.Add(c)
		if g, ok := groupOf[rows[i].Period]; ok {
			out.Groups[g].Counts.Add(c)
		}
	}
	return out, nil
}

func (s *Stats) groupName(ctx context.Context, dim, key string) string {
	switch dim {
	case BySource:
		return model.Source(key).Label()
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
	rows, err := s.rollups.Read(ctx, model.DimMember, buckets)
	if err != nil {
		return nil, Vector{}, err
	}
	all, err := s.rollups.Read(ctx, model.DimAll, buckets)
	if err != nil {
		return nil, Vector{}, err
	}
	var total Vector
	for _, r := range all {
		total.add(vectorOf(&r.Values), 1)
	}
	byUser := map[string]Vector{}
	for _, r := range rows {
		v := byUser[r.Key]
		v.add(vectorOf(&r.Values), 1)
		byUser[r.Key] = v
	}
	return byUser, total, nil
}
