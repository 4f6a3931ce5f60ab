package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// A list runs in two steps: a query of rids on tickets (and the search
// tables), served by an index, then the documents of those rids. So the
// query reads only narrow rows, and documents are read only for the page.

// query is SQL and its arguments.
type query struct {
	sql  string
	args []any
}

// placeholders is "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// anys are the distinct values of vs, in order, as query arguments.
func anys[T ~string](vs []T) []any {
	out := make([]any, 0, len(vs))
	seen := make(map[T]bool, len(vs))
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, string(v))
		}
	}
	return out
}

// union is one SELECT per value of the driving column, each served by the
// index given and in its order, merged by SQLite (MERGE (UNION ALL)) in
// the order of the caller's ORDER BY: the way to read "col IN (…)" in index
// order without sorting every match. rest are the other conditions.
func union(cols, index, col string, values []any, rest string, restArgs []any) query {
	var q query
	arms := make([]string, len(values))
	for i, v := range values {
		arms[i] = "SELECT " + cols + " FROM tickets INDEXED BY " + index + " WHERE " + col + " = ?" + rest
		q.args = append(q.args, v)
		q.args = append(q.args, restArgs...)
	}
	q.sql = strings.Join(arms, " UNION ALL ")
	return q
}

// rids runs a query of rids (the first column).
func (s *Tickets) rids(ctx context.Context, q query) ([]int64, error) {
	rows, err := s.db.query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, translate(err)
	}
	dest := make([]any, len(cols))
	var rid int64
	dest[0] = &rid
	for i := 1; i < len(dest); i++ {
		dest[i] = new(any)
	}
	var out []int64
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, translate(err)
		}
		out = append(out, rid)
	}
	return out, translate(rows.Err())
}

