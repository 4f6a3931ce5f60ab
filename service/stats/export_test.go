package stats_test

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/stats"
)

func exportFixture() (s, byCategory, byGrid *stats.Summary, pb *stats.PartyBuilding) {
	cst := time.FixedZone("CST", 8*3600)
	p := stats.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, cst), To: time.Date(2026, 12, 31, 0, 0, 0, 0, cst)}
	garbage := stats.Counts{Reported: 10000, Registered: 9800, Resolved: 9000, Closed: 8700, OnTime: 8200,
		Overdue: 200, Reopened: 150, Rated: 7000, Satisfied: 6700, HoursToResolve: 9000 * 18}
	lights := stats.Counts{Reported: 2345, Registered: 2200, Resolved: 2000, Closed: 1800, OnTime: 1700,
		Overdue: 120, Reopened: 60, Rated: 1000, Satisfied: 900, HoursToResolve: 2000 * 31.75}
	total := garbage
	total.Add(lights) // 12345 reported … 20.5 hours on average
	s = &stats.Summary{Period: p, Counts: total}
	byCategory = &stats.Summary{Period: p, GroupBy: stats.ByCategory, Counts: total, Groups: []stats.SummaryGroup{
		{Key: "0101", Name: "暴露垃圾", Counts: garbage},
		{Key: "0205", Name: "路灯不亮", Counts: lights},
	}}
	byGrid = &stats.Summary{Period: p, GroupBy: stats.ByGrid, Counts: total, Groups: []stats.SummaryGroup{
		{Key: "G001", Name: "", Counts: total}, // no name: the code stands in
	}}
	pb = &stats.PartyBuilding{Period: p, ResolvedWithPartyMembers: 2345, Participations: 15678, DistinctMembers: 321,
		Activities: 123, ActivitiesByKind: map[string]int64{"volunteer": 100, "theme": 20, "joint_enforcement": 3},
		ActivityParticipations: 4567,
		Branches:               []stats.BranchFigures{{BranchID: "b1", Name: "第一党支部", Participations: 9000, DistinctMembers: 200, Resolved: 1500}},
		Members: []stats.MemberFigures{
			{MemberID: "m1", Name: "张三", BranchName: "第一党支部", Participations: 40, Resolved: 12},
			{MemberID: "m2", Name: "李四", BranchName: "第一党支部", Participations: 7, Resolved: 0},
		}}
	return s, byCategory, byGrid, pb
}

func mustWorkbook(t *testing.T) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	s, byCategory, byGrid, pb := exportFixture()
	if err := stats.WriteWorkbook(&buf, s, byCategory, byGrid, pb); err != nil {
		t.Fatalf("WriteWorkbook: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func cellText(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell)
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	return v
}

// numberCell asserts that a cell is stored as a number (not text) and
// returns its raw value.
func numberCell(t *testing.T, f *excelize.File, sheet, cell string) float64 {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Fatalf("%s!%s has type %v, want a number", sheet, cell, typ)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("%s!%s = %q, want a number", sheet, cell, raw)
	}
	return n
}

func TestWorkbookSheetsTitlesAndHeaders(t *testing.T) {
	f := mustWorkbook(t)
	want := []string{"汇总", "按类别", "按网格", "按党支部", "按党员"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets = %v, want %v", got, want)
	}
	headers := map[string][]string{
		"汇总": {"指标", "数值", "说明"},
		"按类别": {"类别编码", "类别名称", "上报数", "立案数", "结案数", "已结案", "按期结案数", "超期数", "返工数", "评价数", "满意数",
			"结案率", "按期结案率", "返工率", "满意率", "平均处置时长（小时）"},
		"按网格":  {"网格编码", "网格名称", "上报数"},
		"按党支部": {"支部", "参与人次", "参与党员数", "解决问题数"},
		"按党员":  {"党员", "支部", "参与人次", "解决问题数"},
	}
	for _, sheet := range want {
		if got := cellText(t, f, sheet, "A1"); got != "统计期间：2026-01-01 至 2026-12-31" {
			t.Errorf("%s title = %q", sheet, got)
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 2 || !slices.Equal(rows[1][:len(headers[sheet])], headers[sheet]) {
			t.Errorf("%s header = %v, want %v…", sheet, rows[1], headers[sheet])
		}
		panes, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !panes.Freeze || panes.YSplit != 2 {
			t.Errorf("%s panes = %+v, want frozen under the header row", sheet, panes)
		}
		style, err := f.GetCellStyle(sheet, "A2")
		if err != nil {
			t.Fatal(err)
		}
		if st, err := f.GetStyle(style); err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s header style = %+v, %v; want bold", sheet, st, err)
		}
		if w, err := f.GetColWidth(sheet, "A"); err != nil || w < 8 {
			t.Errorf("%s column A width = %v, %v", sheet, w, err)
		}
	}
}

