package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Privacy rewrites personal data: tickets anonymised in place (no
// statistics, no handoff), a resident's account deleted, the erasures
// still to do.
type Privacy struct{ db *DB }

// Privacy returns the store's privacy operations.
func (db *DB) Privacy() *Privacy { return &Privacy{db: db} }

// msgNotScreened is what an anonymisation of a report still being screened
// answers: it counts nothing yet, and a version without a transition would
// make it count.
const msgNotScreened = "这条上报还在审核中，审核完成后再匿名化"

// Anonymise writes scrub(before) as the next version of before,
// conditioned on before.Version, without a statistics delta or a handoff:
// the row's reporter and version, the document, the search rows; complete
// marks it done for Expired. The idempotency digest and the body digest go
// too (both derive from what the resident sent). Errors: invalid_argument
// (a counted fact differs), conflict, not_found, unavailable.
func (s *Privacy) Anonymise(ctx context.Context, before *model.Ticket, scrub func(*model.Ticket), complete bool) (*model.Ticket, error) {
	if before.Version == 0 {
		return nil, model.Errorf(model.CodeConflict, msgNotScreened)
	}
	a := before.Clone()
	scrub(a)
	if !model.CountedSame(before, a) {
		return nil, model.Errorf(model.CodeInvalidArgument, "匿名化只能改动个人信息，不能改动统计所计的内容")
	}
	next := before.Version + 1
	a.Version, a.CaseNo = next, before.CaseNo
	doc := encodeTicket(a)
	hist := histRecord(next, a, before)
	textChanged := before.Description != a.Description || before.Address != a.Address
	var anon int64
	if complete {
		anon = s.db.now().UnixMilli()
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		w := s.db.txw(ctx, tx)
		var rid int64
		err := tx.QueryRowContext(ctx, `UPDATE tickets SET version = ?, reporter_id = ?, idem = 'x:' || id,
			anon = CASE WHEN ? > 0 THEN ? ELSE anon END WHERE id = ? AND version = ? RETURNING rid`,
			next, a.ReporterID, anon, anon, before.ID, before.Version).Scan(&rid)
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
		if _, err := tx.ExecContext(ctx, "UPDATE ticket_docs SET doc = ?, body_hash = '', hist = hist || ? WHERE rid = ?", doc, hist, rid); err != nil {
			return err
		}
		if textChanged {
			if err := unindexText(w, rid); err != nil {
				return err
			}
			return indexText(w, rid, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("anonymise ticket %s: %w", before.ID, err)
	}
	return a, nil
}

// Expired returns final tickets unchanged since before and not anonymised,
// longest unchanged first (the partial index tickets_retention). Errors:
// unavailable.
func (s *Privacy) Expired(ctx context.Context, before time.Time, limit int) ([]string, error) {
	rows, err := s.db.r.QueryContext(ctx, sqlExpired, before.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("expired tickets: %w", translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("expired tickets: %w", translate(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expired tickets: %w", translate(err))
	}
	return out, nil
}

const sqlExpired = `SELECT id FROM tickets INDEXED BY tickets_retention WHERE anon = 0 AND status IN ('closed', 'rejected', 'merged') AND updated_at < ?
	ORDER BY updated_at LIMIT ?`

// DeleteResident removes a WeChat user, their allowances and the records
// of the messages sent to them, in one transaction. Errors: not_found,
// unavailable.
func (s *Privacy) DeleteResident(ctx context.Context, userID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return missing("没有用户 %s", userID)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM subscriptions WHERE user_id = ?", userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM notifications WHERE user_id = ?", userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete resident: %w", err)
	}
	return nil
}

// DeleteSubmitter removes an Open311 ticket's submitter. Errors:
// unavailable.
func (s *Privacy) DeleteSubmitter(ctx context.Context, ticketID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM open311_submitters WHERE ticket_id = ?", ticketID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete open311 submitter: %w", err)
	}
	return nil
}

// QueueErasure records an erasure still to do (once). Errors: unavailable.
func (s *Privacy) QueueErasure(ctx context.Context, e model.Erasure) error {
	if e.At.IsZero() {
		e.At = s.db.now()
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO erasures (ticket_id, user_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			e.TicketID, e.UserID, msOf(e.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("queue erasure: %w", err)
	}
	return nil
}

// Erasures lists up to limit erasures still to do, oldest first. Errors:
// unavailable.
func (s *Privacy) Erasures(ctx context.Context, limit int) ([]model.Erasure, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT ticket_id, user_id, at FROM erasures ORDER BY at LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("erasures: %w", translate(err))
	}
	defer rows.Close()
	var out []model.Erasure
	for rows.Next() {
		var e model.Erasure
		var at int64
		if err := rows.Scan(&e.TicketID, &e.UserID, &at); err != nil {
			return nil, fmt.Errorf("erasures: %w", translate(err))
		}
		e.At = timeOfMs(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("erasures: %w", translate(err))
	}
	return out, nil
}

// ErasureDone removes an erasure from the list. Errors: unavailable.
func (s *Privacy) ErasureDone(ctx context.Context, e model.Erasure) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM erasures WHERE ticket_id = ? AND user_id = ?", e.TicketID, e.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("erasure done: %w", err)
	}
	return nil
}
