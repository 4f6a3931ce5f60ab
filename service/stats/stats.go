package stats

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/people"
)

// Store is the statistics as the store keeps them: every committed
// transition counted exactly once into roll-ups by period bucket,
// dimension and key (on SQLite within the commit, on MongoDB by its
// applier; docs/statistics.md).
type Store interface {
	// Read returns a row per bucket and key, each bucket's rows in key
	// order. They may be shared with other readers: read only.
	Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error)
	// UpdatedAt is when a transition was last counted (zero if never).
	UpdatedAt(ctx context.Context) (time.Time, error)
	// Rebuild recomputes every roll-up from the tickets and returns how
	// many it read.
	Rebuild(ctx context.Context) (int, error)
}

// Service reads the statistics: the summary by period and group, the
// ranking, party building, the bureau's report and the export.
type Service struct {
	store      Store
	categories *catalogue.Categories
	grids      *catalogue.Grids
	names      *people.Names
	activities ActivityFigures
	branches   BranchGetter
	weights    model.RankingWeights
	now        func() time.Time
	logger     *slog.Logger
}

// ServiceDeps are the collaborators of Service.
type ServiceDeps struct {
	Store      Store
	Categories *catalogue.Categories
	Grids      *catalogue.Grids
	Names      *people.Names
	Activities ActivityFigures
	Branches   BranchGetter
	// RankingWeights weigh the ranking's score (nil: the defaults).
	RankingWeights model.RankingWeights
	Now            func() time.Time
	Logger         *slog.Logger
}

// NewService returns the statistics service.
func NewService(d ServiceDeps) *Service {
	return &Service{store: d.Store, categories: d.Categories, grids: d.Grids, names: d.Names, activities: d.Activities,
		branches: d.Branches, weights: d.RankingWeights, now: d.Now, logger: d.Logger}
}

// Rebuild recomputes every roll-up from the tickets (`server
// rebuild-stats`) and returns how many tickets it read. Errors: those of
// the store (unavailable).
func (s *Service) Rebuild(ctx context.Context) (int, error) { return s.store.Rebuild(ctx) }

func vectorOf(x *model.RollupValues) Vector {
	i := func(c int) int64 { return int64(math.Round(x[c])) }
	return Vector{Counts: Counts{
		Reported: i(model.CounterReported), Registered: i(model.CounterRegistered), Resolved: i(model.CounterResolved),
		Closed: i(model.CounterClosed), OnTime: i(model.CounterOnTime), Overdue: i(model.CounterOverdue),
		Reopened: i(model.CounterReopened), Rated: i(model.CounterRated), Satisfied: i(model.CounterSatisfied),
		HoursToResolve: x[model.CounterHours],
		Dispatched:     i(model.CounterDispatched), Returned: i(model.CounterReturned), Extended: i(model.CounterExtended),
		Deferred: i(model.CounterDeferred), Urged: i(model.CounterUrged), VerifyFailed: i(model.CounterVerifyFailed),
		SelfHandled: i(model.CounterSelfHandled), PhotoFlagged: i(model.CounterPhotoFlagged), OpenOverdue: i(model.CounterOpenOverdue),
		Scored: i(model.CounterScored), RatingPoints: i(model.CounterRatingPoints)},
		PartyResolved: i(model.CounterPartyResolved), Participations: i(model.CounterParticipations)}
}

// PeriodBuckets covers the days of p with the fewest buckets: whole years,
// then whole months, then days.
func PeriodBuckets(p Period) []string {
	var out []string
	from, to := p.From.In(model.ChinaTime()), p.To.In(model.ChinaTime())
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
func (s *Service) Summary(ctx context.Context, p Period, groupBy string) (*Summary, error) {
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
	at, err := s.store.UpdatedAt(ctx)
	if err != nil {
		return nil, err
	}
	out.UpdatedAt = at
	all, err := s.store.Read(ctx, model.DimAll, buckets)
	if err != nil {
		return nil, err
	}
	for i := range all {
		out.Counts.Add(vectorOf(&all[i].Values).Counts)
	}
	if groupBy == "" {
		return out, nil
	}
	rows, err := s.store.Read(ctx, groupBy, buckets)
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
func (s *Service) byTime(ctx context.Context, p Period, groupBy string) (*Summary, error) {
	out := &Summary{Period: p, GroupBy: groupBy}
	var buckets []string
	groupOf := map[string]int{} // bucket → group
	from, to := p.From.In(model.ChinaTime()), p.To.In(model.ChinaTime())
	for d := from; !d.After(to); {
		var sub Period
		var key string
		if groupBy == ByDay {
			sub, key = Period{From: d, To: d}, d.Format("2006-01-02")
			d = d.AddDate(0, 0, 1)
		} else {
			end := time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, model.ChinaTime()).AddDate(0, 0, -1)
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
	rows, err := s.store.Read(ctx, model.DimAll, buckets)
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

func (s *Service) groupName(ctx context.Context, dim, key string) string {
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
func (s *Service) MemberRows(ctx context.Context, p Period) (map[string]Vector, Vector, error) {
	buckets := PeriodBuckets(p)
	rows, err := s.store.Read(ctx, model.DimMember, buckets)
	if err != nil {
		return nil, Vector{}, err
	}
	all, err := s.store.Read(ctx, model.DimAll, buckets)
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
