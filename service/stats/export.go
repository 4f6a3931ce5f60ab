package stats

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/workbook"
)

// The sheets of the statistics workbook, in order.
const (
	SheetSummary  = "汇总"
	SheetCategory = "按类别"
	SheetGrid     = "按网格"
	SheetBranch   = "按党支部"
	SheetMember   = "按党员"
	SheetSource   = "按来源"
	SheetDay      = "按日"
	SheetMonth    = "按月"
	// SheetRanking is the prefix of the ranking sheets: 排名-网格 …
	SheetRanking = "排名-"
)

// WorkbookMore are the evaluation's sheets of the workbook: 按来源 (the
// summary by source) and one 排名 sheet per ranking.
type WorkbookMore struct {
	BySource *Summary
	Rankings []*Ranking
	// ByTime is the period by day or by month (TimeGroup), each row's first
	// cell an Excel date.
	ByTime *Summary
}

// TimeGroup is how the workbook divides a period in time: by day up to
// the days a summary by day may have, else by month.
func TimeGroup(p Period) string {
	if p.To.Sub(p.From) > maxDayGroups*24*time.Hour {
		return ByMonth
	}
	return ByDay
}

// rankingTitle names a ranking's sheet by its unit.
func rankingTitle(by string) string {
	switch by {
	case ByGrid:
		return SheetRanking + "网格"
	case ByCommunity:
		return SheetRanking + "社区"
	case ByWorker:
		return SheetRanking + "网格员"
	}
	return SheetRanking + by
}

// PeriodTitle is the title row of every sheet of the workbook:
// "统计期间：2026-01-01 至 2026-12-31".
func PeriodTitle(p Period) string {
	return fmt.Sprintf("统计期间：%s 至 %s", p.From.In(model.ChinaTime()).Format(time.DateOnly), p.To.In(model.ChinaTime()).Format(time.DateOnly))
}

// xlsxIndicator is one of the digital city-management indicators.
type xlsxIndicator struct {
	name, note string
	value      func(Counts) any
}

func xlsxIndicators() []xlsxIndicator {
	return []xlsxIndicator{
		{"上报数", "收到的上报，含重复和驳回", func(c Counts) any { return c.Reported }},
		{"立案数", "立案成为工单的上报", func(c Counts) any { return c.Registered }},
		{"结案数", "处置完成后结案的问题", func(c Counts) any { return c.Resolved }},
		{"已结案", "已结案的工单，评价与否", func(c Counts) any { return c.Closed }},
		{"按期结案数", "在处置时限内解决", func(c Counts) any { return c.OnTime }},
		{"超期数", "超过处置时限", func(c Counts) any { return c.Overdue }},
		{"返工数", "居民不满意而返工的次数", func(c Counts) any { return c.Reopened }},
		{"评价数", "居民作出评价", func(c Counts) any { return c.Rated }},
		{"满意数", "居民表示满意", func(c Counts) any { return c.Satisfied }},
		{"结案率", "结案数 ÷ 立案数", func(c Counts) any { return workbook.Percent(c.ResolutionRate()) }},
		{"按期结案率", "按期结案数 ÷（已结案 + 超期未结案）", func(c Counts) any { return workbook.Percent(c.OnTimeRate()) }},
		{"返工率", "返工数 ÷ 结案数", func(c Counts) any { return workbook.Percent(c.ReopenRate()) }},
		{"满意率", "满意数 ÷ 评价数", func(c Counts) any { return workbook.Percent(c.SatisfactionRate()) }},
		{"平均处置时长（小时）", "立案至解决的平均小时数", func(c Counts) any { return workbook.Hours(c.MeanHoursToResolve()) }},
		{"派遣数", "派遣次数（自动与人工）", func(c Counts) any { return c.Dispatched }},
		{"退回数", "处置人退回的次数", func(c Counts) any { return c.Returned }},
		{"延期数", "批准的延期申请", func(c Counts) any { return c.Extended }},
		{"挂账数", "挂账次数", func(c Counts) any { return c.Deferred }},
		{"督办数", "督办次数", func(c Counts) any { return c.Urged }},
		{"核查不通过数", "核查不通过而返工的次数", func(c Counts) any { return c.VerifyFailed }},
		{"自处置数", "网格员巡查发现并当场处置", func(c Counts) any { return c.SelfHandled }},
		{"照片待核查数", "处置照片位置或时间可疑的工单", func(c Counts) any { return c.PhotoFlagged }},
		{"超期未结案数", "超过处置时限仍未结案", func(c Counts) any { return c.OpenOverdue }},
		{"有效上报率", "立案数 ÷ 上报数", func(c Counts) any { return workbook.Percent(c.ValidReportRate()) }},
		{"派遣准确率", "1 − 退回数 ÷ 派遣数", func(c Counts) any { return workbook.Percent(c.DispatchAccuracy()) }},
		{"平均评分", "居民评分（1–5 分，每件取最后一次评分）的平均值", func(c Counts) any { return workbook.Hours(c.MeanRating()) }},
	}
}

