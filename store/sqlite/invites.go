package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizen-city/chengguantong/model"
)

// Invites stores single-use invite codes, keyed by a digest of the code so
// that a copy of the database hands out no working code.
type Invites struct{ db *DB }

// Invites returns the invite store.
func (db *DB) Invites() *Invites { return &Invites{db: db} }

// Create stores an invite under codeHash. Errors: conflict (the digest is
// taken), unavailable.
func (s *Invites) Create(ctx context.Context, codeHash string, inv model.Invite) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO invites (code_hash, role, profile_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			codeHash, string(inv.Role), inv.ProfileID, msOf(inv.ExpiresAt), msOf(s.db.clockMs()))
		return err
	})
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	return nil
}

// Redeem marks the invite used by userID and returns it. Redeeming again
// by the same user returns the same invite (so that a retried bind
// completes); an unknown, expired, revoked or someone else's invite is
// not_found. The check and the mark are one transaction, so of users
// racing for one code exactly one wins. Errors: not_found, unavailable.
func (s *Invites) Redeem(ctx context.Context, codeHash, userID string) (*model.Invite, error) {
	var inv *model.Invite
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		now := s.db.clockMs()
		var (
			role, profile, usedBy string
			expires               int64
			usedAt                sql.NullInt64
			revoked               bool
		)
		err := tx.QueryRowContext(ctx, `SELECT role, profile_id, expires_at, used_by, used_at, revoked FROM invites WHERE code_hash = ?`, codeHash).
			Scan(&role, &profile, &expires, &usedBy, &usedAt, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("邀请码无效，请核对后重试")
		}
		if err != nil {
			return err
		}
		if revoked && usedBy != userID {
			return missing("邀请码已作废：已为这份档案发了新的邀请码，或档案已停用")
		}
		if timeOfMs(expires).Compare(now) <= 0 && usedBy != userID {
			return missing("邀请码已过期")
		}
		switch usedBy {
		case userID:
		case "":
			if _, err := tx.ExecContext(ctx, `UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ?`, userID, msOf(now), codeHash); err != nil {
				return err
			}
			usedAt = msOrNull(now)
		default:
			return missing("邀请码已被使用")
		}
		inv = &model.Invite{Role: model.Role(role), ProfileID: profile, ExpiresAt: timeOfMs(expires), UsedBy: userID, UsedAt: timeOfNullMs(usedAt)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redeem invite: %w", err)
	}
	return inv, nil
}

// RevokeUnused makes every unused invite of a profile stop working: they
// expire now. An invite made afterwards is the profile's only one.
// Errors: unavailable.
func (s *Invites) RevokeUnused(ctx context.Context, role model.Role, profileID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE invites SET expires_at = min(expires_at, ?), revoked = 1
			WHERE profile_id = ? AND role = ? AND used_by = ''`, msOf(s.db.clockMs()), profileID, string(role))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke invites: %w", err)
	}
	return nil
}
