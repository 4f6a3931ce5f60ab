package handler

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/stats"
)

// countsJSON are the indicators of /stats/summary (docs/statistics.md).
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
	// The residents' ratings: each ticket's latest rating counts once.
	Scored       int64   `json:"scored"`
	RatingPoints int64   `json:"rating_points"`
	MeanRating   float64 `json:"mean_rating"`
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

func toCounts(c stats.Counts) countsJSON {
	return countsJSON{
		Reported: c.Reported, Registered: c.Registered, Resolved: c.Resolved, Closed: c.Closed, OnTime: c.OnTime,
		Overdue: c.Overdue, Reopened: c.Reopened, Rated: c.Rated, Satisfied: c.Satisfied,
		ResolutionRate: round4(c.ResolutionRate()), OnTimeRate: round4(c.OnTimeRate()), ReopenRate: round4(c.ReopenRate()),
		SatisfactionRate: round4(c.SatisfactionRate()), MeanHoursToResolve: math.Round(c.MeanHoursToResolve()*10) / 10,
		Dispatched: c.Dispatched, Returned: c.Returned, Extended: c.Extended, Deferred: c.Deferred, Urged: c.Urged,
		VerifyFailed: c.VerifyFailed, SelfHandled: c.SelfHandled, PhotoFlagged: c.PhotoFlagged, OpenOverdue: c.OpenOverdue,
		ValidReportRate: round4(c.ValidReportRate()), DispatchAccuracy: round4(c.DispatchAccuracy()),
		Scored: c.Scored, RatingPoints: c.RatingPoints, MeanRating: math.Round(c.MeanRating()*100) / 100,
	}
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
	p, err := h.period(c)
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
	r, err := h.Stats.Ranking(c.Request().Context(), p, by, minSample)
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
	p, err := h.period(c)
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

type branchStatsJSON struct {
	BranchID        string `json:"branch_id"`
	Name            string `json:"name"`
	Participations  int64  `json:"participations"`
	DistinctMembers int64  `json:"distinct_members"`
	Resolved        int64  `json:"resolved"`
}

type memberStatsJSON struct {
	MemberID       string `json:"member_id"`
	Name           string `json:"name"`
	Branch         string `json:"branch"`
	Participations int64  `json:"participations"`
	Resolved       int64  `json:"resolved"`
}

type partyJSON struct {
	From                     string            `json:"from"`
	To                       string            `json:"to"`
	ResolvedWithPartyMembers int64             `json:"resolved_with_party_members"`
	Participations           int64             `json:"participations"`
	DistinctMembers          int64             `json:"distinct_members"`
	Activities               int64             `json:"activities"`
	ActivitiesByKind         map[string]int64  `json:"activities_by_kind"`
	ActivityParticipations   int64             `json:"activity_participations"`
	Branches                 []branchStatsJSON `json:"branches"`
	Members                  []memberStatsJSON `json:"members"`
}

func (h *handlers) statsPartyBuilding(c echo.Context) error {
	p, err := h.period(c)
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
		Branches: make([]branchStatsJSON, len(pb.Branches)), Members: make([]memberStatsJSON, len(pb.Members))}
	for i, b := range pb.Branches {
		out.Branches[i] = branchStatsJSON{BranchID: b.BranchID, Name: b.Name, Participations: b.Participations, DistinctMembers: b.DistinctMembers, Resolved: b.Resolved}
	}
	for i, m := range pb.Members {
		out.Members[i] = memberStatsJSON{MemberID: m.MemberID, Name: m.Name, Branch: m.BranchName, Participations: m.Participations, Resolved: m.Resolved}
	}
	return c.JSON(http.StatusOK, out)
}