// WriteWorkbook writes the statistics of one period as an .xlsx workbook
// to w: 汇总 (the indicators of s and the party-building totals of pb),
// 按类别 and 按网格 (the groups of byCategory and byGrid with a 合计 row),
// 按党支部 and 按党员 (pb's branches and members), and with more, 按来源 and
// the 排名 sheets (ranked units, then those with too small a sample). Every sheet has the
// period as its title row and a bold, frozen header row; counts and rates
// are numeric cells (rates formatted 0.00%), so the bureau can compute with
// them. A nil byCategory, byGrid or pb gives sheets with headers only; s
// must not be nil. Errors come from writing to w.
func WriteWorkbook(w io.Writer, s *Summary, byCategory, byGrid *Summary, pb *PartyBuilding, more ...WorkbookMore) error {
	if s == nil {
		return fmt.Errorf("write workbook: no summary")
	}
	if pb == nil {
		pb = &PartyBuilding{Period: s.Period}
	}
	f := excelize.NewFile()
	defer f.Close()
	b, err := workbook.New(f, PeriodTitle(s.Period))
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: "市民城管通统计 " + PeriodTitle(s.Period), Creator: "市民城管通", Language: "zh-CN",
	}); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	sheets := []func() error{
		func() error { return summarySheet(b, SheetSummary, s.Counts, pb) },
		func() error { return groupsSheet(b, SheetCategory, "类别编码", "类别名称", byCategory) },
		func() error { return groupsSheet(b, SheetGrid, "网格编码", "网格名称", byGrid) },
		func() error { return branchesSheet(b, SheetBranch, pb.Branches) },
		func() error { return membersSheet(b, SheetMember, pb.Members) },
	}
	for _, m := range more {
		if m.BySource != nil {
			sheets = append(sheets, func() error { return groupsSheet(b, SheetSource, "来源", "来源名称", m.BySource) })
		}
		if m.ByTime != nil {
			sheets = append(sheets, func() error { return timeSheet(b, m.ByTime) })
		}
		for _, r := range m.Rankings {
			if r != nil {
				sheets = append(sheets, func() error { return rankingSheet(b, rankingTitle(r.By), r) })
			}
		}
	}
	for _, write := range sheets {
		if err := write(); err != nil {
			return fmt.Errorf("write workbook: %w", err)
		}
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

func summarySheet(b *workbook.Book, name string, c Counts, pb *PartyBuilding) error {
	t := workbook.Table{Headers: []string{"指标", "数值", "说明"}, Bold: map[int]bool{}}
	for _, ind := range xlsxIndicators() {
		t.Rows = append(t.Rows, []any{ind.name, ind.value(c), ind.note})
	}
	t.Bold[len(t.Rows)] = true
	t.Rows = append(t.Rows,
		[]any{"党建统计", nil, nil},
		[]any{"党员参与解决问题数", pb.ResolvedWithPartyMembers, "有在职党员参与解决的问题"},
		[]any{"党员参与人次", pb.Participations, "认领解决问题和活动报到，每次计 1 人次"},
		[]any{"参与党员数", pb.DistinctMembers, "至少参与一次的在职党员"},
		[]any{"志愿活动次数", pb.Activities, "期间内开始的志愿服务、主题实践、联合执法活动"},
	)
	for _, k := range xlsxKindKeys(pb.ActivitiesByKind) {
		t.Rows = append(t.Rows, []any{"　其中：" + model.ActivityKind(k).Label(), pb.ActivitiesByKind[k], ""})
	}
	t.Rows = append(t.Rows, []any{"活动参与人次", pb.ActivityParticipations, "在职党员活动报到人次"})
	return b.Sheet(name, t)
}

// xlsxKindKeys lists the known kinds in report order, then any other
// keys of byKind sorted.
func xlsxKindKeys(byKind map[string]int64) []string {
	var keys []string
	known := map[string]bool{}
	for _, k := range model.ActivityKinds() {
		keys = append(keys, string(k))
		known[string(k)] = true
	}
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

// groups is 按类别 or 按网格: one row per group and a 合计 row of the
// totals.
func groupsSheet(b *workbook.Book, name, keyHeader, nameHeader string, s *Summary) error {
	inds := xlsxIndicators()
	t := workbook.Table{Headers: []string{keyHeader, nameHeader}, Bold: map[int]bool{}, FrozenCols: 2}
	for _, ind := range inds {
		t.Headers = append(t.Headers, ind.name)
	}
	row := func(key, label string, c Counts) []any {
		r := []any{key, label}
		for _, ind := range inds {
			r = append(r, ind.value(c))
		}
		return r
	}
	if s != nil {
		for _, g := range s.Groups {
			t.Rows = append(t.Rows, row(g.Key, cmp.Or(g.Name, g.Key), g.Counts))
		}
		t.Bold[len(t.Rows)] = true
		t.Rows = append(t.Rows, row("合计", "", s.Counts))
	}
	return b.Sheet(name, t)
}

// timeSheet is 按日 or 按月: one row per day or month, its first cell a
// real Excel date, and a 合计 row.
func timeSheet(b *workbook.Book, s *Summary) error {
	name, header, layout := SheetDay, "日期", "2006-01-02"
	if s.GroupBy == ByMonth {
		name, header, layout = SheetMonth, "月份", "2006-01"
	}
	inds := xlsxIndicators()
	t := workbook.Table{Headers: []string{header}, Bold: map[int]bool{}, FrozenCols: 1}
	for _, ind := range inds {
		t.Headers = append(t.Headers, ind.name)
	}
	row := func(first any, c Counts) []any {
		r := []any{first}
		for _, ind := range inds {
			r = append(r, ind.value(c))
		}
		return r
	}
	for _, g := range s.Groups {
		var first any = g.Key
		if d, err := time.ParseInLocation(layout, g.Key, model.ChinaTime()); err == nil {
			if s.GroupBy == ByMonth {
				first = workbook.Month(d)
			} else {
				first = workbook.Date(d)
			}
		}
		t.Rows = append(t.Rows, row(first, g.Counts))
	}
	t.Bold[len(t.Rows)] = true
	t.Rows = append(t.Rows, row("合计", s.Counts))
	return b.Sheet(name, t)
}

// ranking is a 排名 sheet: the ranked units, then those left out.
func rankingSheet(b *workbook.Book, name string, r *Ranking) error {
	t := workbook.Table{Headers: []string{"排名", "编码", "名称", "综合得分", "样本数", "按期结案率", "结案率", "满意率", "派遣准确率", "返工率"},
		Bold: map[int]bool{}, FrozenCols: 3}
	row := func(rank any, it RankingItem) []any {
		return []any{rank, it.Key, cmp.Or(it.Name, it.Key), workbook.Hours(it.Score), it.Sample, workbook.Percent(it.OnTimeRate()),
			workbook.Percent(it.ResolutionRate()), workbook.Percent(it.SatisfactionRate()), workbook.Percent(it.DispatchAccuracy()), workbook.Percent(it.ReopenRate())}
	}
	for _, it := range r.Items {
		t.Rows = append(t.Rows, row(int64(it.Rank), it))
	}
	if len(r.Excluded) > 0 {
		t.Bold[len(t.Rows)] = true
		t.Rows = append(t.Rows, []any{fmt.Sprintf("样本不足 %d 件，不参与排名", r.MinSample)})
		for _, it := range r.Excluded {
			t.Rows = append(t.Rows, []any{"—", it.Key, cmp.Or(it.Name, it.Key), nil, it.Sample})
		}
	}
	weights := ""
	for _, k := range model.RankingRates {
		weights += fmt.Sprintf("%s=%g ", k, r.Weights[k])
	}
	t.Rows = append(t.Rows, []any{}, []any{"权重：" + weights})
	return b.Sheet(name, t)
}

// branches is 按党支部.
func branchesSheet(b *workbook.Book, name string, branches []BranchFigures) error {
	t := workbook.Table{Headers: []string{"支部", "参与人次", "参与党员数", "解决问题数"}, FrozenCols: 1}
	for _, br := range branches {
		t.Rows = append(t.Rows, []any{cmp.Or(br.Name, br.BranchID), br.Participations, br.DistinctMembers, br.Resolved})
	}
	return b.Sheet(name, t)
}

// members is 按党员.
func membersSheet(b *workbook.Book, name string, members []MemberFigures) error {
	t := workbook.Table{Headers: []string{"党员", "支部", "参与人次", "解决问题数"}, FrozenCols: 1}
	for _, m := range members {
		t.Rows = append(t.Rows, []any{cmp.Or(m.Name, m.MemberID), m.BranchName, m.Participations, m.Resolved})
	}
	return b.Sheet(name, t)
}
