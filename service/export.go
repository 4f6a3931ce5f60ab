package service

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
)

// The sheets of the statistics workbook, in order.
const (
	SheetSummary  = "汇总"
	SheetCategory = "按类别"
	SheetGrid     = "按网格"
	SheetBranch   = "按党支部"
	SheetMember   = "按党员"
	SheetSource   = "按来源"
	// SheetRanking is the prefix of the ranking sheets: 排名-网格 …
	SheetRanking = "排名-"
)

// WorkbookMore are the evaluation's sheets of the workbook: 按来源 (the
// summary by source) and one 排名 sheet per ranking.
type WorkbookMore struct {
	BySource *Summary
	Rankings []*Ranking
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
	return fmt.Sprintf("统计期间：%s 至 %s", p.From.In(shanghai).Format(time.DateOnly), p.To.In(shanghai).Format(time.DateOnly))
}

// Cell values the workbook tells apart: counts are int64, and these two
// float kinds get their own number formats.
type (
	xlsxPercent float64 // a rate, shown as 12.34%
	xlsxHours   float64 // a duration in hours, shown as 12.3
)

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
		{"结案率", "结案数 ÷ 立案数", func(c Counts) any { return xlsxPercent(c.ResolutionRate()) }},
		{"按期结案率", "按期结案数 ÷（已结案 + 超期未结案）", func(c Counts) any { return xlsxPercent(c.OnTimeRate()) }},
		{"返工率", "返工数 ÷ 结案数", func(c Counts) any { return xlsxPercent(c.ReopenRate()) }},
		{"满意率", "满意数 ÷ 评价数", func(c Counts) any { return xlsxPercent(c.SatisfactionRate()) }},
		{"平均处置时长（小时）", "立案至解决的平均小时数", func(c Counts) any { return xlsxHours(c.MeanHoursToResolve()) }},
		{"派遣数", "派遣次数（自动与人工）", func(c Counts) any { return c.Dispatched }},
		{"退回数", "处置人退回的次数", func(c Counts) any { return c.Returned }},
		{"延期数", "批准的延期申请", func(c Counts) any { return c.Extended }},
		{"挂账数", "挂账次数", func(c Counts) any { return c.Deferred }},
		{"督办数", "督办次数", func(c Counts) any { return c.Urged }},
		{"核查不通过数", "核查不通过而返工的次数", func(c Counts) any { return c.VerifyFailed }},
		{"自处置数", "网格员巡查发现并当场处置", func(c Counts) any { return c.SelfHandled }},
		{"照片待核查数", "处置照片位置或时间可疑的工单", func(c Counts) any { return c.PhotoFlagged }},
		{"超期未结案数", "超过处置时限仍未结案", func(c Counts) any { return c.OpenOverdue }},
		{"有效上报率", "立案数 ÷ 上报数", func(c Counts) any { return xlsxPercent(c.ValidReportRate()) }},
		{"派遣准确率", "1 − 退回数 ÷ 派遣数", func(c Counts) any { return xlsxPercent(c.DispatchAccuracy()) }},
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
	b, err := newXLSXBook(f, PeriodTitle(s.Period))
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: "市民城管通统计 " + PeriodTitle(s.Period), Creator: "市民城管通", Language: "zh-CN",
	}); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	sheets := []func() error{
		func() error { return b.summary(SheetSummary, s.Counts, pb) },
		func() error { return b.groups(SheetCategory, "类别编码", "类别名称", byCategory) },
		func() error { return b.groups(SheetGrid, "网格编码", "网格名称", byGrid) },
		func() error { return b.branches(SheetBranch, pb.Branches) },
		func() error { return b.members(SheetMember, pb.Members) },
	}
	for _, m := range more {
		if m.BySource != nil {
			sheets = append(sheets, func() error { return b.groups(SheetSource, "来源", "来源名称", m.BySource) })
		}
		for _, r := range m.Rankings {
			if r != nil {
				sheets = append(sheets, func() error { return b.ranking(rankingTitle(r.By), r) })
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

// xlsxBook writes the sheets of one workbook with shared styles.
type xlsxBook struct {
	f      *excelize.File
	title  string
	sheets int
	styles struct{ title, header, integer, percent, hours, section, totalText, totalInt, totalPct, totalHrs int }
}

func newXLSXBook(f *excelize.File, title string) (*xlsxBook, error) {
	b := &xlsxBook{f: f, title: title}
	oneDecimal := "0.0"
	bold := &excelize.Font{Bold: true}
	border := []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}
	fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}
	specs := []struct {
		dst   *int
		style excelize.Style
	}{
		{&b.styles.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}}},
		{&b.styles.header, excelize.Style{Font: bold, Fill: fill, Border: border,
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&b.styles.integer, excelize.Style{NumFmt: 3}},  // #,##0
		{&b.styles.percent, excelize.Style{NumFmt: 10}}, // 0.00%
		{&b.styles.hours, excelize.Style{CustomNumFmt: &oneDecimal}},
		{&b.styles.section, excelize.Style{Font: bold}},
		{&b.styles.totalText, excelize.Style{Font: bold}},
		{&b.styles.totalInt, excelize.Style{Font: bold, NumFmt: 3}},
		{&b.styles.totalPct, excelize.Style{Font: bold, NumFmt: 10}},
		{&b.styles.totalHrs, excelize.Style{Font: bold, CustomNumFmt: &oneDecimal}},
	}
	for _, s := range specs {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return nil, err
		}
		*s.dst = id
	}
	return b, nil
}