// exportStats is GET /api/v1/stats/export.xlsx?from=&to=: the workbook of
// stats.WriteWorkbook for the period, as an attachment named
// 城管统计_<from>_<to>.xlsx. Errors: 400 for a bad period.
func (h *handlers) exportStats(c echo.Context) error {
	p, err := h.period(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	total, err := h.Stats.Summary(ctx, p, "")
	if err != nil {
		return err
	}
	byCategory, err := h.Stats.Summary(ctx, p, stats.ByCategory)
	if err != nil {
		return err
	}
	byGrid, err := h.Stats.Summary(ctx, p, stats.ByGrid)
	if err != nil {
		return err
	}
	pb, err := h.Stats.PartyBuilding(ctx, p)
	if err != nil {
		return err
	}
	// Built in memory first, so that a failure is still a clean error
	// response rather than half a file.
	more := stats.WorkbookMore{}
	if more.BySource, err = h.Stats.Summary(ctx, p, stats.BySource); err != nil {
		return err
	}
	if more.ByTime, err = h.Stats.Summary(ctx, p, stats.TimeGroup(p)); err != nil {
		return err
	}
	for _, by := range []string{stats.ByGrid, stats.ByCommunity, stats.ByWorker} {
		r, err := h.Stats.Ranking(ctx, p, by, defaultMinSample)
		if err != nil {
			return err
		}
		more.Rankings = append(more.Rankings, r)
	}
	var buf bytes.Buffer
	if err := stats.WriteWorkbook(&buf, total, byCategory, byGrid, pb, more); err != nil {
		return err
	}
	days := p.From.In(shanghai).Format(time.DateOnly) + "_" + p.To.In(shanghai).Format(time.DateOnly)
	h.recordExport(c, "统计", "导出统计报表，期间 "+days)
	c.Response().Header().Set(echo.HeaderContentDisposition,
		attachmentDisposition("chengguan-stats_"+days+".xlsx", "城管统计_"+days+".xlsx"))
	return c.Blob(http.StatusOK, xlsxContentType, buf.Bytes())
}

// maxPeriodYears bounds a statistics period.
const maxPeriodYears = 3

// period reads the statistics period of ?from=&to= (parsePeriodAt) as of
// the handlers' clock.
func (h *handlers) period(c echo.Context) (stats.Period, error) {
	return parsePeriodAt(c, h.Now())
}

// parsePeriodAt reads the statistics period of ?from=&to=: calendar dates
// (2026-01-01) in China Standard Time, both included; a full RFC 3339 time
// stands for its calendar day in China Standard Time, since statistics are
// kept by day. Without from, the period starts on 1 January of to's year;
// without to, it ends on now's day; without either it is the current year
// to date. The result's From and To are midnight in Asia/Shanghai. Errors:
// invalid_argument for a malformed date, from after to, or a period over
// three years.
func parsePeriodAt(c echo.Context, now time.Time) (stats.Period, error) {
	from, err := periodDay(c, "from")
	if err != nil {
		return stats.Period{}, err
	}
	to, err := periodDay(c, "to")
	if err != nil {
		return stats.Period{}, err
	}
	if to.IsZero() {
		y, m, d := now.In(shanghai).Date()
		to = time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	}
	if from.IsZero() {
		from = time.Date(to.Year(), time.January, 1, 0, 0, 0, 0, shanghai)
	}
	if from.After(to) {
		return stats.Period{}, model.Invalid("from", "不能晚于 to（%s 晚于 %s）", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	if !to.Before(from.AddDate(maxPeriodYears, 0, 0)) {
		return stats.Period{}, model.Invalid("to", "与 from 相隔不能超过 %d 年", maxPeriodYears)
	}
	return stats.Period{From: from, To: to}, nil
}

// periodDay reads one end of a period as midnight of its day in China
// Standard Time; zero when absent.
func periodDay(c echo.Context, name string) (time.Time, error) {
	s := strings.TrimSpace(c.QueryParam(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		ts, err2 := time.Parse(time.RFC3339, s)
		if err2 != nil {
			return time.Time{}, model.Invalid(name, "必须是日期（如 2026-01-31）或 RFC 3339 时间，不能是 %q", s)
		}
		t = ts
	}
	y, m, d := t.In(shanghai).Date()
	if y < 2000 || y > 2999 {
		return time.Time{}, model.Invalid(name, "必须是 2000 年到 2999 年之间的日期")
	}
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai), nil
}