func TestWorkbookNumbersAreNumbers(t *testing.T) {
	f := mustWorkbook(t)
	s, byCategory, _, _ := exportFixture()

	// 汇总: the indicators in order, then the party-building rows.
	wantSummary := []struct {
		label string
		value float64
	}{
		{"上报数", 12345}, {"立案数", 12000}, {"结案数", 11000}, {"已结案", 10500}, {"按期结案数", 9900}, {"超期数", 320},
		{"返工数", 210}, {"评价数", 8000}, {"满意数", 7600},
		{"结案率", s.ResolutionRate()}, {"按期结案率", s.OnTimeRate()}, {"返工率", s.ReopenRate()}, {"满意率", s.SatisfactionRate()},
		{"平均处置时长（小时）", 20.5},
	}
	for i, w := range wantSummary {
		row := strconv.Itoa(i + 3)
		if got := cellText(t, f, "汇总", "A"+row); got != w.label {
			t.Fatalf("汇总!A%s = %q, want %q", row, got, w.label)
		}
		// Excel keeps 15 significant digits.
		if got := numberCell(t, f, "汇总", "B"+row); math.Abs(got-w.value) > 1e-12 {
			t.Errorf("汇总 %s = %v, want %v", w.label, got, w.value)
		}
	}
	// Rates are numbers shown as percentages.
	if got := cellText(t, f, "汇总", "B12"); got != "91.67%" {
		t.Errorf("结案率 shows %q, want 91.67%%", got)
	}
	if got := cellText(t, f, "汇总", "B16"); got != "20.5" {
		t.Errorf("平均处置时长 shows %q, want 20.5", got)
	}
	rows, _ := f.GetRows("汇总")
	party := map[string]float64{}
	for i, r := range rows {
		if i >= 17 && len(r) >= 2 && r[1] != "" {
			party[r[0]] = numberCell(t, f, "汇总", "B"+strconv.Itoa(i+1))
		}
	}
	wantParty := map[string]float64{"党员参与解决问题数": 2345, "党员参与人次": 15678, "参与党员数": 321, "志愿活动次数": 123,
		"　其中：志愿服务": 100, "　其中：主题实践": 20, "　其中：联合执法": 3, "活动参与人次": 4567}
	for k, v := range wantParty {
		if party[k] != v {
			t.Errorf("汇总 %s = %v, want %v (all: %v)", k, party[k], v, party)
		}
	}

	// 按类别: a row per group, then 合计.
	if got := cellText(t, f, "按类别", "B3"); got != "暴露垃圾" {
		t.Errorf("按类别!B3 = %q", got)
	}
	if got := numberCell(t, f, "按类别", "C3"); got != 10000 {
		t.Errorf("按类别 暴露垃圾 上报数 = %v", got)
	}
	if got := numberCell(t, f, "按类别", "L3"); math.Abs(got-byCategory.Groups[0].ResolutionRate()) > 1e-12 {
		t.Errorf("按类别 暴露垃圾 结案率 = %v", got)
	}
	if got := cellText(t, f, "按类别", "L3"); got != "91.84%" {
		t.Errorf("按类别 暴露垃圾 结案率 shows %q, want 91.84%%", got)
	}
	if got := cellText(t, f, "按类别", "A5"); got != "合计" {
		t.Errorf("按类别!A5 = %q, want 合计", got)
	}
	if got := numberCell(t, f, "按类别", "E5"); got != 11000 {
		t.Errorf("按类别 合计 结案数 = %v", got)
	}
	if got := cellText(t, f, "按网格", "B3"); got != "G001" {
		t.Errorf("按网格 unnamed group = %q, want its code", got)
	}

	// 按党支部 and 按党员.
	if got := cellText(t, f, "按党支部", "A3"); got != "第一党支部" {
		t.Errorf("按党支部!A3 = %q", got)
	}
	for cell, want := range map[string]float64{"B3": 9000, "C3": 200, "D3": 1500} {
		if got := numberCell(t, f, "按党支部", cell); got != want {
			t.Errorf("按党支部!%s = %v, want %v", cell, got, want)
		}
	}
	if got := cellText(t, f, "按党员", "A4") + "/" + cellText(t, f, "按党员", "B4"); got != "李四/第一党支部" {
		t.Errorf("按党员 row 4 = %q", got)
	}
	for cell, want := range map[string]float64{"C3": 40, "D3": 12, "C4": 7, "D4": 0} {
		if got := numberCell(t, f, "按党员", cell); got != want {
			t.Errorf("按党员!%s = %v, want %v", cell, got, want)
		}
	}
}

