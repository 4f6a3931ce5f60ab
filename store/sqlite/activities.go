package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

const activityColumns = "id, title, kind, community, starts_at, ends_at, created_by, created_at, cancelled_at, cancel_reason"

func scanActivity(r scannable) (*model.Activity, error) {
	var (
		a                      model.Activity
		kind                   string
		starts, ends, creation int64
		cancelled              sql.NullInt64
	)
	if err := r.Scan(&a.ID, &a.Title, &kind, &a.Community, &starts, &ends, &a.CreatedBy, &creation, &cancelled, &a.CancelReason); err != nil {
		return nil, err
	}
	a.Kind, a.StartsAt, a.EndsAt, a.CreatedAt = model.ActivityKind(kind), timeOfMs(starts), timeOfMs(ends), timeOfMs(creation)
	a.CancelledAt = timeOfNullMs(cancelled)
	return &a, nil
}

// Get returns an activity by id. Errors: not_found, unavailable.
func (s *Activities) Get(ctx context.Context, id string) (*model.Activity, error) {
	a, err := scanActivity(s.db.r.QueryRowContext(ctx, "SELECT "+activityColumns+" FROM activities WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有活动 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get activity: %w", translate(err))
	}
	return a, nil
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
// kind, cancelled ones left out; every known kind is present, with zero
// when none. Errors: unavailable.
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

const sqlCountActivities = "SELECT kind, count(*) FROM activities WHERE starts_at >= ? AND starts_at < ? AND cancelled_at IS NULL GROUP BY kind"

// CheckinsBetween returns the check-ins of the activities that start in
// [from, to) and are not cancelled — the activities CountActivities counts,
// so that an activity and its participants fall in one period —, with the
// activity's kind and start as it has them now, ordered by the activity's
// start, then activity and member. Errors: unavailable.
func (s *Activities) CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error) {
	return s.checkins(ctx, "activity check-ins", sqlCheckinsBetween, msOf(from), msOf(to))
}

func (s *Activities) checkins(ctx context.Context, what, query string, args ...any) ([]model.Checkin, error) {
	rows, err := s.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	out := []model.Checkin{}
	for rows.Next() {
		c, err := scanCheckin(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, translate(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	return out, nil
}

const (
	// The activity's kind and start, not the copies the check-in keeps.
	joinedCheckinColumns = "c.activity_id, c.member_id, a.kind, a.starts_at, c.user_id, c.branch_id, c.at"
	sqlCheckinsBetween   = "SELECT " + joinedCheckinColumns + ` FROM activities a INDEXED BY activities_live
	JOIN activity_checkins c ON c.activity_id = a.id
	WHERE a.starts_at >= ? AND a.starts_at < ? AND a.cancelled_at IS NULL ORDER BY a.starts_at, a.id, c.member_id`
	sqlActivityCheckins = "SELECT " + checkinColumns + " FROM activity_checkins WHERE activity_id = ? ORDER BY at, member_id"
)

// Checkins returns an activity's check-ins in the order they were made.
// Errors: unavailable.
func (s *Activities) Checkins(ctx context.Context, activityID string) ([]model.Checkin, error) {
	return s.checkins(ctx, "an activity's check-ins", sqlActivityCheckins, activityID)
}

// List returns a page of the activities f selects, latest start first (or
// soonest with f.Soonest), after cursor ("<starts_at ms>:<id>" of the
// previous page's last). Errors: invalid_argument (cursor), unavailable.
func (s *Activities) List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error) {
	query, args, err := activityQuery(f, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list activities: %w", translate(err))
	}
	defer rows.Close()
	var out []*model.Activity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list activities: %w", translate(err))
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list activities: %w", translate(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = strconv.FormatInt(msOf(last.StartsAt), 10) + ":" + last.ID
	}
	return out, next, nil
}

// activityQuery is the query of a page of List: limit+1 rows, to tell
// whether there is a next page.
func activityQuery(f model.ActivityFilter, cursor string, limit int) (string, []any, error) {
	var (
		where []string
		args  []any
	)
	if !f.From.IsZero() {
		where, args = append(where, "starts_at >= ?"), append(args, msOf(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "starts_at < ?"), append(args, msOf(f.To))
	}
	if len(f.Communities) > 0 {
		where = append(where, "community IN ("+qmarks(len(f.Communities))+")")
		for _, c := range f.Communities {
			args = append(args, c)
		}
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if !f.EndsAfter.IsZero() {
		// Upcoming: still to end, and — since no activity lasts longer
		// than MaxActivitySpan — started at most that long ago, which
		// the index of starts can bound.
		where, args = append(where, "ends_at > ?", "starts_at > ?"),
			append(args, msOf(f.EndsAfter), msOf(f.EndsAfter.Add(-model.MaxActivitySpan)))
	}
	if f.Live {
		where = append(where, "cancelled_at IS NULL")
	}
	op, dir := "<", "DESC"
	if f.Soonest {
		op, dir = ">", "ASC"
	}
	if cursor != "" {
		ms, id, ok := strings.Cut(cursor, ":")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return "", nil, model.Invalid("cursor", "不是本列表给出的 next_cursor")
		}
		where, args = append(where, "(starts_at, id) "+op+" (?, ?)"), append(args, n, id)
	}
	q := "SELECT " + activityColumns + " FROM activities"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY starts_at " + dir + ", id " + dir + " LIMIT ?"
	return q, append(args, limit+1), nil
}

// Update writes a's title, community and times, and its check-ins' copy of
// the start, in one transaction. Errors: not_found, conflict (cancelled),
// unavailable.
func (s *Activities) Update(ctx context.Context, a *model.Activity) error {
	starts, ends := a.StartsAt.UTC().Truncate(time.Millisecond), a.EndsAt.UTC().Truncate(time.Millisecond)
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE activities SET title = ?, community = ?, starts_at = ?, ends_at = ?
			WHERE id = ? AND cancelled_at IS NULL`, a.Title, a.Community, msOf(starts), msOf(ends), a.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return activityGone(ctx, tx, a.ID)
		}
		_, err = tx.ExecContext(ctx, "UPDATE activity_checkins SET starts_at = ? WHERE activity_id = ?", msOf(starts), a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update activity: %w", err)
	}
	a.StartsAt, a.EndsAt = starts, ends
	return nil
}

// activityGone is why activity id was not changed: it does not exist
// (not_found) or is cancelled (conflict).
func activityGone(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM activities WHERE id = ?", id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return missing("没有活动 %s", id)
	}
	return model.Errorf(model.CodeConflict, "活动已取消，不能再修改或取消")
}

// Cancel marks an activity cancelled. Errors: not_found, conflict
// (cancelled already), unavailable.
func (s *Activities) Cancel(ctx context.Context, id, reason string, at time.Time) (*model.Activity, error) {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE activities SET cancelled_at = ?, cancel_reason = ? WHERE id = ? AND cancelled_at IS NULL",
			msOf(at), reason, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return activityGone(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancel activity: %w", err)
	}
	return s.Get(ctx, id)
}
