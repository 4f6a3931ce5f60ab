package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/citizen-city/chengguantong/model"
)

// The staff search (ListStaff) is one query of rids and one count, both
// driven by one index, chosen here rather than by the planner so that every
// shape has a known plan (plans_test.go checks each):
//
//   - Ref alone: the id and case number indexes (at most two rows);
//   - words: the search tables, which list matches newest first by rid
//     (ORDER BY rowid is served by FTS5 itself);
//   - else the first filter set of queue, held, overdue, grid, category,
//     late, status, source — small sets first, then the usually more
//     selective columns — through its index in creation order (rowid),
//     or its (column, due_key) index for sort=due_at; several statuses are
//     one range each, merged (MERGE (UNION ALL)); a grid with statuses
//     counts, and sorts by deadline, on (grid_code, status, due_key);
//   - else created_at's range (rowid), or the whole table in rowid or
//     due_key order, read only as far as the page.
//
// The other filters are checked on the narrow rows the driving index
// yields. The count stops at maxExact+1 rows (model.MaxExactTotal).

// staffDriver is the index that serves a staff search.
type staffDriver struct {
	col     string // the driving column ("" for none)
	values  []any
	literal string // the partial index's condition, when the index is partial
	byRID   string // the index in rowid order
	byDue   string // the index in (col, due_key) order; "" to sort the matches
	cond    int    // which of the conditions it replaces (-1: none)
}

// staffSQL is a staff search's query of rids (limit+1, in q.Sort's order
// after the cursor at (curRID, curDue) if hasCur) and its count.
type staffSQL struct {
	page, count query
	empty       bool // the words can match nothing
}

type cursorPos struct {
	rid, due int64
}