// docs reads the tickets of rids, in that order.
func (s *Tickets) docs(ctx context.Context, rids []int64) ([]*model.Ticket, error) {
	if len(rids) == 0 {
		return nil, nil
	}
	out := make([]*model.Ticket, 0, len(rids))
	byRID := make(map[int64]*model.Ticket, len(rids))
	for start := 0; start < len(rids); start += 500 {
		chunk := rids[start:min(start+500, len(rids))]
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r
		}
		rows, err := s.db.query(ctx, "SELECT rid, doc FROM ticket_docs WHERE rid IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var rid int64
			var doc []byte
			if err := rows.Scan(&rid, &doc); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			t, err := decodeDoc(doc)
			if err != nil {
				rows.Close()
				return nil, err
			}
			byRID[rid] = t
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, translate(err)
		}
	}
	for _, r := range rids {
		if t := byRID[r]; t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// list runs a query of rids and reads their tickets.
func (s *Tickets) list(ctx context.Context, q query) ([]*model.Ticket, error) {
	rids, err := s.rids(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.docs(ctx, rids)
}

// page reads up to limit tickets of q (which asks for limit+1) and the
// next cursor: the last one's id if there are more.
func (s *Tickets) page(ctx context.Context, q query, limit int) ([]*model.Ticket, string, error) {
	ts, err := s.list(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > limit {
		ts = ts[:limit]
		next = ts[limit-1].ID
	}
	return ts, next, nil
}

// cursorRID is the rid (and due_key) of the ticket a cursor names: false
// if there is none.
func (s *Tickets) cursorRID(ctx context.Context, id string) (rid, due int64, ok bool, err error) {
	err = s.db.queryRow(ctx, "SELECT rid, due_key FROM tickets WHERE id = ?", id).Scan(&rid, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, translate(err)
	}
	return rid, due, true, nil
}

// before is the condition of a newest-first page after cursor: rowid below
// the cursor's; a cursor naming no ticket lists nothing more.
func (s *Tickets) before(ctx context.Context, cursor string) (string, []any, error) {
	if cursor == "" {
		return "", nil, nil
	}
	rid, _, ok, err := s.cursorRID(ctx, cursor)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, model.Invalid("cursor", "不是本服务给出的游标")
	}
	return " AND rid < ?", []any{rid}, nil
}

// ListByReporter returns a reporter's tickets newest first after cursor,
// and the next cursor. Errors: invalid_argument (a cursor naming no
// ticket), unavailable.
func (s *Tickets) ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error) {
	after, args, err := s.before(ctx, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list tickets: %w", err)
	}
	q := query{"SELECT rid FROM tickets INDEXED BY tickets_reporter WHERE reporter_id = ?" + after + " ORDER BY rid DESC LIMIT ?",
		append(append([]any{reporterID}, args...), limit+1)}
	ts, next, err := s.page(ctx, q, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list tickets: %w", err)
	}
	return ts, next, nil
}

// listAssignedQuery is ListAssigned's query of rids.
func listAssignedQuery(assigneeID string, statuses []model.Status, after string, afterArgs []any, limit int) query {
	q := union("rid", "tickets_assignee", "status", anys(statuses), " AND assignee_id = ?"+after, append([]any{assigneeID}, afterArgs...))
	q.sql += " ORDER BY rid DESC LIMIT ?"
	q.args = append(q.args, limit+1)
	return q
}

// ListAssigned returns an assignee's tickets in statuses, newest first.
// Errors: invalid_argument (a cursor naming no ticket), unavailable.
func (s *Tickets) ListAssigned(ctx context.Context, assigneeID string, statuses []model.Status, cursor string, limit int) ([]*model.Ticket, string, error) {
	if len(statuses) == 0 {
		return nil, "", nil
	}
	after, args, err := s.before(ctx, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list tasks: %w", err)
	}
	ts, next, err := s.page(ctx, listAssignedQuery(assigneeID, statuses, after, args, limit), limit)
	if err != nil {
		return nil, "", fmt.Errorf("list tasks: %w", err)
	}
	return ts, next, nil
}

// poolStatuses are the statuses in which a pooled ticket can be claimed.
var poolStatuses = []model.Status{model.StatusPending, model.StatusDispatched}

func listPoolQuery(communities []string, after string, afterArgs []any, limit int) query {
	q := union("rid", "tickets_pool", "community", anys(communities),
		" AND pool = 1 AND status IN (?, ?)"+after, append(anys(poolStatuses), afterArgs...))
	q.sql += " ORDER BY rid DESC LIMIT ?"
	q.args = append(q.args, limit+1)
	return q
}

// ListPool returns the tickets offered to the party members of
// communities (pooled, pending or dispatched), newest first. Errors:
// invalid_argument (a cursor naming no ticket), unavailable.
func (s *Tickets) ListPool(ctx context.Context, communities []string, cursor string, limit int) ([]*model.Ticket, string, error) {
	if len(communities) == 0 {
		return nil, "", nil
	}
	after, args, err := s.before(ctx, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list pool: %w", err)
	}
	ts, next, err := s.page(ctx, listPoolQuery(communities, after, args, limit), limit)
	if err != nil {
		return nil, "", fmt.Errorf("list pool: %w", err)
	}
	return ts, next, nil
}

// loadStatuses are the statuses a ticket counts in its assignee's load.
var loadStatuses = []model.Status{model.StatusDispatched, model.StatusInProgress}

func openLoadsQuery(userIDs []string) query {
	users := anys(userIDs)
	return query{"SELECT assignee_id, count(*) FROM tickets INDEXED BY tickets_assignee WHERE assignee_id IN (" +
		placeholders(len(users)) + ") AND status IN (?, ?) GROUP BY assignee_id", append(users, anys(loadStatuses)...)}
}

// OpenLoads returns, per user, the tickets assigned to them and dispatched
// or in progress (0 for a user with none). Errors: unavailable.
func (s *Tickets) OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(userIDs))
	for _, u := range userIDs {
		out[u] = 0
	}
	for start := 0; start < len(userIDs); start += 500 {
		q := openLoadsQuery(userIDs[start:min(start+500, len(userIDs))])
		rows, err := s.db.query(ctx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("open loads: %w", translate(err))
		}
		for rows.Next() {
			var u string
			var n int
			if err := rows.Scan(&u, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("open loads: %w", translate(err))
			}
			out[u] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("open loads: %w", translate(err))
		}
	}
	return out, nil
}

// nearQuery is Near's query: per status and geohash cell of the cover, a
// range of tickets_near.
func nearQuery(cells []string, category string, statuses []model.Status, since time.Time, limit int) query {
	var q query
	var arms []string
	extra := ""
	var extraArgs []any
	if category != "" {
		extra += " AND category = ?"
		extraArgs = append(extraArgs, category)
	}
	if !since.IsZero() {
		extra += " AND rid >= ?"
		extraArgs = append(extraArgs, ridFloor(since))
	}
	// One arm per cell, the statuses an IN list on the index's first
	// column: a statement of cells × statuses arms took longer to parse
	// than to run, and SQLite parses it again at each run (its statistics
	// make a range's plan depend on the bound values).
	sts := anys(statuses)
	in := "status = ?"
	if len(sts) > 1 {
		in = "status IN (" + qmarks(len(sts)) + ")"
	}
	for _, c := range cells {
		arms = append(arms, "SELECT rid FROM tickets INDEXED BY tickets_near WHERE "+in+" AND gh >= ? AND gh < ?"+extra)
		q.args = append(q.args, sts...)
		q.args = append(q.args, c, c+"~")
		q.args = append(q.args, extraArgs...)
	}
	q.sql = strings.Join(arms, " UNION ALL ") + " ORDER BY rid LIMIT ?"
	q.args = append(q.args, limit)
	return q
}

