package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Activities stores party members' volunteer activities and their
// check-ins, one per member and activity.
type Activities struct{ db *DB }

// Activities returns the activity store.
func (db *DB) Activities() *Activities { return &Activities{db: db} }

// Create stores a new activity and returns it with its id and creation
// time. Times are kept in UTC to the millisecond. Errors: unavailable.
func (s *Activities) Create(ctx context.Context, a model.Activity) (*model.Activity, error) {
	now := s.db.clockMs()
	a.ID, a.CreatedAt = model.NewID(now), now
	a.StartsAt, a.EndsAt = a.StartsAt.UTC().Truncate(time.Millisecond), a.EndsAt.UTC().Truncate(time.Millisecond)
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO activities (id, title, kind, community, starts_at, ends_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Title, string(a.Kind), a.Community, msOf(a.StartsAt), msOf(a.EndsAt), a.CreatedBy, msOf(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create activity: %w", err)
	}
	return &a, nil
}

// Get returns an activity by id. Errors: not_found, unavailable.
func (s *Activities) Get(ctx context.Context, id string) (*model.Activity, error) {
	var (
		a                      model.Activity
		kind                   string
		starts, ends, creation int64
	)
	err := s.db.r.QueryRowContext(ctx, `SELECT id, title, kind, community, starts_at, ends_at, created_by, created_at FROM activities WHERE id = ?`, id).
		Scan(&a.ID, &a.Title, &kind, &a.Community, &starts, &ends, &a.CreatedBy, &creation)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有活动 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get activity: %w", translate(err))
	}
	a.Kind, a.StartsAt, a.EndsAt, a.CreatedAt = model.ActivityKind(kind), timeOfMs(starts), timeOfMs(ends), timeOfMs(creation)
	return &a, nil
}

const checkinColumns = "activity_id, member_id, kind, starts_at, user_id, branch_id, at"

func scanCheckin(r scannable) (model.Checkin, error) {
	var (
		c         model.Checkin
		kind      string
		starts, t int64
	)
	if err := r.Scan(&c.ActivityID, &c.MemberID, &kind, &starts, &c.UserID, &c.BranchID, &t); err != nil {
		return model.Checkin{}, err
	}
	c.Kind, c.StartsAt, c.At = model.ActivityKind(kind), timeOfMs(starts), timeOfMs(t)
	return c, nil
}

// CheckIn records that member c.MemberID took part in activity
// c.ActivityID. Of any number of check-ins of one member, exactly one
// reports first=true; a repeated check-in is no error: it returns the one
// first recorded, with first=false. At defaults to the store's clock.
// Errors: unavailable.
func (s *Activities) CheckIn(ctx context.Context, c model.Checkin) (recorded model.Checkin, first bool, err error) {
	if c.At.IsZero() {
		c.At = s.db.clockMs()
	}
	c.At, c.StartsAt = c.At.UTC().Truncate(time.Millisecond), c.StartsAt.UTC().Truncate(time.Millisecond)
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO activity_checkins (`+checkinColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (activity_id, member_id) DO NOTHING`,
			c.ActivityID, c.MemberID, string(c.Kind), msOf(c.StartsAt), c.UserID, c.BranchID, msOf(c.At))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if first = n == 1; first {
			recorded = c
			return nil
		}
		recorded, err = scanCheckin(tx.QueryRowContext(ctx, "SELECT "+checkinColumns+" FROM activity_checkins WHERE activity_id = ? AND member_id = ?",
			c.ActivityID, c.MemberID))
		return err
	})
	if err != nil {
		return model.Checkin{}, false, fmt.Errorf("check in: %w", err)
	}
	return recorded, first, nil
}

// CountActivities counts the activities that start in [from, to), by
// kind; every known kind is present, with zero when none. Errors:
// unavailable.
func (s *Activities) CountActivities(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	rows, err := s.db.r.QueryContext(ctx, sqlCountActivities, msOf(from), msOf(to))
	if err != nil {
		return nil, fmt.Errorf("count activities: %w", translate(err))
	}
	defer rows.Close()
	out := map[string]int64{}
	for _, k := range model.ActivityKinds() {
		out[string(k)] = 0
	}
	for rows.Next() {
		var (
			kind string
			n    int64
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("count activities: %w", translate(err))
		}
		out[kind] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count activities: %w", translate(err))
	}
	return out, nil
}

const sqlCountActivities = "SELECT kind, count(*) FROM activities WHERE starts_at >= ? AND starts_at < ? GROUP BY kind"

// CheckinsBetween returns the check-ins of the activities that start in
// [from, to) — the activities CountActivities counts, so that an activity
// and its participants fall in one period —, ordered by the activity's
// start, then activity and member. Errors: unavailable.
func (s *Activities) CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error) {
	rows, err := s.db.r.QueryContext(ctx, sqlCheckinsBetween, msOf(from), msOf(to))
	if err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", translate(err))
	}
	defer rows.Close()
	out := []model.Checkin{}
	for rows.Next() {
		c, err := scanCheckin(rows)
		if err != nil {
			return nil, fmt.Errorf("activity check-ins: %w", translate(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", translate(err))
	}
	return out, nil
}

const sqlCheckinsBetween = "SELECT " + checkinColumns + ` FROM activity_checkins
	WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at, activity_id, member_id`
