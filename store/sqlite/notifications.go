package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// notificationSending is the status of a notification whose send has
// begun and has no recorded outcome yet (in flight, or its worker died).
const notificationSending = "sending"

// Notifications records each logical notification once, keyed by the
// notifier's job key: the record makes a job delivered twice send at most
// one message, and keeps the outcome for support questions.
type Notifications struct{ db *DB }

// Notifications returns the notification log.
func (db *DB) Notifications() *Notifications { return &Notifications{db: db} }

// Begin records that the notification key is being sent to userID with
// templateID, and reports whether this is the first attempt: false means a
// record exists (another delivery got there first, or an earlier attempt
// ended). Errors: unavailable.
func (s *Notifications) Begin(ctx context.Context, key, userID, templateID string) (bool, error) {
	first := false
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications (key, status, user_id, template_id, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, key, notificationSending, userID, templateID, msOf(s.db.clockMs()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("begin notification: %w", err)
	}
	return first, nil
}

// Finish records the outcome of the notification key (e.g. "sent").
// Errors: not_found (no record of key), unavailable.
func (s *Notifications) Finish(ctx context.Context, key, outcome string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE notifications SET status = ?, finished_at = ? WHERE key = ?", outcome, msOf(s.db.clockMs()), key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return missing("没有通知 %s", key)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("finish notification: %w", err)
	}
	return nil
}

// Forget removes the record of an attempt that ended without an outcome,
// so that a retry of the job may send it. A record with an outcome stays:
// forgetting it could send the message twice. Errors: unavailable.
func (s *Notifications) Forget(ctx context.Context, key string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM notifications WHERE key = ? AND status = ?", key, notificationSending)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget notification: %w", err)
	}
	return nil
}

// Status returns the status of the notification key: "sending" while in
// flight (or when its worker died mid-send), else the outcome passed to
// Finish. Errors: not_found, unavailable.
func (s *Notifications) Status(ctx context.Context, key string) (string, error) {
	var st string
	err := s.db.r.QueryRowContext(ctx, "SELECT status FROM notifications WHERE key = ?", key).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", missing("没有通知 %s", key)
	}
	if err != nil {
		return "", fmt.Errorf("notification: %w", translate(err))
	}
	return st, nil
}

// Prune deletes the records begun before cutoff and returns how many.
// Errors: unavailable.
func (s *Notifications) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, sqlPruneNotifications, msOf(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	return int(n), nil
}

const sqlPruneNotifications = "DELETE FROM notifications WHERE at < ?"
