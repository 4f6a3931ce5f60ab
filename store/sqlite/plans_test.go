package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// TestQueryPlans reads EXPLAIN QUERY PLAN of every query shape the store
// issues — built by the same functions the methods use — on a store of
// realistic tickets with ANALYZE statistics, and fails on a full scan of a
// table that grows with the tickets (tickets, ticket_docs, the search
// tables, rollups).
//
// Allowed, and why:
//   - "SCAN tickets" (rowid order) and "SCAN tickets USING INDEX
//     tickets_due" for the staff list with no filter at all: an ordered
//     walk that stops after the page (LIMIT); every row qualifies. Its
//     count is a walk that stops at model.MaxExactTotal+1.
//   - "SCAN handoffs …": the table holds only the handoffs not yet
//     relayed (a handful; relaying deletes them), whatever the history.
//   - "USE TEMP B-TREE" for sorting the matches of a driving index (a
//     search by deadline, several drivers merged): the rows sorted are
//     those an index found, not the table.
//   - A search table "SCAN … VIRTUAL TABLE INDEX" with a MATCH (the
//     index string holds M): FTS5 reads only the words' doclists.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.Tickets()
	end := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	g := newGen(1, end, 365)
	for range 4 {
		if err := s.Load(ctx, g.batch(5000)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	one := model.NewID(end)
	cur := &cursorPos{rid: ridBase(end.Add(-30 * 24 * time.Hour)), due: ridBase(end) >> ridShift}
	from, to := end.Add(-30*24*time.Hour), end.Add(-24*time.Hour)
	yes, no := true, false
	st := func(ss ...model.Status) []model.Status { return ss }

	type shape struct {
		name  string
		q     query
		scans bool // the unfiltered staff list
	}
	shapes := []shape{
		{"Get", query{sql: sqlDocByID, args: []any{one}}, false},
		{"GetByCaseNo", query{sql: "SELECT d.doc FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.case_no = ?", args: []any{"20261101-0001"}}, false},
		{"ByIdem", query{sql: "SELECT d.doc, d.body_hash FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.idem = ?", args: []any{"x"}}, false},
		{"History", query{sql: "SELECT d.hist FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.id = ?", args: []any{one}}, false},
		{"cursor", query{sql: "SELECT rid, due_key FROM tickets WHERE id = ?", args: []any{one}}, false},
		{"docs of a page", query{sql: "SELECT rid, doc FROM ticket_docs WHERE rid IN (?, ?, ?)", args: []any{1, 2, 3}}, false},
		{"ListByReporter", query{sql: "SELECT rid FROM tickets INDEXED BY tickets_reporter WHERE reporter_id = ? AND rid < ? ORDER BY rid DESC LIMIT ?", args: []any{"u1", 5, 21}}, false},
		{"ListAssigned open", listAssignedQuery("w001", st(model.StatusDispatched, model.StatusInProgress), "", nil, 20), false},
		{"ListAssigned one status, after", listAssignedQuery("w001", st(model.StatusResolved), " AND rid < ?", []any{5}, 20), false},
		{"ListPool", listPoolQuery([]string{"社区01", "社区02"}, "", nil, 20), false},
		{"OpenLoads", openLoadsQuery([]string{"w001", "w002", "w003"}), false},
		{"Near", nearQuery(geo.CoverRadius(geo.Point{Lat: 32.0, Lng: 118.8}, 500), "0101", st(model.StatusPending, model.StatusDispatched, model.StatusInProgress), from, 500), false},
		{"Near, any category", nearQuery(geo.CoverRadius(geo.Point{Lat: 32.0, Lng: 118.8}, 2000), "", st(model.StatusPending, model.StatusDispatched, model.StatusInProgress), time.Time{}, 500), false},
		{"Stale", staleQuery(model.StatusSubmitted, false, end, 500), false},
		{"Open", openQuery(one, 500), false},
		{"Unrelayed", query{sql: "SELECT ticket_id, version, from_event, owner, at FROM handoffs ORDER BY at, ticket_id LIMIT ?", args: []any{100}}, false},
		{"Relayed", query{sql: "DELETE FROM handoffs WHERE ticket_id = ? AND version <= ?", args: []any{one, 3}}, false},
		{"Stats.Read", query{sql: sqlRollupRead, args: []any{model.DimGrid, "y2026"}}, false},
		{"Stats.UpdatedAt", query{sql: "SELECT value FROM meta WHERE key = 'stats_updated_at'"}, false},
		{"commit: the row", query{sql: sqlCommitRow, args: append(make([]any, 16), one, 3)}, false},
		{"commit: the document", query{sql: sqlCommitDoc, args: []any{[]byte{1}, "", 5}}, false},
		{"commit: the handoff", query{sql: sqlHandoff, args: []any{one, 1, 0, "a", 0}}, false},
		{"commit: a roll-up", query{sql: sqlRollupAdd, args: make([]any, 3+rollupColumns)}, false},
		{"commit: the search rows", query{sql: "DELETE FROM ticket_text WHERE rowid = ?", args: []any{5}}, false},
		{"insert: a free rid", query{sql: sqlFreeRID, args: []any{ridBase(end)}}, false},
		{"insert: the case number", query{sql: sqlCaseNext, args: []any{"20261130"}}, false},
	}
	for _, pq := range []model.PublicQuery{
		{Limit: 1000},
		{Statuses: st(model.StatusPending, model.StatusDispatched, model.StatusInProgress), Limit: 1000, Offset: 1000},
		{Categories: []string{"0101"}, From: from, To: to, Limit: 100},
		{Categories: []string{"0101", "0102", "0103", "0104", "0201", "0202", "0203", "0204"}, Statuses: st(model.StatusClosed), Limit: 100},
	} {
		q, _ := publicQuery(pq)
		shapes = append(shapes, shape{fmt.Sprintf("Public %+v", pq), q, false})
	}

	// The staff search: every filter alone and with another, each sort,
	// with and without a cursor and a created_at range.
	filters := []struct {
		name string
		q    model.TicketQuery
	}{
		{"none", model.TicketQuery{}},
		{"status", model.TicketQuery{Statuses: st(model.StatusPending)}},
		{"statuses", model.TicketQuery{Statuses: st(model.StatusPending, model.StatusDispatched, model.StatusInProgress)}},
		{"grid", model.TicketQuery{Grid: "320106007"}},
		{"category", model.TicketQuery{Category: "0101"}},
		{"source", model.TicketQuery{Source: model.SourceHotline}},
		{"queue", model.TicketQuery{Queue: model.QueueStaff}},
		{"overdue", model.TicketQuery{Overdue: &yes}},
		{"late", model.TicketQuery{Late: &yes}},
		{"held", model.TicketQuery{Held: &yes}},
		{"not overdue, status", model.TicketQuery{Overdue: &no, Statuses: st(model.StatusInProgress)}},
		{"not late, grid", model.TicketQuery{Late: &no, Grid: "320106007"}},
		{"not held, status", model.TicketQuery{Held: &no, Statuses: st(model.StatusSubmitted)}},
		{"grid and status", model.TicketQuery{Grid: "320106007", Statuses: st(model.StatusClosed)}},
		{"grid, category, statuses, source", model.TicketQuery{Grid: "320106007", Category: "0101", Source: model.SourceWeChat, Statuses: st(model.StatusClosed, model.StatusResolved)}},
		{"overdue and grid", model.TicketQuery{Overdue: &yes, Grid: "320106007"}},
		{"range", model.TicketQuery{From: from, To: to}},
		{"word of 1", model.TicketQuery{Words: []string{"灯"}}},
		{"word of 2", model.TicketQuery{Words: []string{"井盖"}}},
		{"word of 3+", model.TicketQuery{Words: []string{"中山路"}}},
		{"words of 2 and 3+", model.TicketQuery{Words: []string{"路灯", "中山路"}}},
		{"words and filters", model.TicketQuery{Words: []string{"井盖"}, Grid: "320106007", Statuses: st(model.StatusPending)}},
		{"ref", model.TicketQuery{Ref: "20261101-0001"}},
		{"ref and words", model.TicketQuery{Ref: "20261101-0001", Words: []string{"井盖"}}},
	}
	for _, f := range filters {
		for _, sort := range []model.TicketSort{model.SortNewest, model.SortOldest, model.SortDue} {
			for _, c := range []*cursorPos{nil, cur} {
				for _, ranged := range []bool{false, true} {
					q := f.q
					q.Sort = sort
					if ranged && q.From.IsZero() {
						q.From, q.To = from, to
					}
					b := buildStaff(q, c, 20, model.MaxExactTotal)
					name := fmt.Sprintf("ListStaff %s sort=%s cursor=%v range=%v", f.name, sort, c != nil, ranged)
					unfiltered := f.name == "none" && !ranged
					shapes = append(shapes, shape{name + " page", b.page, unfiltered}, shape{name + " count", b.count, unfiltered})
				}
			}
		}
	}

	for _, sh := range shapes {
		plan, err := explain(ctx, db, sh.q)
		if err != nil {
			t.Errorf("%s: %v\n%s", sh.name, err, sh.q.sql)
			continue
		}
		for _, line := range plan {
			if bad := fullScan(line, sh.scans); bad {
				t.Errorf("%s: full scan %q\nplan:\n  %s\nsql: %s", sh.name, line, strings.Join(plan, "\n  "), sh.q.sql)
			}
		}
		if testing.Verbose() {
			t.Logf("%s:\n  %s", sh.name, strings.Join(plan, "\n  "))
		}
	}
}

// The grid with statuses (the dispatch desk's view of a grid's open
// tickets): the count reads (grid_code, status, due_key) alone, and the page
// by deadline merges one range of it per status, with no sort — not the
// grid's index with every ticket's status looked up in the table.
func TestGridStatusPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := newGen(2, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), 365)
	if err := db.Tickets().Load(ctx, g.batch(2000)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	open := []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}
	for _, c := range []struct {
		q        model.TicketQuery
		cur      *cursorPos
		pageByGS bool
	}{
		{model.TicketQuery{Grid: "320106007", Statuses: open, Sort: model.SortDue}, nil, true},
		{model.TicketQuery{Grid: "320106007", Statuses: open, Sort: model.SortDue}, &cursorPos{rid: 5, due: 7}, true},
		{model.TicketQuery{Grid: "320106007", Statuses: open[:1], Category: "0101", Sort: model.SortDue}, nil, true},
		{model.TicketQuery{Grid: "320106007", Statuses: open}, nil, false},
	} {
		b := buildStaff(c.q, c.cur, 20, model.MaxExactTotal)
		count, err := explain(ctx, db, b.count)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(count, func(l string) bool { return strings.Contains(l, "USING COVERING INDEX tickets_grid_status_due") }) &&
			len(c.q.Category) == 0 {
			t.Errorf("%+v: the count is not on (grid_code, status) alone:\n  %s", c.q, strings.Join(count, "\n  "))
		}
		if !slices.ContainsFunc(count, func(l string) bool { return strings.Contains(l, "tickets_grid_status_due") }) {
			t.Errorf("%+v: the count does not use tickets_grid_status_due:\n  %s", c.q, strings.Join(count, "\n  "))
		}
		page, err := explain(ctx, db, b.page)
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(page, "\n  ")
		if c.pageByGS && (!strings.Contains(plan, "tickets_grid_status_due") || strings.Contains(plan, "TEMP B-TREE")) {
			t.Errorf("%+v: the page by deadline is not merged ranges of tickets_grid_status_due:\n  %s", c.q, plan)
		}
		if !c.pageByGS && (!strings.Contains(plan, "INDEX tickets_grid ") || strings.Contains(plan, "TEMP B-TREE")) {
			t.Errorf("%+v: the newest-first page is not the grid's index in rowid order:\n  %s", c.q, plan)
		}
	}
}

