package people

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// ActivityStore keeps activities and their check-ins (store.Activities).
type ActivityStore interface {
	Create(ctx context.Context, a model.Activity) (*model.Activity, error)
	Get(ctx context.Context, id string) (*model.Activity, error)
	CheckIn(ctx context.Context, c model.Checkin) (recorded model.Checkin, first bool, err error)
	List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error)
	Update(ctx context.Context, a *model.Activity) error
	Cancel(ctx context.Context, id, reason string, at time.Time) (*model.Activity, error)
	Checkins(ctx context.Context, activityID string) ([]model.Checkin, error)
}

// BranchGetter loads party branches.
type BranchGetter interface {
	GetBranch(ctx context.Context, id string) (*model.Branch, error)
}

// Activities is party members' volunteer activities (志愿服务, 主题实践,
// 联合执法): staff create, list, edit and cancel them, party members see
// their communities' upcoming ones and check in (报到), and each member's
// check-in of an activity not cancelled is one participation (人次) in the
// statistics.
type Activities struct {
	store    ActivityStore
	members  MemberGetter
	branches BranchGetter
	now      func() time.Time
}

// NewActivities returns the activity service; branches name the check-ins'
// branches in an activity's detail.
func NewActivities(store ActivityStore, members MemberGetter, branches BranchGetter, now func() time.Time) *Activities {
	return &Activities{store: store, members: members, branches: branches, now: now}
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
// [starts_at − 1h, ends_at + 1h] or when the activity is cancelled.
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
	if a.Cancelled() {
		return model.Checkin{}, false, model.Errorf(model.CodeConflict, "活动“%s”已取消，不能签到", a.Title)
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

// maxListed bounds a page of activities.
const maxListed = 100

// List returns a page of the activities f selects, latest start first,
// cancelled ones included (marked). Errors: invalid_argument (kind, a
// cursor), unavailable.
func (s *Activities) List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error) {
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, "", model.InvalidNamed("kind", "活动类型只能是 volunteer（志愿服务）、theme（主题实践）或 joint_enforcement（联合执法），不能是“%s”", f.Kind)
	}
	f.Soonest, f.EndsAfter = false, time.Time{}
	return s.store.List(ctx, f, cursor, min(max(limit, 1), maxListed))
}

// Upcoming lists for party member u the activities not yet ended and not
// cancelled, soonest first: of community when given (any party member may
// take part anywhere), else of the communities u serves. Errors:
// permission_denied (not a bound party member), invalid_argument (a
// cursor), unavailable.
func (s *Activities) Upcoming(ctx context.Context, u *model.User, community, cursor string, limit int) ([]*model.Activity, string, error) {
	if u == nil || !u.Has(model.RolePartyMember) || u.PartyMemberID == "" {
		return nil, "", model.Errorf(model.CodePermissionDenied, "只有在职党员能查看活动")
	}
	communities := []string{strings.TrimSpace(community)}
	if communities[0] == "" {
		m, err := s.members.GetPartyMember(ctx, u.PartyMemberID)
		if err != nil {
			if model.ErrorCode(err) == model.CodeNotFound {
				return nil, "", model.Errorf(model.CodePermissionDenied, "您的在职党员档案已不存在")
			}
			return nil, "", err
		}
		if communities = m.Communities; len(communities) == 0 {
			return nil, "", nil
		}
	}
	// Still open for check-in: until an hour after the end.
	f := model.ActivityFilter{Communities: communities, EndsAfter: s.now().Add(-model.CheckinGrace), Live: true, Soonest: true}
	return s.store.List(ctx, f, cursor, min(max(limit, 1), maxListed))
}

// CheckinRow is a check-in as an activity's detail shows it: the member's
// name and branch.
type CheckinRow struct {
	model.Checkin
	Name       string
	BranchName string
}

// Detail returns an activity and its check-ins, each with the member's
// name and branch name (empty when the profile or branch is gone).
// Errors: not_found, unavailable.
func (s *Activities) Detail(ctx context.Context, id string) (*model.Activity, []CheckinRow, error) {
	a, err := s.get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cs, err := s.store.Checkins(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]CheckinRow, len(cs))
	branches := map[string]string{}
	for i, c := range cs {
		rows[i] = CheckinRow{Checkin: c}
		if m, err := s.members.GetPartyMember(ctx, c.MemberID); err == nil {
			rows[i].Name = m.Name
		}
		name, ok := branches[c.BranchID]
		if !ok && s.branches != nil && c.BranchID != "" {
			if b, err := s.branches.GetBranch(ctx, c.BranchID); err == nil {
				name = b.Name
			}
			branches[c.BranchID] = name
		}
		rows[i].BranchName = name
	}
	return a, rows, nil
}

func (s *Activities) get(ctx context.Context, id string) (*model.Activity, error) {
	if id == "" || len(id) > maxActivityIDLen {
		return nil, model.Errorf(model.CodeNotFound, "没有活动 %s", id)
	}
	a, err := s.store.Get(ctx, id)
	if model.ErrorCode(err) == model.CodeNotFound {
		return nil, model.Errorf(model.CodeNotFound, "没有活动 %s", id)
	}
	return a, err
}

// ActivityPatch is what staff may change of an activity; nil fields stay.
// Times are RFC 3339 strings, as for ActivityInput.
type ActivityPatch struct {
	Title     *string
	Community *string
	StartsAt  *string
	EndsAt    *string
}

// Update changes an activity's title, community or times, checked as a new
// activity is (its check-ins follow the times into their period). Errors:
// not_found, invalid_argument naming the field, conflict (cancelled).
func (s *Activities) Update(ctx context.Context, id string, p ActivityPatch) (*model.Activity, error) {
	a, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Cancelled() {
		return nil, model.Errorf(model.CodeConflict, "活动“%s”已取消，不能修改", a.Title)
	}
	in := ActivityInput{Title: a.Title, Kind: string(a.Kind), Community: a.Community,
		StartsAt: a.StartsAt.Format(time.RFC3339Nano), EndsAt: a.EndsAt.Format(time.RFC3339Nano)}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&in.Title, p.Title}, {&in.Community, p.Community}, {&in.StartsAt, p.StartsAt}, {&in.EndsAt, p.EndsAt}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	next, err := ValidateActivity(in)
	if err != nil {
		return nil, err
	}
	a.Title, a.Community, a.StartsAt, a.EndsAt = next.Title, next.Community, next.StartsAt, next.EndsAt
	if err := s.store.Update(ctx, a); err != nil {
		return nil, fmt.Errorf("update activity %s: %w", id, err)
	}
	return a, nil
}

// Cancel cancels an activity with a reason (1–200 characters): it takes no
// more check-ins and counts nothing in the party-building figures.
// Errors: not_found, invalid_argument (reason), conflict (cancelled
// already).
func (s *Activities) Cancel(ctx context.Context, id, reason string) (*model.Activity, error) {
	a, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	reason, err = model.TrimText("reason", reason, 200, false, "说明取消活动的原因")
	if err != nil {
		return nil, err
	}
	if a.Cancelled() {
		return nil, model.Errorf(model.CodeConflict, "活动“%s”已于 %s 取消", a.Title, activityClock(a.CancelledAt))
	}
	out, err := s.store.Cancel(ctx, a.ID, reason, s.now())
	if err != nil {
		return nil, fmt.Errorf("cancel activity %s: %w", id, err)
	}
	return out, nil
}
