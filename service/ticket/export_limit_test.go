package ticket

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// pagedTickets lists n tickets in pages, with the store's total: exact up
// to model.MaxExactTotal, else capped there.
type pagedTickets struct {
	StaffTicketStore
	n int
}

func (p pagedTickets) ListStaff(_ context.Context, _ model.TicketQuery, cursor string, limit int) (model.TicketPage, error) {
	from, _ := strconv.Atoi(cursor)
	page := model.TicketPage{Total: int64(min(p.n, model.MaxExactTotal)), TotalCapped: p.n > model.MaxExactTotal}
	for i := from; i < min(from+limit, p.n); i++ {
		page.Items = append(page.Items, &model.Ticket{ID: fmt.Sprintf("%024d", i)})
	}
	if from+limit < p.n {
		page.Next = strconv.Itoa(from + limit)
	}
	return page, nil
}

// TestEachBoundsTheExport: a filter with more tickets than the export's
// limit is refused whether the store counts them exactly or caps the count
// (then the rows are counted), and one at the limit is written whole.
func TestEachBoundsTheExport(t *testing.T) {
	defer func(l int) { exportLimit = l }(exportLimit)
	for _, c := range []struct {
		limit, n int
		refused  bool
	}{
		{limit: 2500, n: 2500},
		{limit: 2500, n: 2501, refused: true}, // exact total
		{limit: model.MaxExactTotal + 500, n: model.MaxExactTotal + 500},
		{limit: model.MaxExactTotal + 500, n: model.MaxExactTotal + 501, refused: true}, // capped total
	} {
		exportLimit = c.limit
		s := &StaffTickets{tickets: pagedTickets{n: c.n}, now: time.Now}
		seen := 0
		err := s.Each(context.Background(), model.TicketQuery{}, func(StaffTicket) error { seen++; return nil })
		switch {
		case c.refused && !errors.Is(err, model.ErrInvalidArgument):
			t.Errorf("%d tickets, limit %d: %v after %d rows, want invalid_argument", c.n, c.limit, err, seen)
		case !c.refused && (err != nil || seen != c.n):
			t.Errorf("%d tickets, limit %d: %d rows, %v; want all", c.n, c.limit, seen, err)
		}
	}
}
