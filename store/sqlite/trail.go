package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Trail is the access trail (the audit table): appended, listed newest
// first by actor, action or target within a time range, pruned past its
// retention period. Its rowid is the entry's time (see the migration), so
// every list is an index range read newest first.
type Trail struct{ db *DB }

// Trail returns the access trail.
func (db *DB) Trail() *Trail { return &Trail{db: db} }

const (
	sqlAuditFreeRID = "SELECT coalesce(max(rid) + 1, ?1) FROM audit WHERE rid BETWEEN ?1 AND ?1 + 4095"
	sqlAuditInsert  = "INSERT INTO audit (rid, at, actor_id, actor_name, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

// Append records e and sets its ID. Errors: unavailable.
func (s *Trail) Append(ctx context.Context, e *model.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.db.now()
	}
	var rid int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		base := ridBase(e.At)
		if err := tx.QueryRowContext(ctx, sqlAuditFreeRID, base).Scan(&rid); err != nil {
			return err
		}
		if rid >= base+1<<ridShift {
			return model.Errorf(model.CodeUnavailable, "同一毫秒内的记录过多，请稍后重试")
		}
		_, err := tx.ExecContext(ctx, sqlAuditInsert, rid, msOf(e.At), e.ActorID, e.ActorName, string(e.Action), e.Target, e.Detail, e.IP)
		return err
	})
	if err != nil {
		return fmt.Errorf("append to the access trail: %w", err)
	}
	e.ID = strconv.FormatInt(rid, 10)
	return nil
}

// auditQuery is the statement and arguments of a page of q: the equality
// filters, and always a rowid range, so that no shape scans the table.
func auditQuery(q model.AuditQuery, before int64, limit int) (string, []any) {
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{{"actor_id", q.ActorID}, {"action", string(q.Action)}, {"target", q.Target}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	hi := int64(math.MaxInt64)
	if !q.To.IsZero() {
		hi = ridFloor(q.To)
	}
	hi = min(hi, before)
	where = append(where, "rid < ?")
	args = append(args, hi)
	if !q.From.IsZero() {
		where = append(where, "rid >= ?")
		args = append(args, ridFloor(q.From))
	}
	return "SELECT rid, at, actor_id, actor_name, action, target, detail, ip FROM audit WHERE " +
		strings.Join(where, " AND ") + " ORDER BY rid DESC LIMIT " + strconv.Itoa(limit+1), args
}

// List returns a page of the entries matching q, newest first. Errors:
// invalid_argument (cursor), unavailable.
func (s *Trail) List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error) {
	before := int64(math.MaxInt64)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", model.Invalid("cursor", "不是本服务给出的游标")
		}
		before = n
	}
	query, args := auditQuery(q, before, limit)
	rows, err := s.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list the access trail: %w", translate(err))
	}
	defer rows.Close()
	var out []model.AuditEntry
	for rows.Next() {
		var (
			e      model.AuditEntry
			rid    int64
			at     int64
			action string
		)
		if err := rows.Scan(&rid, &at, &e.ActorID, &e.ActorName, &action, &e.Target, &e.Detail, &e.IP); err != nil {
			return nil, "", fmt.Errorf("list the access trail: %w", translate(err))
		}
		e.ID, e.At, e.Action = strconv.FormatInt(rid, 10), timeOfMs(at), model.AuditAction(action)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list the access trail: %w", translate(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Prune removes up to limit entries older than before. Errors:
// unavailable.
func (s *Trail) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM audit WHERE rid IN (SELECT rid FROM audit WHERE rid < ? ORDER BY rid LIMIT ?)",
			ridFloor(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune the access trail: %w", err)
	}
	return int(n), nil
}