// xlsxTable is one sheet's content below the title row.
type xlsxTable struct {
	headers []string
	rows    [][]any
	bold    map[int]bool // rows (0-based) to set in bold: 合计 and section rows
	// frozenCols are the leading columns that stay in view when scrolling
	// sideways (the group's code and name).
	frozenCols int
}

// sheet writes t as sheet name: title row 1, header row 2, data from row 3.
func (b *xlsxBook) sheet(name string, t xlsxTable) error {
	if b.sheets == 0 {
		if err := b.f.SetSheetName(b.f.GetSheetName(0), name); err != nil {
			return err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	b.sheets++
	last, err := excelize.ColumnNumberToName(len(t.headers))
	if err != nil {
		return err
	}
	if err := b.f.SetCellStr(name, "A1", inertText(b.title)); err != nil {
		return err
	}
	if err := b.f.MergeCell(name, "A1", last+"1"); err != nil {
		return err
	}
	if err := b.f.SetCellStyle(name, "A1", last+"1", b.styles.title); err != nil {
		return err
	}
	if err := b.f.SetRowHeight(name, 1, 22); err != nil {
		return err
	}
	widths := make([]int, len(t.headers))
	for i, h := range t.headers {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		if err := b.f.SetCellStr(name, cell, h); err != nil {
			return err
		}
		widths[i] = xlsxWidth(h)
	}
	if err := b.f.SetCellStyle(name, "A2", last+"2", b.styles.header); err != nil {
		return err
	}
	for r, row := range t.rows {
		for i, v := range row {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+3)
			if err := b.cell(name, cell, v, t.bold[r]); err != nil {
				return err
			}
			if i < len(widths) {
				widths[i] = max(widths[i], xlsxValueWidth(v))
			}
		}
	}
	for i, w := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := b.f.SetColWidth(name, col, col, float64(min(max(w+2, 8), 50))); err != nil {
			return err
		}
	}
	topLeft, _ := excelize.CoordinatesToCellName(t.frozenCols+1, 3)
	pane := "bottomLeft"
	if t.frozenCols > 0 {
		pane = "bottomRight"
	}
	return b.f.SetPanes(name, &excelize.Panes{
		Freeze: true, XSplit: t.frozenCols, YSplit: 2, TopLeftCell: topLeft, ActivePane: pane,
		Selection: []excelize.Selection{{SQRef: topLeft, ActiveCell: topLeft, Pane: pane}},
	})
}

// cell writes one value as its type: text, an integer, or a float with the
// format of a rate or of hours.
func (b *xlsxBook) cell(sheet, cell string, v any, bold bool) error {
	var err error
	style := 0
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		err = b.f.SetCellStr(sheet, cell, inertText(v))
		if bold {
			style = b.styles.totalText
		}
	case int64:
		err = b.f.SetCellInt(sheet, cell, v)
		style = xlsxPick(bold, b.styles.totalInt, b.styles.integer)
	case xlsxPercent:
		err = b.f.SetCellFloat(sheet, cell, float64(v), -1, 64)
		style = xlsxPick(bold, b.styles.totalPct, b.styles.percent)
	case xlsxHours:
		err = b.f.SetCellFloat(sheet, cell, float64(v), -1, 64)
		style = xlsxPick(bold, b.styles.totalHrs, b.styles.hours)
	default:
		return fmt.Errorf("cell %s!%s: unexpected %T", sheet, cell, v)
	}
	if err != nil || style == 0 {
		return err
	}
	return b.f.SetCellStyle(sheet, cell, cell, style)
}

