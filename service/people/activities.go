package people

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
		return nil, model.Errorf(model.CodePermissionDenied, "只有工作人员能创建活动")
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
		return model.Activity{}, model.Invalid("title", "不能为空")
	case n > 50:
		return model.Activity{}, model.Invalid("title", "最多 50 个字，现在是 %d 个字", n)
	}
	kind := model.ActivityKind(strings.TrimSpace(in.Kind))
	if kind == "" {
		return model.Activity{}, model.Invalid("kind", "不能为空：volunteer（志愿服务）、theme（主题实践）或 joint_enforcement（联合执法）")
	}
	if !kind.Valid() {
		return model.Activity{}, model.Invalid("kind", "必须是 volunteer、theme 或 joint_enforcement，不能是 %q", in.Kind)
	}
	community := strings.TrimSpace(in.Community)
	switch n := utf8.RuneCountInString(community); {
	case n == 0:
		return model.Activity{}, model.Invalid("community", "不能为空")
	case n > 64:
		return model.Activity{}, model.Invalid("community", "最多 64 个字")
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
		return model.Activity{}, model.Invalid("ends_at", "必须晚于 starts_at")
	}
	if ends.Sub(starts) > model.MaxActivitySpan {
		return model.Activity{}, model.Invalid("ends_at", "最多比 starts_at 晚 7 天")
	}
	return model.Activity{Title: title, Kind: kind, Community: community, StartsAt: starts, EndsAt: ends}, nil
}

// activityTime parses a required RFC 3339 time between the years 2000 and 2999
// (BSON stores milliseconds since 1970, and a year-1 date is a typo).
func activityTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, model.Invalid(field, "不能为空（RFC 3339 时间，如 2026-05-01T09:00:00+08:00）")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, model.Invalid(field, "必须是 RFC 3339 时间（如 2026-05-01T09:00:00+08:00），不能是 %q", s)
	}
	if y := t.Year(); y < 2000 || y > 2999 {
		return time.Time{}, model.Invalid(field, "必须是 2000 年到 2999 年之间的时间")
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
		return model.Checkin{}, false, model.Errorf(model.CodePermissionDenied, "只有在职党员能签到活动")
	}
	if id == "" || len(id) > maxActivityIDLen {
		return model.Checkin{}, false, model.Errorf(model.CodeNotFound, "没有活动 %s", id)
	}
	a, err := s.store.Get(ctx, id)
	if err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Checkin{}, false, model.Errorf(model.CodeNotFound, "没有活动 %s", id)
		}
		return model.Checkin{}, false, fmt.Errorf("check in to activity %s: %w", id, err)
	}
	now := s.now()
	if now.Before(a.CheckinOpensAt()) {
		return model.Checkin{}, false, model.Errorf(model.CodeConflict,
			"活动签到于 %s 开始（活动开始前一小时）", activityClock(a.CheckinOpensAt()))
	}
	if now.After(a.CheckinClosesAt()) {
		return model.Checkin{}, false, model.Errorf(model.CodeConflict,
			"活动签到已于 %s 结束（活动结束后一小时）", activityClock(a.CheckinClosesAt()))
	}
	m, err := s.members.GetPartyMember(ctx, u.PartyMemberID)
	if err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Checkin{}, false, model.Errorf(model.CodePermissionDenied, "您的在职党员档案已不存在")
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
func activityClock(t time.Time) string {
	return t.In(model.ChinaTime()).Format("2006-01-02 15:04") + " (UTC+8)"
}
