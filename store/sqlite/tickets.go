package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Tickets stores tickets (see the schema in migrations/0002_tickets.sql
// and docs/sqlite.md). A change is one write transaction: the ticket's
// columns and document, its search rows, its statistics' delta, its
// handoff and its history entry, all or nothing.
type Tickets struct {
	db       *DB
	instance string // names the handoffs' owner (Options.Instance)
	// maxExact is model.MaxExactTotal, lowered by tests of the cap.
	maxExact int
}

// Tickets returns the store's tickets.
func (db *DB) Tickets() *Tickets {
	return &Tickets{db: db, instance: db.instance, maxExact: model.MaxExactTotal}
}

// SetMaxExactTotal lowers the count above which ListStaff gives a capped
// total, so that a test can reach the cap with a few tickets.
func (s *Tickets) SetMaxExactTotal(n int) { s.maxExact = n }

// ridShift: a ticket's rid is its creation time in unix milliseconds
// shifted left by ridShift, plus its rank among the tickets of that
// millisecond. So rowid order is creation order.
const ridShift = 12

// noDue is due_key of a ticket without a deadline: after every deadline.
const noDue = int64(1) << 62

func ridBase(t time.Time) int64 { return t.UnixMilli() << ridShift }

// ridFloor is the first rid of a ticket created at or after t.
func ridFloor(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) { // a fraction of a millisecond: the next one
		ms++
	}
	return ms << ridShift
}