// inertText is s as it is safe to put in a spreadsheet cell: a text that
// starts with =, +, -, @, a tab or a carriage return gets a leading ' so
// that no spreadsheet reads it as a formula — not on opening, not when a
// clerk edits the cell, not after a save as CSV (OWASP, "CSV Injection").
// Every text cell of every export goes through here, whoever wrote the text:
// a resident's description, an address, a name, the title.
func inertText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func xlsxPick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// summary is 汇总: one row per indicator, then the party-building totals.
func (b *xlsxBook) summary(name string, c Counts, pb *PartyBuilding) error {
	t := xlsxTable{headers: []string{"指标", "数值", "说明"}, bold: map[int]bool{}}
	for _, ind := range xlsxIndicators() {
		t.rows = append(t.rows, []any{ind.name, ind.value(c), ind.note})
	}
	t.bold[len(t.rows)] = true
	t.rows = append(t.rows,
		[]any{"党建统计", nil, nil},
		[]any{"党员参与解决问题数", pb.ResolvedWithPartyMembers, "有在职党员参与解决的问题"},
		[]any{"党员参与人次", pb.Participations, "认领解决问题和活动报到，每次计 1 人次"},
		[]any{"参与党员数", pb.DistinctMembers, "至少参与一次的在职党员"},
		[]any{"志愿活动次数", pb.Activities, "期间内开始的志愿服务、主题实践、联合执法活动"},
	)
	for _, k := range xlsxKindKeys(pb.ActivitiesByKind) {
		t.rows = append(t.rows, []any{"　其中：" + model.ActivityKind(k).Label(), pb.ActivitiesByKind[k], ""})
	}
	t.rows = append(t.rows, []any{"活动参与人次", pb.ActivityParticipations, "在职党员活动报到人次"})
	return b.sheet(name, t)
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
func (b *xlsxBook) groups(name, keyHeader, nameHeader string, s *Summary) error {
	inds := xlsxIndicators()
	t := xlsxTable{headers: []string{keyHeader, nameHeader}, bold: map[int]bool{}, frozenCols: 2}
	for _, ind := range inds {
		t.headers = append(t.headers, ind.name)
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
			t.rows = append(t.rows, row(g.Key, cmp.Or(g.Name, g.Key), g.Counts))
		}
		t.bold[len(t.rows)] = true
		t.rows = append(t.rows, row("合计", "", s.Counts))
	}
	return b.sheet(name, t)
}

// ranking is a 排名 sheet: the ranked units, then those left out.
func (b *xlsxBook) ranking(name string, r *Ranking) error {
	t := xlsxTable{headers: []string{"排名", "编码", "名称", "综合得分", "样本数", "按期结案率", "结案率", "满意率", "派遣准确率", "返工率"},
		bold: map[int]bool{}, frozenCols: 3}
	row := func(rank any, it RankingItem) []any {
		return []any{rank, it.Key, cmp.Or(it.Name, it.Key), xlsxHours(it.Score), it.Sample, xlsxPercent(it.OnTimeRate()),
			xlsxPercent(it.ResolutionRate()), xlsxPercent(it.SatisfactionRate()), xlsxPercent(it.DispatchAccuracy()), xlsxPercent(it.ReopenRate())}
	}
	for _, it := range r.Items {
		t.rows = append(t.rows, row(int64(it.Rank), it))
	}
	if len(r.Excluded) > 0 {
		t.bold[len(t.rows)] = true
		t.rows = append(t.rows, []any{fmt.Sprintf("样本不足 %d 件，不参与排名", r.MinSample)})
		for _, it := range r.Excluded {
			t.rows = append(t.rows, []any{"—", it.Key, cmp.Or(it.Name, it.Key), nil, it.Sample})
		}
	}
	weights := ""
	for _, k := range model.RankingRates {
		weights += fmt.Sprintf("%s=%g ", k, r.Weights[k])
	}
	t.rows = append(t.rows, []any{}, []any{"权重：" + weights})
	return b.sheet(name, t)
}

// branches is 按党支部.
func (b *xlsxBook) branches(name string, branches []BranchFigures) error {
	t := xlsxTable{headers: []string{"支部", "参与人次", "参与党员数", "解决问题数"}, frozenCols: 1}
	for _, br := range branches {
		t.rows = append(t.rows, []any{cmp.Or(br.Name, br.BranchID), br.Participations, br.DistinctMembers, br.Resolved})
	}
	return b.sheet(name, t)
}

// members is 按党员.
func (b *xlsxBook) members(name string, members []MemberFigures) error {
	t := xlsxTable{headers: []string{"党员", "支部", "参与人次", "解决问题数"}, frozenCols: 1}
	for _, m := range members {
		t.rows = append(t.rows, []any{cmp.Or(m.Name, m.MemberID), m.BranchName, m.Participations, m.Resolved})
	}
	return b.sheet(name, t)
}

// xlsxWidth approximates a string's width in Excel's character units:
// CJK and full-width characters take two.
func xlsxWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x2E80 && utf8.RuneLen(r) > 1 {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func xlsxValueWidth(v any) int {
	switch v := v.(type) {
	case string:
		return xlsxWidth(v)
	case int64:
		return len(fmt.Sprint(v)) + len(fmt.Sprint(v))/3 // with thousands separators
	case xlsxPercent:
		return 8
	case xlsxHours:
		return len(fmt.Sprintf("%.1f", float64(v)))
	}
	return 0
}