// Near returns up to limit tickets in statuses within about radiusM of
// center (the geohash cells that cover the circle: the caller filters by
// exact distance), of one category if set, created since since (if set),
// oldest first. Errors: unavailable.
func (s *Tickets) Near(ctx context.Context, center model.Point, radiusM float64, category string, statuses []model.Status, since time.Time, limit int) ([]*model.Ticket, error) {
	cells := geo.CoverRadius(geo.Point{Lat: center.Lat, Lng: center.Lng}, radiusM)
	if len(cells) == 0 || len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ts, err := s.list(ctx, nearQuery(cells, category, statuses, since, limit))
	if err != nil {
		return nil, fmt.Errorf("tickets near: %w", err)
	}
	return ts, nil
}

func staleQuery(status model.Status, held bool, before time.Time, limit int) query {
	return query{"SELECT id FROM tickets INDEXED BY tickets_stale WHERE status = ? AND held = ? AND updated_at < ? ORDER BY updated_at LIMIT ?",
		[]any{string(status), b2i(held), before.UnixMilli(), limit}}
}

// Stale returns the ids of tickets in status (held or not) unchanged since
// before, oldest change first. Errors: unavailable.
func (s *Tickets) Stale(ctx context.Context, status model.Status, held bool, before time.Time, limit int) ([]string, error) {
	q := staleQuery(status, held, before, limit)
	rows, err := s.db.query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("stale tickets: %w", translate(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("stale tickets: %w", translate(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stale tickets: %w", translate(err))
	}
	return ids, nil
}

// openStatuses are the statuses of tickets with timers; tickets_open is
// the partial index of exactly these (keep the two in step).
const openStatusesSQL = "status IN ('pending', 'dispatched', 'in_progress', 'resolved')"

func openQuery(after string, limit int) query {
	return query{"SELECT rid FROM tickets INDEXED BY tickets_open WHERE " + openStatusesSQL + " AND id > ? ORDER BY id LIMIT ?", []any{after, limit}}
}

// Open returns the tickets that have timers (pending, dispatched, in
// progress, resolved) after id after, in id order. Errors: unavailable.
func (s *Tickets) Open(ctx context.Context, after string, limit int) ([]*model.Ticket, error) {
	ts, err := s.list(ctx, openQuery(after, limit))
	if err != nil {
		return nil, fmt.Errorf("open tickets: %w", err)
	}
	return ts, nil
}

// publicQuery is Public's query (without IDs): per allowed status (or
// category, when fewer) a range of its index, merged newest first.
func publicQuery(q model.PublicQuery) (query, bool) {
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = model.PublicStatuses
	}
	var allowed []model.Status
	for _, st := range statuses {
		if slices.Contains(model.PublicStatuses, st) && !slices.Contains(allowed, st) {
			allowed = append(allowed, st)
		}
	}
	if len(allowed) == 0 {
		return query{}, false
	}
	rest := ""
	var restArgs []any
	if !q.From.IsZero() {
		rest += " AND rid >= ?"
		restArgs = append(restArgs, ridFloor(q.From))
	}
	if !q.To.IsZero() {
		rest += " AND rid < ?"
		restArgs = append(restArgs, ridBase(q.To)+1<<ridShift)
	}
	var out query
	cats := anys(q.Categories)
	if len(cats) > 0 && len(cats) < len(allowed) {
		out = union("rid", "tickets_category", "category", cats,
			" AND status IN ("+placeholders(len(allowed))+")"+rest, append(anys(allowed), restArgs...))
	} else {
		if len(cats) > 0 {
			rest += " AND category IN (" + placeholders(len(cats)) + ")"
			restArgs = append(restArgs, cats...)
		}
		out = union("rid", "tickets_status", "status", anys(allowed), rest, restArgs)
	}
	out.sql += " ORDER BY rid DESC LIMIT ? OFFSET ?"
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	out.args = append(out.args, limit, max(0, q.Offset))
	return out, true
}

// Public returns the tickets a public (Open311) listing shows: by id, in
// the order given, those that exist and are public; else those matching
// created_at (both bounds included), categories and statuses (public ones
// only), newest first, after q.Offset, at most q.Limit. Errors:
// unavailable.
func (s *Tickets) Public(ctx context.Context, q model.PublicQuery) ([]*model.Ticket, error) {
	if len(q.IDs) > 0 {
		var out []*model.Ticket
		for _, id := range q.IDs {
			t, err := s.Get(ctx, id)
			if errors.Is(err, model.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if slices.Contains(model.PublicStatuses, t.Status) {
				out = append(out, t)
			}
		}
		return out, nil
	}
	pq, ok := publicQuery(q)
	if !ok {
		return nil, nil
	}
	ts, err := s.list(ctx, pq)
	if err != nil {
		return nil, fmt.Errorf("public tickets: %w", err)
	}
	return ts, nil
}