func dueKey(t *model.Ticket) int64 {
	if t.DueAt.IsZero() {
		return noDue
	}
	return t.DueAt.UnixMilli()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The narrow row's columns a change writes, in the order of rowValues.
const rowColumns = "status, version, grid_code, category, source, assignee_id, queue, pool, held, open_overdue, closed_late, due_key, updated_at, community, reporter_id, gh"

func rowValues(t *model.Ticket) []any {
	return []any{string(t.Status), t.Version, t.GridCode, t.Category, string(sourceOf(t.Source)), t.AssigneeID, t.Queue,
		b2i(t.Pool), b2i(t.Held), b2i(t.OpenOverdue()), b2i(t.ClosedLate()), dueKey(t), t.UpdatedAt.UnixMilli(),
		t.Community, t.ReporterID, geo.Encode(geo.Point{Lat: t.Point.Lat, Lng: t.Point.Lng}, geo.MaxCellPrecision)}
}

const (
	sqlInsertRow     = "INSERT INTO tickets (rid, id, case_no, idem, " + rowColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	sqlInsertDoc     = "INSERT INTO ticket_docs (rid, body_hash, doc, hist) VALUES (?, ?, ?, ?)"
	sqlFreeRID       = "SELECT coalesce(max(rid) + 1, ?1) FROM tickets WHERE rid BETWEEN ?1 AND ?1 + 4095"
	sqlCaseNext      = "INSERT INTO case_days (day, last) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last"
	sqlCaseAtOrAbove = "INSERT INTO case_days (day, last) VALUES (?1, ?2) ON CONFLICT (day) DO UPDATE SET last = max(last, ?2)"
	sqlHandoff       = `INSERT INTO handoffs (ticket_id, version, from_event, owner, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, from_event = min(from_event, excluded.from_event),
		owner = excluded.owner, at = excluded.at`
	sqlCommitRow = "UPDATE tickets SET (" + rowColumns + ") = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ? AND version = ? RETURNING rid"
	sqlCommitDoc = "UPDATE ticket_docs SET doc = ?, hist = hist || ? WHERE rid = ?"
	sqlStatsAt   = "INSERT INTO meta (key, value) VALUES ('stats_updated_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

// Insert stores a new ticket and its intake handoff (From 0) and gives it
// its case number (t.CaseNo). Errors: conflict (idem or id taken: nothing
// is stored), unavailable.
func (s *Tickets) Insert(ctx context.Context, t *model.Ticket, idem, bodyHash string) error {
	var caseNo string
	doc := *t
	s.db.warm(ctx)
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		w := s.db.txw(ctx, tx)
		var err error
		if caseNo, err = nextCaseNo(w, t.CreatedAt); err != nil {
			return err
		}
		doc.CaseNo = caseNo
		rid, err := freeRID(w, t.CreatedAt)
		if err != nil {
			return err
		}
		if err := insertTicket(w, rid, &doc, idem, bodyHash, ""); err != nil {
			return err
		}
		_, err = w.exec(sqlHandoff, t.ID, t.Version, 0, s.instance, s.db.now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	t.CaseNo = caseNo
	return nil
}

// txw runs a transaction's statements, each prepared once (see warm).
type txw struct {
	ctx context.Context
	db  *DB
	tx  *sql.Tx
	st  map[string]*sql.Stmt
}

func (db *DB) txw(ctx context.Context, tx *sql.Tx) *txw {
	return &txw{ctx: ctx, db: db, tx: tx, st: map[string]*sql.Stmt{}}
}

func (w *txw) stmt(query string) (*sql.Stmt, error) {
	if p := w.st[query]; p != nil {
		return p, nil
	}
	p, err := w.db.wstmt(w.ctx, w.tx, query)
	if err != nil {
		return nil, err
	}
	w.st[query] = p
	return p, nil
}

func (w *txw) exec(query string, args ...any) (sql.Result, error) {
	p, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return p.ExecContext(w.ctx, args...)
}

func (w *txw) queryRow(query string, args ...any) *sql.Row {
	p, err := w.stmt(query)
	if err != nil {
		// A Row carrying err: QueryRowContext on a closed statement.
		return w.tx.QueryRowContext(w.ctx, query, args...)
	}
	return p.QueryRowContext(w.ctx, args...)
}

// insertTicket writes a new ticket's row, document and search rows.
func insertTicket(w *txw, rid int64, t *model.Ticket, idem, bodyHash, hist string) error {
	args := append([]any{rid, t.ID, t.CaseNo, idem}, rowValues(t)...)
	if _, err := w.exec(sqlInsertRow, args...); err != nil {
		return insertConflict(err, t)
	}
	if _, err := w.exec(sqlInsertDoc, rid, bodyHash, encodeTicket(t), hist); err != nil {
		return err
	}
	return indexText(w, rid, t)
}

// insertMany runs insert (an INSERT of one row) for each of rows, in
// turn. One row a statement: a statement of several rows keeps a
// statement journal of every page it changes (it may fail half-way) and
// makes FTS5 flush at its savepoint, which costs far more than the calls.
func insertMany(w *txw, insert string, rows [][]any) error {
	for _, r := range rows {
		if _, err := w.exec(insert, r...); err != nil {
			return err
		}
	}
	return nil
}

// insertConflict names what a unique constraint refused (t: the ticket,
// when one).
func insertConflict(err error, t *model.Ticket) error {
	e := translate(err)
	if !errors.Is(e, model.ErrConflict) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tickets.idem"):
		return model.Wrap(model.CodeConflict, err, "这次提交已经保存过（同一幂等键）")
	case strings.Contains(msg, "tickets.case_no") && t != nil:
		return model.Wrap(model.CodeConflict, err, fmt.Sprintf("案件编号 %s 已被占用", t.CaseNo))
	case strings.Contains(msg, "tickets.case_no"):
		return model.Wrap(model.CodeConflict, err, "案件编号已被占用")
	case strings.Contains(msg, "tickets.id") && t != nil:
		return model.Wrap(model.CodeConflict, err, fmt.Sprintf("工单 %s 已存在", t.ID))
	case strings.Contains(msg, "tickets.id"):
		return model.Wrap(model.CodeConflict, err, "工单已存在")
	}
	return e
}

// freeRID is the first free rid of the millisecond t was created in.
func freeRID(w *txw, at time.Time) (int64, error) {
	base := ridBase(at)
	var rid int64
	if err := w.queryRow(sqlFreeRID, base).Scan(&rid); err != nil {
		return 0, err
	}
	if rid >= base+1<<ridShift {
		return 0, model.Errorf(model.CodeUnavailable, "同一毫秒内创建的工单超过 %d 件，请稍后重试", 1<<ridShift)
	}
	return rid, nil
}

// caseDay is the China Standard Time date of an instant, YYYYMMDD.
func caseDay(t time.Time) string { return t.In(model.ChinaTime()).Format("20060102") }

// nextCaseNo takes the next case number of t's day.
func nextCaseNo(w *txw, t time.Time) (string, error) {
	day := caseDay(t)
	var n int64
	if err := w.queryRow(sqlCaseNext, day).Scan(&n); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%04d", day, n), nil
}

// parseCaseNo splits YYYYMMDD-NNNN.
func parseCaseNo(c string) (day string, n int64, ok bool) {
	day, num, found := strings.Cut(c, "-")
	if !found || len(day) != 8 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return day, n, err == nil && n > 0
}

// Load stores tickets whose history is already written, in one
// transaction: each counted by the statistics as of its version (version 0
// counts nothing), with no handoff. Tickets without a case number get the
// next of their day, in CreatedAt order (t.CaseNo is set); a given case
// number is kept and moves its day's counter past it. Errors: conflict (an
// id, idem or case number taken: nothing is stored), unavailable.
func (s *Tickets) Load(ctx context.Context, ts []*model.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ts[a].CreatedAt.Compare(ts[b].CreatedAt) })
	// Everything but the writes happens before the transaction: the
	// documents, the statistics, the search tokens.
	type row struct {
		t          model.Ticket
		doc        []byte
		hist       string
		gramTokens string
		rid        int64
	}
	rows := make([]row, len(order))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(rows)/500))
	parts := make([]sums, workers)
	var wg sync.WaitGroup
	for k := range workers {
		parts[k] = newSums()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := k; j < len(rows); j += workers {
				r := &rows[j]
				r.t = *ts[order[j]]
				if r.t.Version > 0 {
					r.hist = histRecord(r.t.Version, &r.t, nil)
					parts[k].add(model.Contribute(&r.t))
				}
				r.gramTokens = grams(r.t.Description, r.t.Address)
			}
		}()
	}
	wg.Wait()
	for _, c := range parts[1:] {
		parts[0].merge(c)
	}
	statRows := parts[0].contribution().Rows()
	s.db.warm(ctx, rollupStatements(statRows)...)
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		w := s.db.txw(ctx, tx)
		// A bulk load touches every index at random places: a writer's
		// page cache of 256 MB (used as it fills; the readers keep theirs)
		// keeps them in memory instead of re-reading pages.
		if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return err
		}
		// Case numbers: the days' counters read once, numbers given in
		// CreatedAt order, the counters written back once.
		last := map[string]int64{}
		counter := func(day string) (int64, error) {
			n, ok := last[day]
			if !ok {
				err := w.queryRow("SELECT last FROM case_days WHERE day = ?", day).Scan(&n)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return 0, err
				}
			}
			return n, nil
		}
		for j := range rows {
			if day, n, ok := parseCaseNo(rows[j].t.CaseNo); ok {
				cur, err := counter(day)
				if err != nil {
					return err
				}
				last[day] = max(cur, n)
			}
		}
		for j := range rows {
			r := &rows[j]
			if r.t.CaseNo == "" {
				day := caseDay(r.t.CreatedAt)
				n, err := counter(day)
				if err != nil {
					return err
				}
				last[day] = n + 1
				r.t.CaseNo = fmt.Sprintf("%s-%04d", day, n+1)
			}
			r.doc = encodeTicket(&r.t)
		}
		for day, n := range last {
			if _, err := w.exec(sqlCaseAtOrAbove, day, n); err != nil {
				return err
			}
		}
		// Rows and documents in creation order (appends to both tables);
		// the search rows last, together: a statement that opens a
		// savepoint in between would make FTS5 flush its pending terms,
		// one tiny segment per ticket.
		next := map[int64]int64{} // a millisecond's next free rid
		var tickets, docs, texts, toks [][]any
		for j := range rows {
			r := &rows[j]
			base := ridBase(r.t.CreatedAt)
			rid, ok := next[base]
			if !ok {
				var err error
				if rid, err = freeRID(w, r.t.CreatedAt); err != nil {
					return err
				}
			}
			if rid >= base+1<<ridShift {
				return model.Errorf(model.CodeUnavailable, "同一毫秒内创建的工单超过 %d 件", 1<<ridShift)
			}
			next[base], r.rid = rid+1, rid
			tickets = append(tickets, append([]any{rid, r.t.ID, r.t.CaseNo, "load:" + r.t.ID}, rowValues(&r.t)...))
			docs = append(docs, []any{rid, "", r.doc, r.hist})
			texts = append(texts, []any{rid, r.t.Description, r.t.Address})
			toks = append(toks, []any{rid, r.gramTokens})
		}
		if err := insertMany(w, sqlInsertRow, tickets); err != nil {
			return insertConflict(err, nil)
		}
		for _, batch := range []struct {
			sql  string
			rows [][]any
		}{{sqlInsertDoc, docs}, {sqlTextInsert, texts}, {sqlGramsInsert, toks}} {
			if err := insertMany(w, batch.sql, batch.rows); err != nil {
				return err
			}
		}
		if len(statRows) == 0 {
			return nil
		}
		return addRollups(w, statRows, s.db.now())
	})
	if err != nil {
		return fmt.Errorf("load tickets: %w", err)
	}
	for j, i := range order {
		ts[i].CaseNo = rows[j].t.CaseNo
	}
	return nil
}

