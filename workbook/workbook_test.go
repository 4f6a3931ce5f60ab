package workbook

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestTimesAreExcelDates: a Time, Date or Month cell is a number with a
// date format, the wall clock in China Standard Time, whatever zone the
// value is in; a zero time is an empty cell.
func TestTimesAreExcelDates(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC) // 09:30 in China
	f := excelize.NewFile()
	b, err := New(f, "标题")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sheet("表", Table{Headers: []string{"时间", "日期", "月份", "空"},
		Rows: [][]any{{Time(at), Date(at.Add(15 * time.Hour)), Month(at), Time(time.Time{})}}, FrozenCols: 1}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"A3": "2026-12-07 09:30", "B3": "2026-12-08", "C3": "2026-12", "D3": ""} {
		got, err := r.GetCellValue("表", cell)
		if err != nil || got != want {
			t.Errorf("%s shows %q (%v), want %q", cell, got, err, want)
		}
	}
	raw, _ := r.GetCellValue("表", "A3", excelize.Options{RawCellValue: true})
	if v, err := strconv.ParseFloat(raw, 64); err != nil || v < 46000 || v > 47000 {
		t.Errorf("A3 holds %q, want an Excel date serial", raw)
	}
	if typ, _ := r.GetCellType("表", "A3"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("A3 is text (%v), want a number", typ)
	}
	panes, err := r.GetPanes("表")
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.XSplit != 1 {
		t.Errorf("panes %+v %v: want the header and first column frozen", panes, err)
	}
}
