package handler

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// figureJSON is one figure of the overview with the list that makes it up:
// count is the total of GET /api/v1/admin/tickets?{query} — the same
// query, parsed by the same code, counted by the same store call — so a
// figure and the list it opens agree by construction. capped: count is a
// lower bound, as the list's total_capped.
type figureJSON struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Count  int64  `json:"count"`
	Capped bool   `json:"capped,omitempty"`
	Query  string `json:"query"`
}

type overviewJSON struct {
	At      time.Time    `json:"at"`
	Figures []figureJSON `json:"figures"`
}

// overviewFigure is a figure of the overview: a name and the staff list's
// query whose total it is.
type overviewFigure struct {
	key, label string
	query      url.Values
}

// overviewFigures are the overview's figures on day today (YYYY-MM-DD,
// China Standard Time): the open work by state, and the reports received
// today, this month and this year.
func overviewFigures(today string) []overviewFigure {
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	return []overviewFigure{
		{"open_overdue", "超期在办", q("overdue", "true")},
		{"held", "待审核", q("held", "true")},
		{"pending", "待派遣", q("status", "pending")},
		{"open", "在办", q("status", "pending,dispatched,in_progress,deferred")},
		{"resolved", "已处置待结案", q("status", "resolved")},
		{"deferred", "挂账", q("status", "deferred")},
		{"late", "超期结案", q("late", "true")},
		{"reported_today", "今日上报", q("from", today, "to", today)},
		{"reported_month", "本月上报", q("from", today[:8]+"01", "to", today)},
		{"reported_year", "本年上报", q("from", today[:5]+"01-01", "to", today)},
	}
}

// overview is GET /api/v1/admin/overview: the figures a shift starts from,
// each with the query of the ticket list it opens.
func (h *handlers) overview(c echo.Context) error {
	now := h.Now()
	figures := overviewFigures(now.In(shanghai).Format("2006-01-02"))
	out := overviewJSON{At: now.UTC(), Figures: make([]figureJSON, len(figures))}
	for i, f := range figures {
		// The list's own parser, on the figure's query.
		fc := c.Echo().NewContext(&http.Request{URL: &url.URL{RawQuery: f.query.Encode()}}, nil)
		q, err := ticketQuery(fc)
		if err != nil {
			return err
		}
		n, capped, err := h.StaffTickets.Count(c.Request().Context(), q)
		if err != nil {
			return err
		}
		out.Figures[i] = figureJSON{Key: f.key, Label: f.label, Count: n, Capped: capped, Query: f.query.Encode()}
	}
	return c.JSON(http.StatusOK, out)
}