// msgCommitConflict is what a commit on a stale version answers.
const msgCommitConflict = "工单刚被修改；请刷新后重试"

// Commit writes after as version before.Version+1 if the stored ticket is
// still at before.Version, with its statistics' delta
// (model.StatsDelta(before, after)), its handoff (From: the smallest
// unrelayed timeline index) and its history entry, in one transaction. It
// sets after.Version. Errors: conflict (the ticket changed since before),
// not_found, unavailable (a full disk: nothing is written).
func (s *Tickets) Commit(ctx context.Context, before, after *model.Ticket) error {
	next := before.Version + 1
	a := *after
	a.ID, a.Version, a.CaseNo = before.ID, next, before.CaseNo
	if a.CaseNo == "" {
		a.CaseNo = after.CaseNo
	}
	delta := model.StatsDelta(before, &a).Rows()
	s.db.warm(ctx, rollupStatements(delta)...)
	doc := encodeTicket(&a)
	hist := histRecord(next, &a, before)
	textChanged := before.Description != a.Description || before.Address != a.Address
	now := s.db.now()
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		w := s.db.txw(ctx, tx)
		var rid int64
		args := append(rowValues(&a), before.ID, before.Version)
		err := w.queryRow(sqlCommitRow, args...).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			if err := tx.QueryRowContext(ctx, "SELECT 1 FROM tickets WHERE id = ?", before.ID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return model.Errorf(model.CodeNotFound, "工单 %s 不存在", before.ID)
			} else if err != nil {
				return err
			}
			return model.Errorf(model.CodeConflict, msgCommitConflict)
		}
		if err != nil {
			return err
		}
		if _, err := w.exec(sqlCommitDoc, doc, hist, rid); err != nil {
			return err
		}
		if textChanged {
			if err := unindexText(w, rid); err != nil {
				return err
			}
			if err := indexText(w, rid, &a); err != nil {
				return err
			}
		}
		if err := addRollups(w, delta, now); err != nil {
			return err
		}
		_, err = w.exec(sqlHandoff, before.ID, next, len(before.Timeline), s.instance, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("commit ticket %s: %w", before.ID, err)
	}
	after.Version = next
	if after.CaseNo == "" {
		after.CaseNo = a.CaseNo
	}
	return nil
}

