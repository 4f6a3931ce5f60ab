package handler

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// countsJSON are the indicators of API.md (/stats/summary).
type countsJSON struct {
	Reported           int64   `json:"reported"`
	Registered         int64   `json:"registered"`
	Resolved           int64   `json:"resolved"`
	Closed             int64   `json:"closed"`
	OnTime             int64   `json:"on_time"`
	Overdue            int64   `json:"overdue"`
	Reopened           int64   `json:"reopened"`
	Rated              int64   `json:"rated"`
	Satisfied          int64   `json:"satisfied"`
	ResolutionRate     float64 `json:"resolution_rate"`
	OnTimeRate         float64 `json:"on_time_rate"`
	ReopenRate         float64 `json:"reopen_rate"`
	SatisfactionRate   float64 `json:"satisfaction_rate"`
	MeanHoursToResolve float64 `json:"mean_hours_to_resolve"`
	// The evaluation (docs/statistics.md).
	Dispatched       int64   `json:"dispatched"`
	Returned         int64   `json:"returned"`
	Extended         int64   `json:"extended"`
	Deferred         int64   `json:"deferred"`
	Urged            int64   `json:"urged"`
	VerifyFailed     int64   `json:"verify_failed"`
	SelfHandled      int64   `json:"self_handled"`
	PhotoFlagged     int64   `json:"photo_flagged"`
	OpenOverdue      int64   `json:"open_overdue"`
	ValidReportRate  float64 `json:"valid_report_rate"`
	DispatchAccuracy float64 `json:"dispatch_accuracy"`
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

func toCounts(c service.Counts) countsJSON {
	return countsJSON{
		Reported: c.Reported, Registered: c.Registered, Resolved: c.Resolved, Closed: c.Closed, OnTime: c.OnTime,
		Overdue: c.Overdue, Reopened: c.Reopened, Rated: c.Rated, Satisfied: c.Satisfied,
		ResolutionRate: round4(c.ResolutionRate()), OnTimeRate: round4(c.OnTimeRate()), ReopenRate: round4(c.ReopenRate()),
		SatisfactionRate: round4(c.SatisfactionRate()), MeanHoursToResolve: math.Round(c.MeanHoursToResolve()*10) / 10,
		Dispatched: c.Dispatched, Returned: c.Returned, Extended: c.Extended, Deferred: c.Deferred, Urged: c.Urged,
		VerifyFailed: c.VerifyFailed, SelfHandled: c.SelfHandled, PhotoFlagged: c.PhotoFlagged, OpenOverdue: c.OpenOverdue,
		ValidReportRate: round4(c.ValidReportRate()), DispatchAccuracy: round4(c.DispatchAccuracy()),
	}
}

// RankingReader is the statistics' ranking.
type RankingReader interface {
	Ranking(ctx context.Context, p service.Period, by string, minSample int) (*service.Ranking, error)
}

// defaultMinSample is the ranking's min_sample when none is given.
const defaultMinSample = 10

type rankingItemJSON struct {
	Key    string  `json:"key"`
	Name   string  `json:"name"`
	Rank   int     `json:"rank"`
	Score  float64 `json:"score"`
	Sample int64   `json:"sample"`
	countsJSON
}

type excludedJSON struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Sample int64  `json:"sample"`
}

type rankingJSON struct {
	From      string             `json:"from"`
	To        string             `json:"to"`
	By        string             `json:"by"`
	MinSample int                `json:"min_sample"`
	Weights   map[string]float64 `json:"weights"`
	Items     []rankingItemJSON  `json:"items"`
	Excluded  []excludedJSON     `json:"excluded"`
}

