package ticket

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/workbook"
)

// SheetTickets is the sheet of the ticket export.
const SheetTickets = "工单"

// ticketColumns are the export's columns, in order: the case number
// first (a clerk's reference), codes beside their names, the console's
// words for statuses and sources (model's labels), times as Excel dates in
// China time.
var ticketColumns = []string{"案件编号", "工单 ID", "状态", "来源", "类别编码", "类别", "问题描述", "地址", "网格编码", "网格", "社区",
	"处置人", "处置人身份", "上报时间", "立案时间", "处置时限", "解决时间", "结案时间", "超期", "返工次数", "退回次数", "督办次数", "评价", "反映人数"}

// xlsxTime is t as the workbook's date-time cell, or an empty cell.
func xlsxTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return workbook.Time(t)
}

// overdueWord says how the ticket stands to its deadline, in the words of
// the staff's list: 超期在办 (overdue=true), 超期结案 (late=true), or 否.
func overdueWord(t *model.Ticket) string {
	switch {
	case t.OpenOverdue():
		return model.FlagOverdue.Label()
	case t.ClosedLate():
		return model.FlagLate.Label()
	}
	return "否"
}

// ticketRow is one ticket's row of the export; names gives a category's
// and a grid's names.
func ticketRow(t StaffTicket, category, grid string) []any {
	assignee, role := "", ""
	if a := t.Assignee; a != nil {
		assignee, role = a.Name, a.Role.Label()
	}
	resolved := any(nil)
	if t.Resolution != nil {
		resolved = xlsxTime(t.Resolution.ResolvedAt)
	}
	rating := any(nil)
	if fb := t.Feedback; fb != nil {
		word := "不满意"
		if fb.Satisfied {
			word = "满意"
		}
		rating = fmt.Sprintf("%s（%d 分）", word, fb.Rating)
	}
	status := t.Status.Label()
	if t.Held {
		status = model.FlagHeld.Label()
	}
	return []any{t.CaseNo, t.ID, status, t.Source.Label(), t.Category, category, t.Description, t.Address, t.GridCode, grid,
		t.Community, assignee, role, xlsxTime(t.CreatedAt), xlsxTime(t.RegisteredAt), xlsxTime(t.DueAt), resolved,
		xlsxTime(t.ClosedAt()), overdueWord(t.Ticket), int64(t.Reopens), int64(t.Returns), int64(t.Urges), rating, int64(t.Reporters)}
}

// Export writes every ticket matching q (at most MaxExportRows) as an .xlsx
// workbook to w: one sheet 工单, a title row describing the filter, a bold
// header row and the case numbers frozen, one row per ticket (ticketColumns),
// columns as wide as their content; masked (a leader's export) has the
// texts as the public reads them (model.ScrubPublic) and the handlers by
// masked name. It returns how many tickets it wrote. Errors:
// invalid_argument (too many tickets), unavailable, and errors writing to
// w.
func (s *StaffTickets) Export(ctx context.Context, q model.TicketQuery, title string, masked bool, w io.Writer) (int, error) {
	var rows [][]any
	categories := map[string]string{}
	if err := s.Each(ctx, q, func(t StaffTicket) error {
		name, ok := categories[t.Category]
		if !ok && s.categories != nil {
			if c, err := s.categories.Get(ctx, t.Category); err == nil {
				name = c.Name
			}
			categories[t.Category] = name
		}
		if masked {
			c := *t.Ticket
			c.Description, c.Address = model.ScrubPublic(c.Description), model.ScrubPublic(c.Address)
			t.Ticket = &c
			if t.Assignee != nil {
				a := *t.Assignee
				a.Name, a.Phone = model.MaskName(a.Name), ""
				t.Assignee = &a
			}
		}
		rows = append(rows, ticketRow(t, name, s.GridName(t.GridCode)))
		return nil
	}); err != nil {
		return 0, err
	}
	f := excelize.NewFile()
	defer f.Close()
	b, err := workbook.New(f, title)
	if err != nil {
		return 0, fmt.Errorf("write ticket workbook: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: "市民城管通工单 " + title, Creator: "市民城管通", Language: "zh-CN"}); err != nil {
		return 0, fmt.Errorf("write ticket workbook: %w", err)
	}
	if err := b.Sheet(SheetTickets, workbook.Table{Headers: ticketColumns, Rows: rows, FrozenCols: 1}); err != nil {
		return 0, fmt.Errorf("write ticket workbook: %w", err)
	}
	if err := f.Write(w); err != nil {
		return 0, fmt.Errorf("write ticket workbook: %w", err)
	}
	return len(rows), nil
}