// histRecord is one version's history entry as ticket_docs.hist keeps
// them: "version:events:assignee:role;", the assignee and role written as
// "=" when they are those of the version before (before, when given,
// being that version).
func histRecord(version int64, t, before *model.Ticket) string {
	assignee, role := histEscape(t.AssigneeID), histEscape(string(t.AssigneeRole))
	if before != nil && before.Version >= 1 && before.Version == version-1 {
		if t.AssigneeID == before.AssigneeID {
			assignee = "="
		}
		if t.AssigneeRole == before.AssigneeRole {
			role = "="
		}
	}
	return strconv.FormatInt(version, 10) + ":" + strconv.Itoa(len(t.Timeline)) + ":" + assignee + ":" + role + ";"
}

var (
	histEscaper   = strings.NewReplacer("%", "%25", ":", "%3A", ";", "%3B", "=", "%3D")
	histUnescaper = strings.NewReplacer("%3D", "=", "%3B", ";", "%3A", ":", "%25", "%")
)

func histEscape(s string) string {
	if strings.ContainsAny(s, "%:;=") {
		return histEscaper.Replace(s)
	}
	return s
}

// parseHist reads ticket_docs.hist.
func parseHist(h string) []model.TicketVersion {
	var out []model.TicketVersion
	for rec := range strings.SplitSeq(h, ";") {
		f := strings.Split(rec, ":")
		if len(f) != 4 {
			continue
		}
		v, err1 := strconv.ParseInt(f[0], 10, 64)
		n, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		e := model.TicketVersion{Version: v, Events: n}
		prev := model.TicketVersion{}
		if len(out) > 0 && out[len(out)-1].Version == v-1 {
			prev = out[len(out)-1]
		}
		if f[2] == "=" {
			e.AssigneeID = prev.AssigneeID
		} else {
			e.AssigneeID = histUnescaper.Replace(f[2])
		}
		if f[3] == "=" {
			e.AssigneeRole = prev.AssigneeRole
		} else {
			e.AssigneeRole = model.Role(histUnescaper.Replace(f[3]))
		}
		out = append(out, e)
	}
	return out
}

const sqlDocByID = "SELECT d.doc FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.id = ?"

