package service

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// ActivityStore keeps activities and their check-ins.
type ActivityStore interface {
	Create(ctx context.Context, a model.Activity) (*model.Activity, error)
	Get(ctx context.Context, id string) (*model.Activity, error)
	CheckIn(ctx context.Context, c model.Checkin) (recorded model.Checkin, first bool, err error)
}

// Activities is party members' volunteer activities (志愿服务, 主题实践,
// 联合执法): staff create them, party members check in (报到), and each
// member's check-in is one participation (人次) in the statistics.
type Activities struct {
	store   ActivityStore
	members MemberGetter
	now     func() time.Time
}

// NewActivities returns the activity service.
func NewActivities(store ActivityStore, members MemberGetter, now func() time.Time) *Activities {
	return &Activities{store: store, members: members, now: now}
}

// ActivityInput is what staff send to create an activity. Times are RFC
// 3339 strings, parsed here so that a bad one gets a message naming its
// field.
type ActivityInput struct {
	Title     string
	Kind      string
	Community string
	StartsAt  string
	EndsAt    string
}

// Create validates in and stores the activity on behalf of staff. Errors:
// permission_denied for anyone but staff; invalid_argument naming the
// field (title 1–50 characters, kind volunteer|theme|joint_enforcement,
// community 1–64 characters, starts_at and ends_at RFC 3339 with ends_at
// after starts_at and at most 7 days later).
func (s *Activities) Create(ctx context.Context, staff *model.User, in ActivityInput) (*model.Activity, error) {
	if staff == nil || !staff.Has(model.RoleStaff) {
		return nil, model.Errorf(model.CodePermissionDenied, "only staff create activities")
	}
	a, err := ValidateActivity(in)
	if err != nil {
		return nil, err
	}
	a.CreatedBy = staff.ID
	created, err := s.store.Create(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("create activity: %w", err)
	}
	return created, nil
}

// ValidateActivity checks in and returns the activity it describes, without
// id or creator. Errors: invalid_argument naming the first bad field.
func ValidateActivity(in ActivityInput) (model.Activity, error) {
	title := strings.TrimSpace(in.Title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return model.Activity{}, model.Invalid("title", "is required")
	case n > 50:
		return model.Activity{}, model.Invalid("title", "must be at most 50 characters, not %d", n)
	}
	kind := model.ActivityKind(strings.TrimSpace(in.Kind))
	if kind == "" {
		return model.Activity{}, model.Invalid("kind", "is required: volunteer, theme or joint_enforcement")
	}
	if !kind.Valid() {
		return model.Activity{}, model.Invalid("kind", "must be volunteer, theme or joint_enforcement, not %q", in.Kind)
	}
	community := strings.TrimSpace(in.Community)
	switch n := utf8.RuneCountInString(community); {
	case n == 0:
		return model.Activity{}, model.Invalid("community", "is required")
	case n > 64:
		return model.Activity{}, model.Invalid("community", "must be at most 64 characters")
	}
	starts, err := activityTime("starts_at", in.StartsAt)
	if err != nil {
		return model.Activity{}, err
	}
	ends, err := activityTime("ends_at", in.EndsAt)
	if err != nil {
		return model.Activity{}, err
	}
	if !ends.After(starts) {
		return model.Activity{}, model.Invalid("ends_at", "must be after starts_at")
	}
	if ends.Sub(starts) > model.MaxActivitySpan {
		return model.Activity{}, model.Invalid("ends_at", "must be at most 7 days after starts_at")
	}
	return model.Activity{Title: title, Kind: kind, Community: community, StartsAt: starts, EndsAt: ends}, nil
}

// activityTime parses a required RFC 3339 time between the years 2000 and 2999
// (BSON stores milliseconds since 1970, and a year-1 date is a typo).
func activityTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, model.Invalid(field, "is required (an RFC 3339 time such as 2026-05-01T09:00:00+08:00)")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, model.Invalid(field, "must be an RFC 3339 time such as 2026-05-01T09:00:00+08:00, not %q", s)
	}
	if y := t.Year(); y < 2000 || y > 2999 {
		return time.Time{}, model.Invalid(field, "must be a time between the years 2000 and 2999")
	}
	return t, nil
}

// maxActivityIDLen bounds an id from a URL; longer is no activity at all.
const maxActivityIDLen = 64

// CheckIn records the party member u's participation in activity id
// (报到). It is idempotent: a second check-in of the same member succeeds
// again with first=false and the check-in first recorded, and is never
// counted twice. Any party member may check in to any activity, whatever
// communities they serve. Errors: permission_denied if u is not a bound
// party member; not_found for an unknown activity; conflict outside
// [starts_at − 1h, ends_at + 1h].
func (s *Activities) CheckIn(ctx context.Context, u *model.User, id string) (model.Checkin, bool, error) {
	if u == nil || !u.Has(model.RolePartyMember) || u.PartyMemberID == "" {
		return model.Checkin{}, false, model.Errorf(model.CodePermissionDenied, "only party members check in to activities")
	}
	if id == "" || len(id) > maxActivityIDLen {
		return model.Checkin{}, false, model.Errorf(model.CodeNotFound, "no such activity")
	}
	a, err := s.store.Get(ctx, id)
	if err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Checkin{}, false, model.Errorf(model.CodeNotFound, "no such activity")
		}
		return model.Checkin{}, false, fmt.Errorf("check in to activity %s: %w", id, err)
	}
	now := s.now()
	if now.Before(a.CheckinOpensAt()) {
		return model.Checkin{}, false, model.Errorf(model.CodeConflict,
			"check-in for this activity opens at %s (one hour before it starts)", activityClock(a.CheckinOpensAt()))
	}
	if now.After(a.CheckinClosesAt()) {
		return model.Checkin{}, false, model.Errorf(model.CodeConflict,
			"check-in for this activity closed at %s (one hour after it ended)", activityClock(a.CheckinClosesAt()))
	}
	m, err := s.members.GetPartyMember(ctx, u.PartyMemberID)
	if err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Checkin{}, false, model.Errorf(model.CodePermissionDenied, "your party-member profile no longer exists")
		}
		return model.Checkin{}, false, fmt.Errorf("check in to activity %s: %w", id, err)
	}
	c, first, err := s.store.CheckIn(ctx, model.Checkin{
		ActivityID: a.ID, Kind: a.Kind, StartsAt: a.StartsAt,
		MemberID: m.ID, UserID: u.ID, BranchID: m.BranchID, At: now,
	})
	if err != nil {
		return model.Checkin{}, false, fmt.Errorf("check in to activity %s: %w", id, err)
	}
	return c, first, nil
}

// activityClock formats t for a message, in China Standard Time.
func activityClock(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04") + " (UTC+8)" }