func TestWorkbookWithoutGroups(t *testing.T) {
	s, _, _, _ := exportFixture()
	var buf bytes.Buffer
	if err := stats.WriteWorkbook(&buf, s, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, _ := f.GetRows("按党员"); len(rows) != 2 {
		t.Fatalf("按党员 without figures has %d rows, want the title and header", len(rows))
	}
	if err := stats.WriteWorkbook(&buf, nil, nil, nil, nil); err == nil {
		t.Fatal("WriteWorkbook(nil summary) succeeded")
	}
}

// TestWorkbookFormulasAreInert: names that start like a formula (a category,
// grid, branch or member named by staff, or by a resident's text) are
// written as text with a leading ' (OWASP's advice for CSV and spreadsheet
// injection), so no spreadsheet evaluates them; other texts are untouched.
func TestWorkbookFormulasAreInert(t *testing.T) {
	s, byCategory, byGrid, pb := exportFixture()
	hostile := []string{`=HYPERLINK("http://x","y")`, "+1+1", "-2+3", "@SUM(1,1)", "\tcmd", "\r=1"}
	byCategory.Groups[0].Name = hostile[0]
	byCategory.Groups[1].Name = hostile[1]
	byGrid.Groups[0].Name = hostile[2]
	pb.Branches[0].Name = hostile[3]
	pb.Members[0].Name = hostile[4]
	pb.Members[1].Name = hostile[5]
	var buf bytes.Buffer
	if err := stats.WriteWorkbook(&buf, s, byCategory, byGrid, pb); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s holds a formula %q", sheet, cell, formula)
				}
				if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
					t.Errorf("%s!%s = %q starts like a formula", sheet, cell, v)
				}
				if strings.HasPrefix(v, "'") {
					seen[v[1:]] = true
				}
			}
		}
	}
	for _, h := range hostile {
		if !seen[h] {
			t.Errorf("%q is not in the workbook as '%s", h, h)
		}
	}
	if got := cellText(t, f, "按类别", "A1"); got != "统计期间：2026-01-01 至 2026-12-31" {
		t.Errorf("an ordinary text changed: %q", got)
	}
}

// TestWorkbookTimeSheet: 按日 and 按月 lead each row with a real Excel date.
func TestWorkbookTimeSheet(t *testing.T) {
	p := stats.Period{From: time.Date(2026, 5, 1, 0, 0, 0, 0, model.ChinaTime()), To: time.Date(2026, 5, 2, 0, 0, 0, 0, model.ChinaTime())}
	for _, c := range []struct{ groupBy, key, sheet, shown string }{
		{stats.ByDay, "2026-05-02", stats.SheetDay, "2026-05-02"},
		{stats.ByMonth, "2026-05", stats.SheetMonth, "2026-05"},
	} {
		byTime := &stats.Summary{Period: p, GroupBy: c.groupBy, Counts: stats.Counts{Reported: 3},
			Groups: []stats.SummaryGroup{{Key: c.key, Name: c.key, Counts: stats.Counts{Reported: 3}}}}
		var buf bytes.Buffer
		if err := stats.WriteWorkbook(&buf, &stats.Summary{Period: p}, nil, nil, nil, stats.WorkbookMore{ByTime: byTime}); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := cellText(t, f, c.sheet, "A3"); got != c.shown {
			t.Errorf("%s!A3 shows %q, want %q", c.sheet, got, c.shown)
		}
		if n := numberCell(t, f, c.sheet, "A3"); n < 46000 {
			t.Errorf("%s!A3 = %v, want an Excel date serial", c.sheet, n)
		}
		if got := cellText(t, f, c.sheet, "A4"); got != "合计" {
			t.Errorf("%s!A4 = %q", c.sheet, got)
		}
	}
}
