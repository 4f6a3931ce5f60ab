package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/citizen-city/chengguantong/model"
)

// Users stores WeChat users (one per openid) and staff accounts (one per
// username).
type Users struct{ db *DB }

// Users returns the account store.
func (db *DB) Users() *Users { return &Users{db: db} }

const userColumns = "id, openid, roles, worker_id, party_member_id, on_duty, created_at, sessions"

// scannable is what *sql.Row and *sql.Rows have in common.
type scannable interface{ Scan(dest ...any) error }

func scanUser(r scannable) (*model.User, error) {
	var (
		u     = &model.User{Kind: model.KindWeChat}
		roles string
		at    int64
	)
	if err := r.Scan(&u.ID, &u.OpenID, &roles, &u.WorkerID, &u.PartyMemberID, &u.OnDuty, &at, &u.Sessions); err != nil {
		return nil, err
	}
	rs, err := stringsOfJSON[model.Role](roles)
	if err != nil {
		return nil, err
	}
	u.Roles, u.CreatedAt = rs, timeOfMs(at)
	return u, nil
}

// UpsertWeChat returns the user of openid, creating them as a resident on
// first login. Concurrent first logins of one person converge on one user:
// the insert is conditional on the unique openid and the writes are
// serialised. Errors: unavailable.
func (s *Users) UpsertWeChat(ctx context.Context, openID string) (*model.User, error) {
	// A returning user (nearly every login) costs a read, not a write.
	u, err := scanUser(s.db.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE openid = ?", openID))
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("upsert user: %w", translate(err))
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		now := s.db.clockMs()
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO users (id, openid, roles, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (openid) DO NOTHING`,
			model.NewID(now), openID, jsonStrings([]model.Role{model.RoleResident}), msOf(now)); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE openid = ?", openID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert user: %w", err)
	}
	return u, nil
}

// Get returns a WeChat user by id. Errors: not_found.
func (s *Users) Get(ctx context.Context, id string) (*model.User, error) {
	u, err := scanUser(s.db.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有用户 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", translate(err))
	}
	return u, nil
}

// change applies fn to a user in one write and returns the user after it.
// Errors: not_found, unavailable.
func (s *Users) change(ctx context.Context, what, id string, fn func(u *model.User)) (*model.User, error) {
	var u *model.User
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有用户 %s", id)
		}
		if err != nil {
			return err
		}
		fn(u)
		_, err = tx.ExecContext(ctx, `UPDATE users SET roles = ?, worker_id = ?, party_member_id = ?, on_duty = ? WHERE id = ?`,
			jsonStrings(u.Roles), u.WorkerID, u.PartyMemberID, u.OnDuty, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// Bind grants a user the role of a worker or party-member profile and
// links the profile; it is idempotent. Errors: invalid_argument (a role no
// invite grants), not_found, unavailable.
func (s *Users) Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error) {
	if role != model.RoleGridWorker && role != model.RolePartyMember {
		return nil, model.Errorf(model.CodeInvalidArgument, "身份 %s 不能通过邀请码绑定", role)
	}
	return s.change(ctx, "bind user", userID, func(u *model.User) {
		if role == model.RoleGridWorker {
			u.WorkerID = profileID
		} else {
			u.PartyMemberID = profileID
		}
		if !u.Has(role) {
			u.Roles = append(u.Roles, role)
		}
	})
}

// Unbind takes a role a bound profile granted away from a user (the
// profile was deactivated); the link stays, so Bind gives it back.
// Errors: not_found, unavailable.
func (s *Users) Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error) {
	return s.change(ctx, "unbind user", userID, func(u *model.User) {
		u.Roles = slices.DeleteFunc(u.Roles, func(r model.Role) bool { return r == role })
	})
}

// SetDuty sets whether a user is on duty. Errors: not_found, unavailable.
func (s *Users) SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error) {
	return s.change(ctx, "set duty", userID, func(u *model.User) { u.OnDuty = onDuty })
}

// OnDuty returns those of ids whose user is on duty, in the order given;
// unknown ids are left out. Errors: unavailable.
func (s *Users) OnDuty(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.query(ctx,
		"SELECT id FROM users WHERE id IN ("+qmarks(len(ids))+") AND on_duty = 1", argsOf(ids)...)
	if err != nil {
		return nil, fmt.Errorf("on-duty users: %w", translate(err))
	}
	defer rows.Close()
	on := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("on-duty users: %w", translate(err))
		}
		on[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("on-duty users: %w", translate(err))
	}
	var out []string
	for _, id := range ids {
		if on[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// staffColumns are the columns scanStaff reads.
const staffColumns = "id, username, password_hash, created_at, name, roles, disabled, sessions"

func scanStaff(r scannable) (*model.User, []byte, error) {
	var (
		u     = &model.User{Kind: model.KindStaff}
		hash  []byte
		at    int64
		roles string
	)
	if err := r.Scan(&u.ID, &u.Username, &hash, &at, &u.Name, &roles, &u.Disabled, &u.Sessions); err != nil {
		return nil, nil, err
	}
	rs, err := stringsOfJSON[model.Role](roles)
	if err != nil {
		return nil, nil, err
	}
	u.Roles, u.CreatedAt = rs, timeOfMs(at)
	if !u.Has(model.RoleStaff) {
		u.Roles = append([]model.Role{model.RoleStaff}, u.Roles...)
	}
	return u, hash, nil
}

// GetStaff returns a staff account by id. Errors: not_found, unavailable.
func (s *Users) GetStaff(ctx context.Context, id string) (*model.User, error) {
	u, _, err := scanStaff(s.db.queryRow(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有员工账号 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get staff: %w", translate(err))
	}
	return u, nil
}

// StaffCredentials returns a staff account and its bcrypt hash by
// username. Errors: not_found, unavailable.
func (s *Users) StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error) {
	u, hash, err := scanStaff(s.db.queryRow(ctx, "SELECT "+staffColumns+" FROM staff WHERE username = ?", username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, missing("没有员工账号 %s", username)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get staff: %w", translate(err))
	}
	return u, hash, nil
}

// UpsertStaff creates the account or sets its password hash. Errors:
// unavailable (a full disk among them).
func (s *Users) UpsertStaff(ctx context.Context, username string, hash []byte) (*model.User, error) {
	// The start-up's "ensure admin" sets the hash it already has: a read,
	// so that a server on a full disk still starts.
	u, old, err := s.StaffCredentials(ctx, username)
	if err == nil && bytes.Equal(old, hash) {
		return u, nil
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		now := s.db.clockMs()
		var err error
		u, _, err = scanStaff(tx.QueryRowContext(ctx,
			`INSERT INTO staff (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash
			 RETURNING `+staffColumns,
			model.NewID(now), username, hash, msOf(now)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert staff: %w", err)
	}
	return u, nil
}

// StaffExists reports whether the account exists. Errors: unavailable.
func (s *Users) StaffExists(ctx context.Context, username string) (bool, error) {
	var n int
	if err := s.db.queryRow(ctx, "SELECT count(*) FROM staff WHERE username = ?", username).Scan(&n); err != nil {
		return false, fmt.Errorf("count staff: %w", translate(err))
	}
	return n > 0, nil
}