// A created_at range paged in creation order has one lower and one upper
// bound on rid, the cursor folded into the range: with "rid < to AND rid <
// cursor" SQLite ranges on one and filters on the other, and each page of
// an export read from the range's end again.
func TestRangeAndCursorOneBound(t *testing.T) {
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	mid := &cursorPos{rid: ridBase(time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))}
	for _, c := range []struct {
		sort   model.TicketSort
		grid   string
		lo, hi int64
		loOp   string
	}{
		{model.SortNewest, "", ridFloor(from), mid.rid, ">="},
		{model.SortOldest, "", mid.rid + 1, ridFloor(to), ">="},
		{model.SortNewest, "320106007", ridFloor(from), mid.rid, ">="},
	} {
		b := buildStaff(model.TicketQuery{From: from, To: to, Sort: c.sort, Grid: c.grid}, mid, 100, model.MaxExactTotal)
		if n := strings.Count(b.page.sql, "rid < ?"); n != 1 {
			t.Errorf("%s %q: %d upper bounds on rid: %s", c.sort, c.grid, n, b.page.sql)
		}
		if n := strings.Count(b.page.sql, "rid "+c.loOp+" ?") + strings.Count(b.page.sql, "rid > ?"); n != 1 {
			t.Errorf("%s %q: %d lower bounds on rid: %s", c.sort, c.grid, n, b.page.sql)
		}
		if !slices.Contains(b.page.args, any(c.lo)) || !slices.Contains(b.page.args, any(c.hi)) {
			t.Errorf("%s %q: bounds %v, want %d and %d", c.sort, c.grid, b.page.args, c.lo, c.hi)
		}
		// The total is the range's, whatever the page.
		if !slices.Contains(b.count.args, any(ridFloor(from))) || !slices.Contains(b.count.args, any(ridFloor(to))) {
			t.Errorf("%s %q: the count's bounds %v, want the range's", c.sort, c.grid, b.count.args)
		}
	}
}

// fullScan reports whether a plan line reads a growing table whole.
func fullScan(line string, unfiltered bool) bool {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "SCAN ") {
		return false
	}
	switch {
	case strings.HasPrefix(line, "SCAN (subquery"), strings.HasPrefix(line, "SCAN CONSTANT ROW"):
		return false
	case strings.HasPrefix(line, "SCAN handoffs"):
		return false
	case strings.Contains(line, "VIRTUAL TABLE INDEX"):
		_, idx, _ := strings.Cut(line, "VIRTUAL TABLE INDEX ")
		return !strings.ContainsAny(idx, "M=") // a MATCH, or a rowid lookup
	case unfiltered && (line == "SCAN tickets" || strings.HasPrefix(line, "SCAN tickets USING INDEX tickets_due") ||
		strings.HasPrefix(line, "SCAN tickets USING COVERING INDEX")):
		return false
	}
	return true
}

func explain(ctx context.Context, db *DB, q query) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}
