package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Subscriptions counts the one-time subscribe-message allowances each
// user granted per template: one grant, one message.
type Subscriptions struct{ db *DB }

// Subscriptions returns the allowance store.
func (db *DB) Subscriptions() *Subscriptions { return &Subscriptions{db: db} }

// Grant adds one allowance of each template, in one transaction. Errors:
// unavailable.
func (s *Subscriptions) Grant(ctx context.Context, userID string, templateIDs []string) error {
	if len(templateIDs) == 0 {
		return nil
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		now := msOf(s.db.clockMs())
		for _, t := range templateIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (user_id, template_id, remaining, updated_at) VALUES (?, ?, 1, ?)
				ON CONFLICT (user_id, template_id) DO UPDATE SET remaining = remaining + 1, updated_at = excluded.updated_at`,
				userID, t, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("grant subscription: %w", err)
	}
	return nil
}

// Consume takes one allowance and reports whether there was one. Errors:
// unavailable.
func (s *Subscriptions) Consume(ctx context.Context, userID, templateID string) (bool, error) {
	// Most users have none left most of the time: look before writing.
	n, err := s.Remaining(ctx, userID, templateID)
	if err != nil || n == 0 {
		return false, err
	}
	took := false
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET remaining = remaining - 1, updated_at = ?
			WHERE user_id = ? AND template_id = ? AND remaining > 0`, msOf(s.db.clockMs()), userID, templateID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		took = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("consume subscription: %w", err)
	}
	return took, nil
}

// Refund gives back an allowance consumed for a message that was not
// sent. Errors: unavailable.
func (s *Subscriptions) Refund(ctx context.Context, userID, templateID string) error {
	return s.Grant(ctx, userID, []string{templateID})
}

// Clear drops every allowance of a template (WeChat said there is none).
// Errors: unavailable.
func (s *Subscriptions) Clear(ctx context.Context, userID, templateID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE subscriptions SET remaining = 0, updated_at = ? WHERE user_id = ? AND template_id = ?",
			msOf(s.db.clockMs()), userID, templateID)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear subscription: %w", err)
	}
	return nil
}

// Remaining returns the allowances left. Errors: unavailable.
func (s *Subscriptions) Remaining(ctx context.Context, userID, templateID string) (int, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, "SELECT remaining FROM subscriptions WHERE user_id = ? AND template_id = ?", userID, templateID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("subscription: %w", translate(err))
	}
	return n, nil
}
