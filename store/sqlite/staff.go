package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizen-city/chengguantong/model"
)

// Staff keeps the staff's accounts (the staff table, which Users reads at
// login): names, roles, disabled, session versions.
type Staff struct{ db *DB }

// Staff returns the staff account store.
func (db *DB) Staff() *Staff { return &Staff{db: db} }

// Create stores a new account. Errors: conflict (username taken),
// unavailable.
func (s *Staff) Create(ctx context.Context, u *model.User, hash []byte) (*model.User, error) {
	var out *model.User
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		now := s.db.clockMs()
		var err error
		out, _, err = scanStaff(tx.QueryRowContext(ctx,
			`INSERT INTO staff (id, username, password_hash, created_at, name, roles) VALUES (?, ?, ?, ?, ?, ?)
			 RETURNING `+staffColumns,
			model.NewID(now), u.Username, hash, msOf(now), u.Name, jsonStrings(u.Roles)))
		return err
	})
	if errors.Is(err, model.ErrConflict) {
		return nil, model.Wrap(model.CodeConflict, err, fmt.Sprintf("用户名 %s 已被使用", u.Username))
	}
	if err != nil {
		return nil, fmt.Errorf("create staff: %w", err)
	}
	return out, nil
}

// List returns every staff account by username. Errors: unavailable.
func (s *Staff) List(ctx context.Context) ([]*model.User, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", translate(err))
	}
	defer rows.Close()
	var out []*model.User
	for rows.Next() {
		u, _, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("list staff: %w", translate(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff: %w", translate(err))
	}
	return out, nil
}

// Update changes the name, the roles and disabled, each when given;
// disabling raises the session version. Errors: not_found, unavailable.
func (s *Staff) Update(ctx context.Context, id string, name *string, roles []model.Role, disabled *bool) (*model.User, error) {
	var out *model.User
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		u, _, err := scanStaff(tx.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有工作人员账号 %s", id)
		}
		if err != nil {
			return err
		}
		if name != nil {
			u.Name = *name
		}
		if roles != nil {
			u.Roles = roles
		}
		if disabled != nil {
			if *disabled && !u.Disabled {
				u.Sessions++
			}
			u.Disabled = *disabled
		}
		out, _, err = scanStaff(tx.QueryRowContext(ctx,
			"UPDATE staff SET name = ?, roles = ?, disabled = ?, sessions = ? WHERE id = ? RETURNING "+staffColumns,
			u.Name, jsonStrings(u.Roles), u.Disabled, u.Sessions, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update staff: %w", err)
	}
	return out, nil
}

// SetPassword sets the hash (and the configured password's, when seed is
// given) and raises the session version. Errors: not_found, unavailable.
func (s *Staff) SetPassword(ctx context.Context, id string, hash, seed []byte) (*model.User, error) {
	var out *model.User
	var seedArg any // NULL keeps the one recorded
	if seed != nil {
		seedArg = seed
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, _, err = scanStaff(tx.QueryRowContext(ctx,
			`UPDATE staff SET password_hash = ?, seed_hash = coalesce(?, seed_hash), sessions = sessions + 1 WHERE id = ?
			 RETURNING `+staffColumns, hash, seedArg, id))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有工作人员账号 %s", id)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set staff password: %w", err)
	}
	return out, nil
}

// Seed returns the configured password's hash last applied (nil if none).
// Errors: not_found, unavailable.
func (s *Staff) Seed(ctx context.Context, id string) ([]byte, error) {
	var seed []byte
	err := s.db.r.QueryRowContext(ctx, "SELECT seed_hash FROM staff WHERE id = ?", id).Scan(&seed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有工作人员账号 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("staff seed: %w", translate(err))
	}
	return seed, nil
}

// EndSessions raises the session version of an account. Errors: not_found,
// unavailable.
func (s *Staff) EndSessions(ctx context.Context, kind model.UserKind, id string) (int64, error) {
	table := "users"
	if kind == model.KindStaff {
		table = "staff"
	}
	var v int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "UPDATE "+table+" SET sessions = sessions + 1 WHERE id = ? RETURNING sessions", id).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有账号 %s", id)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return v, nil
}
