package ticket

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/workbook"
)

// SheetTickets is the sheet of the ticket export.
const SheetTickets = "工单"

// ticketColumns are the export's columns, in order.
var ticketColumns = []string{"工单编号", "状态", "来源", "类别", "问题描述", "地址", "网格", "社区", "处置人", "处置人身份",
	"上报时间", "立案时间", "处置时限", "解决时间", "是否超期", "返工次数", "退回次数", "评价", "反映人数"}

// xlsxTime formats a time for the workbook, in China Standard Time.
func xlsxTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(model.ChinaTime()).Format("2006-01-02 15:04")
}

// ticketRow is one ticket's row of the export.
func ticketRow(t StaffTicket, now time.Time) []any {
	assignee, role := "", ""
	if a := t.Assignee; a != nil {
		assignee, role = a.Name, a.Role.Label()
	}
	resolved := any(nil)
	if t.Resolution != nil {
		resolved = xlsxTime(t.Resolution.ResolvedAt)
	}
	overdue := "否"
	if t.Overdue || (!t.DueAt.IsZero() && t.DueAt.Before(now) && slices.Contains(model.OpenForDeadline, t.Status)) {
		overdue = "是"
	}
	rating := any(nil)
	if fb := t.Feedback; fb != nil {
		word := "不满意"
		if fb.Satisfied {
			word = "满意"
		}
		rating = fmt.Sprintf("%s（%d 分）", word, fb.Rating)
	}
	return []any{t.ID, t.Status.Label(), t.Source.Label(), t.Category, t.Description, t.Address, t.GridCode, t.Community,
		assignee, role, xlsxTime(t.CreatedAt), xlsxTime(t.RegisteredAt), xlsxTime(t.DueAt), resolved, overdue,
		int64(t.Reopens), int64(t.Returns), rating, int64(t.Reporters)}
}

// Export writes every ticket matching q (at most MaxExportRows) as an .xlsx
// workbook to w: one sheet 工单, a title row describing the filter, a bold
// frozen header row, one row per ticket; masked (a leader's export) has
// the texts as the public reads them (model.ScrubPublic) and the handlers
// by masked name. It returns how many tickets it wrote. Errors:
// invalid_argument (too many tickets), unavailable, and errors writing to
// w.
func (s *StaffTickets) Export(ctx context.Context, q model.TicketQuery, title string, masked bool, w io.Writer) (int, error) {
	var rows [][]any
	now := s.now()
	if err := s.Each(ctx, q, func(t StaffTicket) error {
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
		rows = append(rows, ticketRow(t, now))
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
