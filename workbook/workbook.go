// Package workbook writes the .xlsx workbooks the bureau downloads (the
// statistics, the tickets): one title row, a frozen header, columns as
// wide as their content, numbers as numbers, dates as Excel dates, and no
// text that a spreadsheet could take for a formula.
package workbook

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Cell values the workbook tells apart: counts are int64, these two float
// kinds get their own number formats, and times are real Excel dates and
// times (numbers a spreadsheet sorts, filters and computes with), written
// as their wall clock in China Standard Time.
type (
	Percent float64   // a rate, shown as 12.34%
	Hours   float64   // a duration in hours, shown as 12.3
	Time    time.Time // an instant, shown as 2026-12-07 09:30 (China time)
	Date    time.Time // a calendar day, shown as 2026-12-07 (its day in China time)
	Month   time.Time // a month, shown as 2026-12 (its month in China time)
)

// chinaTime is the wall clock the workbook's times are written in.
var chinaTime = time.FixedZone("CST", 8*3600)

// excelEpoch is day 0 of Excel's 1900 date system, as spreadsheets read it
// (the serial of 1900-03-01 onwards).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// serial is t's wall clock in China Standard Time as an Excel date serial:
// days since the epoch, the time of day as the fraction.
func serial(t time.Time) float64 {
	w := t.In(chinaTime)
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	return wall.Sub(excelEpoch).Hours() / 24
}

// Book writes the sheets of one workbook with shared styles.
type Book struct {
	f      *excelize.File
	title  string
	sheets int
	styles struct {
		title, header, integer, percent, hours, section, totalText, totalInt, totalPct, totalHrs int
		time, date, month                                                                        int
	}
}

// New prepares f for sheets under the title title (row 1 of each sheet).
func New(f *excelize.File, title string) (*Book, error) {
	b := &Book{f: f, title: title}
	oneDecimal, dateTime, date, month := "0.0", "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "yyyy-mm"
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
		{&b.styles.time, excelize.Style{CustomNumFmt: &dateTime}},
		{&b.styles.date, excelize.Style{CustomNumFmt: &date}},
		{&b.styles.month, excelize.Style{CustomNumFmt: &month}},
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

// Table is one sheet's content below the title row.
type Table struct {
	Headers []string
	// Rows hold the cells: string (text, made inert), int64, Percent,
	// Hours, Time, Date, Month, or nil (empty; so is a zero time).
	Rows [][]any
	Bold map[int]bool // rows (0-based) to set in bold: 合计 and section rows
	// FrozenCols are the leading columns that stay in view when scrolling
	// sideways (the group's code and name, a ticket's case number).
	FrozenCols int
}

// Sheet writes t as sheet name: title row 1, header row 2, data from row 3.
// It streams the rows (excelize's StreamWriter), so the sheet is written
// once and must not be changed through f afterwards: setting cell by cell
// cost ~350 µs of CPU a ticket row — 5 s for a month's export of 15,000
// tickets (docs/BENCHMARKS.md, "Issue 16's targets").
func (b *Book) Sheet(name string, t Table) error {
	if b.sheets == 0 {
		if err := b.f.SetSheetName(b.f.GetSheetName(0), name); err != nil {
			return err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	b.sheets++
	last, err := excelize.ColumnNumberToName(len(t.Headers))
	if err != nil {
		return err
	}
	// The widths come first: a stream sets them before its first row.
	widths := make([]int, len(t.Headers))
	for i, h := range t.Headers {
		widths[i] = width(h)
	}
	for _, row := range t.Rows {
		for i, v := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], valueWidth(v))
			}
		}
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	topLeft, _ := excelize.CoordinatesToCellName(t.FrozenCols+1, 3)
	pane := "bottomLeft"
	if t.FrozenCols > 0 {
		pane = "bottomRight"
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, XSplit: t.FrozenCols, YSplit: 2, TopLeftCell: topLeft, ActivePane: pane,
		Selection: []excelize.Selection{{SQRef: topLeft, ActiveCell: topLeft, Pane: pane}},
	}); err != nil {
		return err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, float64(min(max(w+2, 8), 50))); err != nil {
			return err
		}
	}
	// The title spans the header's columns, each of them in its style.
	title := make([]any, len(t.Headers))
	title[0] = excelize.Cell{StyleID: b.styles.title, Value: Inert(b.title)}
	for i := 1; i < len(title); i++ {
		title[i] = excelize.Cell{StyleID: b.styles.title}
	}
	if err := sw.SetRow("A1", title, excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	if err := sw.MergeCell("A1", last+"1"); err != nil {
		return err
	}
	header := make([]any, len(t.Headers))
	for i, h := range t.Headers {
		header[i] = excelize.Cell{StyleID: b.styles.header, Value: h}
	}
	if err := sw.SetRow("A2", header); err != nil {
		return err
	}
	var cells []any
	for r, row := range t.Rows {
		cells = cells[:0]
		for i, v := range row {
			c, err := b.cell(v, t.Bold[r])
			if err != nil {
				col, _ := excelize.CoordinatesToCellName(i+1, r+3)
				return fmt.Errorf("cell %s!%s: %w", name, col, err)
			}
			cells = append(cells, c)
		}
		ref, _ := excelize.CoordinatesToCellName(1, r+3)
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cell is one value as the stream writes it: text (made inert), an
// integer, or a float with the format of a rate, of hours or of a date;
// nil for an empty cell.
func (b *Book) cell(v any, bold bool) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		c := excelize.Cell{Value: Inert(v)}
		if bold {
			c.StyleID = b.styles.totalText
		}
		return c, nil
	case int64:
		return excelize.Cell{Value: v, StyleID: pick(bold, b.styles.totalInt, b.styles.integer)}, nil
	case Percent:
		return excelize.Cell{Value: float64(v), StyleID: pick(bold, b.styles.totalPct, b.styles.percent)}, nil
	case Hours:
		return excelize.Cell{Value: float64(v), StyleID: pick(bold, b.styles.totalHrs, b.styles.hours)}, nil
	case Time:
		return b.timeCell(time.Time(v), b.styles.time), nil
	case Date:
		return b.timeCell(time.Time(v), b.styles.date), nil
	case Month:
		return b.timeCell(time.Time(v), b.styles.month), nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// timeCell is t as an Excel date serial in style, or an empty cell.
func (b *Book) timeCell(t time.Time, style int) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{Value: serial(t), StyleID: style}
}

// Inert is s as it is safe to put in a spreadsheet cell: a text that
// starts with =, +, -, @, a tab or a carriage return gets a leading ' so
// that no spreadsheet reads it as a formula — not on opening, not when a
// clerk edits the cell, not after a save as CSV (OWASP, "CSV Injection").
// Every text cell of every export goes through here, whoever wrote the text:
// a resident's description, an address, a name, the title.
func Inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// summary is 汇总: one row per indicator, then the party-building totals.
// width approximates a string's width in Excel's character units:
// CJK and full-width characters take two.
func width(s string) int {
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

func valueWidth(v any) int {
	switch v := v.(type) {
	case string:
		return width(v)
	case int64:
		return len(fmt.Sprint(v)) + len(fmt.Sprint(v))/3 // with thousands separators
	case Percent:
		return 8
	case Hours:
		return len(fmt.Sprintf("%.1f", float64(v)))
	case Time:
		return len("2006-01-02 15:04")
	case Date:
		return len("2006-01-02")
	case Month:
		return len("2006-01")
	}
	return 0
}