// Get returns a ticket by id. Errors: not_found, unavailable.
func (s *Tickets) Get(ctx context.Context, id string) (*model.Ticket, error) {
	t, err := s.one(ctx, sqlDocByID, id)
	if err != nil {
		return nil, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return t, nil
}

// GetByCaseNo returns a ticket by its case number. Errors: not_found,
// unavailable.
func (s *Tickets) GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error) {
	t, err := s.one(ctx, "SELECT d.doc FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.case_no = ?", caseNo)
	if err != nil {
		return nil, fmt.Errorf("get ticket %s: %w", caseNo, err)
	}
	return t, nil
}

func (s *Tickets) one(ctx context.Context, query string, arg any) (*model.Ticket, error) {
	var doc []byte
	if err := s.db.queryRow(ctx, query, arg).Scan(&doc); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, model.Wrap(model.CodeNotFound, err, fmt.Sprintf("工单 %v 不存在", arg))
		}
		return nil, translate(err)
	}
	return decodeDoc(doc)
}

func decodeDoc(doc []byte) (*model.Ticket, error) {
	t, err := decodeTicket(doc)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "工单数据无法读取")
	}
	return t, nil
}

// ByIdem returns the ticket a submission created and its body digest.
// Errors: not_found, unavailable.
func (s *Tickets) ByIdem(ctx context.Context, idem string) (*model.Ticket, string, error) {
	var doc []byte
	var hash string
	err := s.db.queryRow(ctx, "SELECT d.doc, d.body_hash FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.idem = ?", idem).Scan(&doc, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", model.Wrap(model.CodeNotFound, err, "没有这次提交的工单")
	}
	if err != nil {
		return nil, "", fmt.Errorf("find ticket by idempotency key: %w", translate(err))
	}
	t, err := decodeDoc(doc)
	return t, hash, err
}

// History returns, per committed version 1..version, the timeline's length
// and the assignee after it; versions not recorded (before a Load) are
// left out. Errors: not_found, unavailable.
func (s *Tickets) History(ctx context.Context, id string, version int64) ([]model.TicketVersion, error) {
	var hist string
	err := s.db.queryRow(ctx, "SELECT d.hist FROM tickets t JOIN ticket_docs d ON d.rid = t.rid WHERE t.id = ?", id).Scan(&hist)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, model.Wrap(model.CodeNotFound, err, fmt.Sprintf("工单 %s 不存在", id))
	}
	if err != nil {
		return nil, fmt.Errorf("ticket history: %w", translate(err))
	}
	out := parseHist(hist)
	for i, e := range out {
		if e.Version > version {
			return out[:i], nil
		}
	}
	return out, nil
}

// stmtCache keeps the writer connection's prepared statements: a commit
// runs the same few statements, and preparing one costs as much as running
// it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// wstmt is query bound to tx: the writer's prepared statement if warm
// prepared it, else prepared in tx (and closed with it).
func (db *DB) wstmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	db.ws.mu.Lock()
	p := db.ws.m[query]
	db.ws.mu.Unlock()
	if p == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, p), nil
}

// warm prepares on the writer the statements a change runs (and extra
// ones: a delta's roll-up upserts), so that its transaction does not
// prepare them. It must be called outside a transaction, and prepares
// without holding the cache's lock: the writer has one connection, which a
// transaction holds while it reads the cache. On failure the statements
// are prepared in the transaction instead.
func (db *DB) warm(ctx context.Context, extra ...string) {
	db.ws.mu.Lock()
	var missing []string
	if db.ws.m == nil {
		db.ws.m = map[string]*sql.Stmt{}
	}
	for _, q := range slices.Concat(writeStatements, extra) {
		if db.ws.m[q] == nil && !slices.Contains(missing, q) {
			missing = append(missing, q)
		}
	}
	db.ws.mu.Unlock()
	for _, q := range missing {
		p, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return
		}
		db.ws.mu.Lock()
		if db.ws.m[q] == nil {
			db.ws.m[q] = p
			p = nil
		}
		db.ws.mu.Unlock()
		if p != nil { // another warm was first
			p.Close()
		}
	}
}

// writeStatements are the statements warm prepares.
var writeStatements = []string{sqlInsertRow, sqlInsertDoc, sqlFreeRID, sqlCaseNext, sqlCaseAtOrAbove, sqlHandoff,
	sqlCommitRow, sqlCommitDoc, sqlStatsAt, sqlTextInsert, sqlGramsInsert}

// As is the same store as seen by another instance: the handoffs it
// records name instance as their owner.
func (s *Tickets) As(instance string) *Tickets {
	c := *s
	c.instance = instance
	return &c
}