// buildStaff builds a staff search's SQL.
func buildStaff(q model.TicketQuery, cur *cursorPos, limit, maxExact int) staffSQL {
	type cond struct {
		sql  string
		args []any
	}
	var conds []cond
	add := func(sql string, args ...any) { conds = append(conds, cond{sql, args}) }

	var d staffDriver
	d.cond = -1
	pick := func(col string, values []any, literal, byRID, byDue string) {
		if d.col != "" {
			return
		}
		d = staffDriver{col: col, values: values, literal: literal, byRID: byRID, byDue: byDue, cond: len(conds) - 1}
	}
	if q.Queue != "" {
		add("queue = ?", q.Queue)
		pick("queue", []any{q.Queue}, "queue <> ''", "tickets_queue", "")
	}
	if q.Held != nil {
		add("held = ?", b2i(*q.Held))
		if *q.Held {
			pick("held", []any{1}, "held = 1", "tickets_held", "")
		}
	}
	if q.Overdue != nil {
		add("open_overdue = ?", b2i(*q.Overdue))
		if *q.Overdue {
			pick("open_overdue", []any{1}, "open_overdue = 1", "tickets_overdue", "")
		}
	}
	if q.Grid != "" {
		add("grid_code = ?", q.Grid)
		pick("grid_code", []any{q.Grid}, "", "tickets_grid", "tickets_grid_due")
	}
	if q.Category != "" {
		add("category = ?", q.Category)
		pick("category", []any{q.Category}, "", "tickets_category", "tickets_category_due")
	}
	if q.Late != nil {
		add("closed_late = ?", b2i(*q.Late))
		if *q.Late {
			pick("closed_late", []any{1}, "closed_late = 1", "tickets_late", "")
		}
	}
	// gridStatus: the grid drives and statuses are asked for too; the
	// (grid_code, status, due_key) index then serves the count, and the
	// page by deadline (one range per status).
	var gridStatus []any
	gridStatusCond := -1
	if len(q.Statuses) > 0 {
		var vals []any
		for _, st := range q.Statuses {
			if !containsAny(vals, string(st)) {
				vals = append(vals, string(st))
			}
		}
		add("status IN ("+placeholders(len(vals))+")", vals...)
		if d.col == "grid_code" {
			gridStatus, gridStatusCond = vals, len(conds)-1
		}
		pick("status", vals, "", "tickets_status", "tickets_status_due")
	}
	if q.Source != "" {
		add("source = ?", string(q.Source))
		pick("source", []any{string(q.Source)}, "", "tickets_source", "tickets_source_due")
	}

	// The created_at range and the cursor: conditions on rid (or on the
	// search table's rowid when it drives). In creation order the cursor
	// narrows the range itself — one lower and one upper bound: given
	// "rid < to AND rid < cursor", SQLite ranges on one of the two and
	// filters on the other, and an export's pages of a range each read from
	// its end again (page k read k pages).
	due := q.Sort == model.SortDue
	desc := q.Sort != model.SortOldest && !due
	ridRange := func(withCursor bool) []cond {
		var lo, hi int64
		hasLo, hasHi := !q.From.IsZero(), !q.To.IsZero()
		if hasLo {
			lo = ridFloor(q.From)
		}
		if hasHi {
			hi = ridFloor(q.To)
		}
		if withCursor && cur != nil && !due {
			if desc && (!hasHi || cur.rid < hi) {
				hi, hasHi = cur.rid, true
			}
			if !desc && (!hasLo || cur.rid+1 > lo) {
				lo, hasLo = cur.rid+1, true
			}
		}
		var out []cond
		if hasLo {
			out = append(out, cond{"%s >= ?", []any{lo}})
		}
		if hasHi {
			out = append(out, cond{"%s < ?", []any{hi}})
		}
		return out
	}
	ridConds := ridRange(false)
	var curCond *cond
	if cur != nil && due {
		curCond = &cond{"(due_key, rid) > (?, ?)", []any{cur.due, cur.rid}}
	}
	order := " ORDER BY rid DESC"
	cols := "rid"
	switch {
	case due:
		order, cols = " ORDER BY due_key, rid", "rid, due_key"
	case !desc:
		order = " ORDER BY rid"
	}

	// where joins conditions, skipping the driver's (and a second one,
	// skip2 when not -1), with ridExpr for rid.
	where := func(ridExpr string, skip, skip2 int, withCursor bool) (string, []any) {
		var parts []string
		var args []any
		for i, c := range conds {
			if i == skip || i == skip2 {
				continue
			}
			parts = append(parts, c.sql)
			args = append(args, c.args...)
		}
		rc := ridRange(withCursor)
		if withCursor && curCond != nil {
			rc = append(rc, *curCond)
		}
		for _, c := range rc {
			if strings.Contains(c.sql, "%s") {
				parts = append(parts, fmt.Sprintf(c.sql, ridExpr))
			} else {
				parts = append(parts, c.sql)
			}
			args = append(args, c.args...)
		}
		if len(parts) == 0 {
			return "", nil
		}
		return " AND " + strings.Join(parts, " AND "), args
	}
	capped := func(inner query) query {
		return query{"SELECT count(*) FROM (" + inner.sql + " LIMIT ?)", append(inner.args, maxExact+1)}
	}
	pageOf := func(inner query) query {
		return query{inner.sql + order + " LIMIT ?", append(inner.args, limit+1)}
	}

	var out staffSQL
	long, short, ok := wordsMatch(q.Words)
	if !ok {
		out.empty = true
		return out
	}
	// With words, FTS drives: the search query (page) and its rids (count).
	var search, searchAll *query
	if long != "" || short != "" {
		fts, match, other := "ticket_text", long, short
		if long == "" {
			fts, match, other = "ticket_grams", short, ""
		}
		// The search table alone when no other filter needs the ticket's
		// row: a count then reads only the words' doclists.
		joined := len(conds) > 0 || due
		ridCol := fts + ".rowid"
		from := " FROM " + fts
		if joined {
			ridCol = "tickets.rid"
			from += " JOIN tickets ON tickets.rid = " + fts + ".rowid"
		}
		from += " WHERE " + fts + " MATCH ?"
		a := []any{match}
		if other != "" {
			from += " AND " + ridCol + " IN (SELECT rowid FROM ticket_grams WHERE ticket_grams MATCH ?)"
			a = append(a, other)
		}
		sel := "SELECT " + ridCol + " AS rid"
		if due {
			sel += ", tickets.due_key AS due_key"
		}
		rest, args := where(fts+".rowid", -1, -1, true)
		search = &query{sel + from + rest, append(append([]any{}, a...), args...)}
		countRest, countArgs := where(fts+".rowid", -1, -1, false)
		searchAll = &query{"SELECT " + ridCol + " AS rid" + from + countRest, append(append([]any{}, a...), countArgs...)}
		if q.Ref == "" {
			o := order
			if !due { // FTS5 serves ORDER BY rowid in either direction
				o = strings.Replace(order, "rid", fts+".rowid", 1)
			}
			out.page = query{search.sql + o + " LIMIT ?", append(search.args, limit+1)}
			out.count = capped(*searchAll)
			return out
		}
	}
	if q.Ref != "" {
		rest, args := where("rid", -1, -1, true)
		byRef := query{"SELECT " + cols + " FROM tickets WHERE (id = ? OR case_no = ?)" + rest, append([]any{q.Ref, q.Ref}, args...)}
		countRest, countArgs := where("rid", -1, -1, false)
		refAll := query{"SELECT rid FROM tickets WHERE (id = ? OR case_no = ?)" + countRest, append([]any{q.Ref, q.Ref}, countArgs...)}
		if search == nil {
			out.page = pageOf(byRef)
			out.count = capped(refAll)
			return out
		}
		// The ticket named, or those with the words.
		out.page = pageOf(query{byRef.sql + " UNION " + search.sql, append(byRef.args, search.args...)})
		out.count = capped(query{refAll.sql + " UNION " + searchAll.sql, append(refAll.args, searchAll.args...)})
		return out
	}

	if d.col == "" {
		rest, args := where("rid", -1, -1, true)
		countRest, countArgs := where("rid", -1, -1, false)
		from := "tickets"
		switch {
		case due && len(ridConds) == 0:
			from = "tickets INDEXED BY tickets_due"
		case len(ridConds) > 0:
			from = "tickets NOT INDEXED" // the created_at range: a rowid range
		}
		out.page = pageOf(query{"SELECT " + cols + " FROM " + from + " WHERE 1" + rest, args})
		out.count = capped(query{"SELECT 1 FROM tickets WHERE 1" + countRest, countArgs})
		return out
	}
	lit := ""
	if d.literal != "" {
		lit = " AND " + d.literal
	}
	rest, args := where("rid", d.cond, -1, true)
	countRest, countArgs := where("rid", d.cond, -1, false)
	index := d.byRID
	if due && d.byDue != "" {
		index = d.byDue
	}
	if len(d.values) == 1 {
		out.page = pageOf(query{"SELECT " + cols + " FROM tickets INDEXED BY " + index + " WHERE " + d.col + " = ?" + lit + rest,
			append([]any{d.values[0]}, args...)})
	} else {
		out.page = pageOf(union(cols, index, d.col, d.values, lit+rest, args))
	}
	out.count = capped(query{"SELECT 1 FROM tickets INDEXED BY " + d.byRID + " WHERE " + d.col + " IN (" + placeholders(len(d.values)) + ")" + lit + countRest,
		append(append([]any{}, d.values...), countArgs...)})
	if gridStatus != nil {
		// The grid and its statuses: the count on (grid_code, status) alone;
		// by deadline, one (grid, status) range each, merged. Newest or
		// oldest first stays on the grid's index in rowid order (above),
		// which stops at the page.
		const gs = "tickets_grid_status_due"
		rest, args := where("rid", d.cond, gridStatusCond, true)
		countRest, countArgs := where("rid", d.cond, gridStatusCond, false)
		if due {
			arms := make([]string, len(gridStatus))
			var a []any
			for i, st := range gridStatus {
				arms[i] = "SELECT " + cols + " FROM tickets INDEXED BY " + gs + " WHERE grid_code = ? AND status = ?" + rest
				a = append(append(a, d.values[0], st), args...)
			}
			out.page = pageOf(query{strings.Join(arms, " UNION ALL "), a})
		}
		out.count = capped(query{"SELECT 1 FROM tickets INDEXED BY " + gs + " WHERE grid_code = ? AND status IN (" + placeholders(len(gridStatus)) + ")" + countRest,
			append(append([]any{d.values[0]}, gridStatus...), countArgs...)})
	}
	return out
}

