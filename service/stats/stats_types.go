package stats

import "time"

// Counts are the digital city-management indicators (docs/statistics.md) for one
// group and period. Every count is derived from the ticket events.
type Counts struct {
	Reported   int64 // reports received, duplicates and rejected ones included
	Registered int64 // 立案: reports that became tickets
	Resolved   int64 // closed after being fixed (rejected and merged never count)
	Closed     int64 // 结案: closed, rated or not
	OnTime     int64 // resolved within the handling limit
	Overdue    int64 // escalated past the handling limit
	Reopened   int64 // 返工: times residents were not satisfied
	Rated      int64 // feedback given
	Satisfied  int64
	// HoursToResolve is the sum over resolved tickets of the hours from
	// registration to (last) resolution; see MeanHoursToResolve.
	HoursToResolve float64

	// The evaluation's counts (docs/statistics.md), each at the time of its
	// event.
	Dispatched   int64 // 派遣: dispatches (routing and staff)
	Returned     int64 // 退回 by the assignee
	Extended     int64 // 延期 approved
	Deferred     int64 // 挂账
	Urged        int64 // 督办
	VerifyFailed int64 // 核查 failed (返工)
	SelfHandled  int64 // 自处置 patrol cases
	PhotoFlagged int64 // resolutions whose "after" photos want a 核查
	// OpenOverdue are tickets past their (approved) deadline and not yet
	// closed, at the time they went past it.
	OpenOverdue int64
	// Scored are the tickets with a resident's rating (each its latest,
	// counted when first given) and RatingPoints the sum of those ratings:
	// see MeanRating.
	Scored       int64
	RatingPoints int64
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ResolutionRate is 结案率: resolved / registered.
func (c Counts) ResolutionRate() float64 { return ratio(c.Resolved, c.Registered) }

// OnTimeRate is 按期结案率: closed on time ÷ (closed + still open past the
// deadline). A ticket left open past its deadline counts against the unit
// as a late closing does, so that closing late is never worse than not
// closing.
func (c Counts) OnTimeRate() float64 { return ratio(c.OnTime, c.Closed+c.OpenOverdue) }

// ValidReportRate is 有效上报率: registered ÷ reported.
func (c Counts) ValidReportRate() float64 { return ratio(c.Registered, c.Reported) }

// DispatchAccuracy is 派遣准确率: 1 − returned ÷ dispatched (1 with nothing
// dispatched).
func (c Counts) DispatchAccuracy() float64 {
	if c.Dispatched == 0 {
		return 1
	}
	return max(0, 1-ratio(c.Returned, c.Dispatched))
}

// Sample is how many tickets the on-time rate judges: closed, or open past
// the deadline (the ranking's minimum sample).
func (c Counts) Sample() int64 { return c.Closed + c.OpenOverdue }

// ReopenRate is 返工率: reopened / resolved.
func (c Counts) ReopenRate() float64 { return ratio(c.Reopened, c.Resolved) }

// SatisfactionRate is 满意率: satisfied / rated.
func (c Counts) SatisfactionRate() float64 { return ratio(c.Satisfied, c.Rated) }

// MeanRating is 平均评分: the mean of the residents' ratings (1–5), each
// ticket's latest (a changed rating counts as changed), 0 with none.
func (c Counts) MeanRating() float64 {
	if c.Scored == 0 {
		return 0
	}
	return float64(c.RatingPoints) / float64(c.Scored)
}

// MeanHoursToResolve is the mean of the hours from registration to
// resolution over resolved tickets.
func (c Counts) MeanHoursToResolve() float64 {
	if c.Resolved == 0 {
		return 0
	}
	return c.HoursToResolve / float64(c.Resolved)
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Reported += o.Reported
	c.Registered += o.Registered
	c.Resolved += o.Resolved
	c.Closed += o.Closed
	c.OnTime += o.OnTime
	c.Overdue += o.Overdue
	c.Reopened += o.Reopened
	c.Rated += o.Rated
	c.Satisfied += o.Satisfied
	c.HoursToResolve += o.HoursToResolve
	c.Dispatched += o.Dispatched
	c.Returned += o.Returned
	c.Extended += o.Extended
	c.Deferred += o.Deferred
	c.Urged += o.Urged
	c.VerifyFailed += o.VerifyFailed
	c.SelfHandled += o.SelfHandled
	c.PhotoFlagged += o.PhotoFlagged
	c.OpenOverdue += o.OpenOverdue
	c.Scored += o.Scored
	c.RatingPoints += o.RatingPoints
}

// Period is a span of calendar days in China Standard Time, both ends
// included.
type Period struct {
	From, To time.Time // midnight in Asia/Shanghai
}

// Group dimensions of /stats/summary.
const (
	ByCategory  = "category"
	ByGrid      = "grid"
	ByCommunity = "community"
	ByWorker    = "worker"
	BySource    = "source"
	ByDay       = "day"
	ByMonth     = "month"
)

// Summary is /stats/summary: the totals and, when grouped, per group.
type Summary struct {
	Period  Period
	GroupBy string
	Counts
	Groups []SummaryGroup
	// UpdatedAt is when the applier last counted a transition (zero if it
	// never has).
	UpdatedAt time.Time
}

// SummaryGroup is one group of a summary.
type SummaryGroup struct {
	Key  string
	Name string
	Counts
}

// PartyBuilding is /stats/party-building: 党建统计 for a period.
type PartyBuilding struct {
	Period Period
	// ResolvedWithPartyMembers counts tickets resolved (closed after being
	// fixed) with a party member's participation.
	ResolvedWithPartyMembers int64
	// Participations are 人次: a claim-and-resolve or an activity check-in
	// is one.
	Participations int64
	// DistinctMembers counts the party members with at least one.
	DistinctMembers int64
	// Activities are volunteer activities (志愿服务/主题实践/联合执法) that
	// started in the period, by kind in ActivitiesByKind.
	Activities             int64
	ActivitiesByKind       map[string]int64
	ActivityParticipations int64
	Branches               []BranchFigures
	Members                []MemberFigures
}

// BranchFigures are one party branch's figures.
type BranchFigures struct {
	BranchID        string
	Name            string
	Participations  int64
	DistinctMembers int64
	Resolved        int64
}

// MemberFigures are one party member's figures.
type MemberFigures struct {
	MemberID       string // the party-member profile id
	Name           string
	BranchName     string
	Participations int64
	Resolved       int64
}

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
	v.Scored += sign * o.Scored
	v.RatingPoints += sign * o.RatingPoints
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