func (h *handlers) statsRanking(c echo.Context) error {
	rr, ok := h.Stats.(RankingReader)
	if !ok {
		return model.Errorf(model.CodeUnavailable, "排名暂不可用")
	}
	p, err := ParsePeriod(c)
	if err != nil {
		return err
	}
	minSample := defaultMinSample
	if v := c.QueryParam("min_sample"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000000 {
			return model.Invalid("min_sample", "必须是 0 到 1000000 之间的整数，收到 %q", v)
		}
		minSample = n
	}
	by := c.QueryParam("by")
	if by == "" {
		return model.Invalid("by", "必须填写：grid、community 或 worker")
	}
	r, err := rr.Ranking(c.Request().Context(), p, by, minSample)
	if err != nil {
		return err
	}
	out := rankingJSON{From: p.From.Format("2006-01-02"), To: p.To.Format("2006-01-02"), By: r.By, MinSample: r.MinSample,
		Weights: r.Weights, Items: make([]rankingItemJSON, len(r.Items)), Excluded: make([]excludedJSON, len(r.Excluded))}
	for i, it := range r.Items {
		out.Items[i] = rankingItemJSON{Key: it.Key, Name: it.Name, Rank: it.Rank, Score: it.Score, Sample: it.Sample, countsJSON: toCounts(it.Counts)}
	}
	for i, it := range r.Excluded {
		out.Excluded[i] = excludedJSON{Key: it.Key, Name: it.Name, Sample: it.Sample}
	}
	return c.JSON(http.StatusOK, out)
}

type groupJSON struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	countsJSON
}

type summaryJSON struct {
	From      string     `json:"from"`
	To        string     `json:"to"`
	GroupBy   string     `json:"group_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at"`
	countsJSON
	Groups []groupJSON `json:"groups"`
}

func (h *handlers) statsSummary(c echo.Context) error {
	p, err := ParsePeriod(c)
	if err != nil {
		return err
	}
	s, err := h.Stats.Summary(c.Request().Context(), p, c.QueryParam("group_by"))
	if err != nil {
		return err
	}
	out := summaryJSON{From: p.From.Format("2006-01-02"), To: p.To.Format("2006-01-02"), GroupBy: s.GroupBy,
		countsJSON: toCounts(s.Counts), Groups: make([]groupJSON, len(s.Groups))}
	if !s.UpdatedAt.IsZero() {
		at := s.UpdatedAt.UTC()
		out.UpdatedAt = &at
	}
	for i, g := range s.Groups {
		out.Groups[i] = groupJSON{Key: g.Key, Name: g.Name, countsJSON: toCounts(g.Counts)}
	}
	return c.JSON(http.StatusOK, out)
}

type branchJSON struct {
	BranchID        string `json:"branch_id"`
	Name            string `json:"name"`
	Participations  int64  `json:"participations"`
	DistinctMembers int64  `json:"distinct_members"`
	Resolved        int64  `json:"resolved"`
}

type memberJSON struct {
	MemberID       string `json:"member_id"`
	Name           string `json:"name"`
	Branch         string `json:"branch"`
	Participations int64  `json:"participations"`
	Resolved       int64  `json:"resolved"`
}

type partyJSON struct {
	From                     string           `json:"from"`
	To                       string           `json:"to"`
	ResolvedWithPartyMembers int64            `json:"resolved_with_party_members"`
	Participations           int64            `json:"participations"`
	DistinctMembers          int64            `json:"distinct_members"`
	Activities               int64            `json:"activities"`
	ActivitiesByKind         map[string]int64 `json:"activities_by_kind"`
	ActivityParticipations   int64            `json:"activity_participations"`
	Branches                 []branchJSON     `json:"branches"`
	Members                  []memberJSON     `json:"members"`
}

func (h *handlers) statsPartyBuilding(c echo.Context) error {
	p, err := ParsePeriod(c)
	if err != nil {
		return err
	}
	pb, err := h.Stats.PartyBuilding(c.Request().Context(), p)
	if err != nil {
		return err
	}
	out := partyJSON{From: p.From.Format("2006-01-02"), To: p.To.Format("2006-01-02"),
		ResolvedWithPartyMembers: pb.ResolvedWithPartyMembers, Participations: pb.Participations, DistinctMembers: pb.DistinctMembers,
		Activities: pb.Activities, ActivitiesByKind: pb.ActivitiesByKind, ActivityParticipations: pb.ActivityParticipations,
		Branches: make([]branchJSON, len(pb.Branches)), Members: make([]memberJSON, len(pb.Members))}
	for i, b := range pb.Branches {
		out.Branches[i] = branchJSON{BranchID: b.BranchID, Name: b.Name, Participations: b.Participations, DistinctMembers: b.DistinctMembers, Resolved: b.Resolved}
	}
	for i, m := range pb.Members {
		out.Members[i] = memberJSON{MemberID: m.MemberID, Name: m.Name, Branch: m.BranchName, Participations: m.Participations, Resolved: m.Resolved}
	}
	return c.JSON(http.StatusOK, out)
}