func containsAny(vs []any, v any) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// ListStaff returns a page of the tickets matching q in q.Sort's order
// after cursor (the previous page's last id), the next cursor ("" at the
// end), and the total: exact up to model.MaxExactTotal, else that number
// with TotalCapped. Errors: invalid_argument (a cursor naming no ticket),
// unavailable.
func (s *Tickets) ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error) {
	var cur *cursorPos
	if cursor != "" {
		rid, due, ok, err := s.cursorRID(ctx, cursor)
		if err != nil {
			return model.TicketPage{}, fmt.Errorf("list tickets: %w", err)
		}
		if !ok {
			return model.TicketPage{}, model.Invalid("cursor", "不是本服务给出的游标")
		}
		cur = &cursorPos{rid, due}
	}
	b := buildStaff(q, cur, limit, s.maxExact)
	if b.empty {
		return model.TicketPage{}, nil
	}
	var n int64
	if err := s.db.queryRow(ctx, b.count.sql, b.count.args...).Scan(&n); err != nil {
		return model.TicketPage{}, fmt.Errorf("count tickets: %w", translate(err))
	}
	page := model.TicketPage{Total: n}
	if n > int64(s.maxExact) {
		page.Total, page.TotalCapped = int64(s.maxExact), true
	}
	ts, next, err := s.page(ctx, b.page, limit)
	if err != nil {
		return model.TicketPage{}, fmt.Errorf("list tickets: %w", err)
	}
	page.Items, page.Next = ts, next
	return page, nil
}
