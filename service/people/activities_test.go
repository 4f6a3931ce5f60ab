package people_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// The production stores fit the activity service's interfaces.
var (
	_ people.ActivityStore = (*mongodb.Activities)(nil)
	_ people.MemberGetter  = (*mongodb.People)(nil)
)

func TestValidateActivity(t *testing.T) {
	valid := people.ActivityInput{
		Title: "  清理小广告  ", Kind: "volunteer", Community: " 幸福里社区 ",
		StartsAt: "2026-05-01T09:00:00+08:00", EndsAt: "2026-05-01T11:30:00+08:00",
	}
	with := func(f func(*people.ActivityInput)) people.ActivityInput {
		in := valid
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   people.ActivityInput
		want string // the error message, "" for valid
	}{
		{"valid", valid, ""},
		{"theme", with(func(in *people.ActivityInput) { in.Kind = "theme" }), ""},
		{"joint enforcement", with(func(in *people.ActivityInput) { in.Kind = "joint_enforcement" }), ""},
		{"title of 50 characters", with(func(in *people.ActivityInput) { in.Title = strings.Repeat("志", 50) }), ""},
		{"exactly 7 days", with(func(in *people.ActivityInput) { in.EndsAt = "2026-05-08T09:00:00+08:00" }), ""},
		{"UTC times", with(func(in *people.ActivityInput) {
			in.StartsAt, in.EndsAt = "2026-05-01T01:00:00Z", "2026-05-01T03:00:00Z"
		}), ""},
		{"no title", with(func(in *people.ActivityInput) { in.Title = "   " }), "title 不能为空"},
		{"title too long", with(func(in *people.ActivityInput) { in.Title = strings.Repeat("志", 51) }), "title 最多 50 个字，现在是 51 个字"},
		{"no kind", with(func(in *people.ActivityInput) { in.Kind = "" }), "kind 不能为空：volunteer（志愿服务）、theme（主题实践）或 joint_enforcement（联合执法）"},
		{"unknown kind", with(func(in *people.ActivityInput) { in.Kind = "party" }), `kind 必须是 volunteer、theme 或 joint_enforcement，不能是 "party"`},
		{"kind in Chinese", with(func(in *people.ActivityInput) { in.Kind = "志愿服务" }), `kind 必须是 volunteer、theme 或 joint_enforcement，不能是 "志愿服务"`},
		{"no community", with(func(in *people.ActivityInput) { in.Community = "" }), "community 不能为空"},
		{"community too long", with(func(in *people.ActivityInput) { in.Community = strings.Repeat("社", 65) }), "community 最多 64 个字"},
		{"no starts_at", with(func(in *people.ActivityInput) { in.StartsAt = "" }), "starts_at 不能为空"},
		{"date only", with(func(in *people.ActivityInput) { in.StartsAt = "2026-05-01" }), `starts_at 必须是 RFC 3339 时间（如 2026-05-01T09:00:00+08:00），不能是 "2026-05-01"`},
		{"no zone", with(func(in *people.ActivityInput) { in.EndsAt = "2026-05-01T11:30:00" }), `ends_at 必须是 RFC 3339 时间`},
		{"no ends_at", with(func(in *people.ActivityInput) { in.EndsAt = "" }), "ends_at 不能为空"},
		{"year 1", with(func(in *people.ActivityInput) { in.StartsAt = "0001-01-01T00:00:00Z" }), "starts_at 必须是 2000 年到 2999 年之间的时间"},
		{"ends when it starts", with(func(in *people.ActivityInput) { in.EndsAt = in.StartsAt }), "ends_at 必须晚于 starts_at"},
		{"ends before it starts", with(func(in *people.ActivityInput) { in.EndsAt = "2026-05-01T08:00:00+08:00" }), "ends_at 必须晚于 starts_at"},
		{"same instant, other zone", with(func(in *people.ActivityInput) { in.EndsAt = "2026-05-01T01:00:00Z" }), "ends_at 必须晚于 starts_at"},
		{"over 7 days", with(func(in *people.ActivityInput) { in.EndsAt = "2026-05-08T09:00:01+08:00" }), "ends_at 最多比 starts_at 晚 7 天"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := people.ValidateActivity(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateActivity = %v, want valid", err)
				}
				if a.Title != strings.TrimSpace(tt.in.Title) || a.Community != strings.TrimSpace(tt.in.Community) || !a.EndsAt.After(a.StartsAt) {
					t.Fatalf("ValidateActivity = %+v", a)
				}
				return
			}
			var me *model.Error
			if !errors.As(err, &me) || me.Code != model.CodeInvalidArgument || !strings.HasPrefix(me.Message, tt.want) {
				t.Fatalf("ValidateActivity = %v, want invalid_argument %q", err, tt.want)
			}
		})
	}
}

// activityTestClock is a clock that tests move by hand.
type activityTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *activityTestClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *activityTestClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func TestActivityCreateAndCheckIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	clk := &activityTestClock{t: time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC)}
	directory := mongodb.NewPeople(m, clk.Now)
	acts := mongodb.NewActivities(m, clk.Now)
	svc := people.NewActivities(acts, directory, directory, clk.Now)

	branch, err := directory.CreateBranch(ctx, model.Branch{Name: "第一党支部"})
	if err != nil {
		t.Fatal(err)
	}
	member, err := directory.CreatePartyMember(ctx, model.PartyMember{Name: "张三", Phone: "13900000001", BranchID: branch.ID, Communities: []string{"幸福里社区"}})
	if err != nil {
		t.Fatal(err)
	}
	staff := &model.User{ID: "staff1", Kind: model.KindStaff, Roles: []model.Role{model.RoleStaff}}
	partyMember := &model.User{ID: "u1", Kind: model.KindWeChat, Roles: []model.Role{model.RoleResident, model.RolePartyMember}, PartyMemberID: member.ID}
	resident := &model.User{ID: "u2", Kind: model.KindWeChat, Roles: []model.Role{model.RoleResident}}
	in := people.ActivityInput{Title: "清理小广告", Kind: "volunteer", Community: "幸福里社区",
		StartsAt: "2026-05-01T09:00:00+08:00", EndsAt: "2026-05-01T11:00:00+08:00"}

	if _, err := svc.Create(ctx, partyMember, in); !errors.Is(err, model.ErrPermissionDenied) {
		t.Fatalf("Create by a party member = %v, want permission_denied", err)
	}
	if _, err := svc.Create(ctx, staff, people.ActivityInput{}); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("Create(empty) = %v, want invalid_argument", err)
	}
	a, err := svc.Create(ctx, staff, in)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.CreatedBy != "staff1" || a.Kind != model.ActivityVolunteer {
		t.Fatalf("created %+v", a)
	}
	starts := a.StartsAt

	steps := []struct {
		name  string
		at    time.Time
		user  *model.User
		id    string
		code  model.Code // "" for success
		first bool
		msg   string
	}{
		{"a resident", starts, resident, a.ID, model.CodePermissionDenied, false, "只有在职党员"},
		{"party role without a profile", starts, &model.User{ID: "u3", Roles: []model.Role{model.RolePartyMember}}, a.ID, model.CodePermissionDenied, false, ""},
		{"unknown activity", starts, partyMember, "000000000000000000000000", model.CodeNotFound, false, "没有活动"},
		{"absurd id", starts, partyMember, strings.Repeat("x", 200), model.CodeNotFound, false, ""},
		{"too early", starts.Add(-time.Hour - time.Second), partyMember, a.ID, model.CodeConflict, false, "签到于 2026-05-01 08:00 (UTC+8) 开始"},
		{"first grace minute", starts.Add(-time.Hour), partyMember, a.ID, "", true, ""},
		{"again during", starts.Add(time.Hour), partyMember, a.ID, "", false, ""},
		{"again in the last grace minute", a.EndsAt.Add(time.Hour), partyMember, a.ID, "", false, ""},
		{"too late", a.EndsAt.Add(time.Hour + time.Second), partyMember, a.ID, model.CodeConflict, false, "签到已于 2026-05-01 12:00 (UTC+8) 结束"},
	}
	for _, st := range steps {
		clk.Set(st.at)
		c, first, err := svc.CheckIn(ctx, st.user, st.id)
		if st.code != "" {
			if model.ErrorCode(err) != st.code || !strings.Contains(err.Error(), st.msg) {
				t.Fatalf("%s: CheckIn = %v, want %s containing %q", st.name, err, st.code, st.msg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: CheckIn = %v", st.name, err)
		}
		if first != st.first {
			t.Fatalf("%s: first = %v, want %v", st.name, first, st.first)
		}
		// A repeat answers with the check-in first recorded.
		if !c.At.Equal(starts.Add(-time.Hour)) || c.MemberID != member.ID || c.BranchID != branch.ID || c.UserID != "u1" {
			t.Fatalf("%s: check-in %+v", st.name, c)
		}
	}
	got, err := acts.CheckinsBetween(ctx, starts.Add(-24*time.Hour), starts.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d check-ins counted, want 1", len(got))
	}

	// The detail names who checked in; the member's upcoming list has it
	// until an hour after its end.
	_, rows, err := svc.Detail(ctx, a.ID)
	if err != nil || len(rows) != 1 || rows[0].Name != "张三" || rows[0].BranchName != "第一党支部" || rows[0].MemberID != member.ID {
		t.Fatalf("Detail = %+v, %v", rows, err)
	}
	clk.Set(starts.Add(-24 * time.Hour))
	if up, _, err := svc.Upcoming(ctx, partyMember, "", "", 20); err != nil || len(up) != 1 || up[0].ID != a.ID {
		t.Fatalf("Upcoming = %+v, %v", up, err)
	}
	if up, _, err := svc.Upcoming(ctx, partyMember, "龙江社区", "", 20); err != nil || len(up) != 0 {
		t.Fatalf("Upcoming(another community) = %+v, %v", up, err)
	}
	if _, _, err := svc.Upcoming(ctx, resident, "", "", 20); !errors.Is(err, model.ErrPermissionDenied) {
		t.Fatalf("Upcoming by a resident = %v", err)
	}
	// Edit: checked like a new activity; the check-ins follow.
	bad := "2026-05-01T08:00:00+08:00"
	if _, err := svc.Update(ctx, a.ID, people.ActivityPatch{EndsAt: &bad}); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("an end before the start = %v", err)
	}
	title, later := "清理小广告（改期）", "2026-05-02T09:00:00+08:00"
	laterEnd := "2026-05-02T11:00:00+08:00"
	if u, err := svc.Update(ctx, a.ID, people.ActivityPatch{Title: &title, StartsAt: &later, EndsAt: &laterEnd}); err != nil ||
		u.Title != title || !u.StartsAt.Equal(starts.Add(24*time.Hour)) || u.Community != "幸福里社区" {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	// Cancel: a reason, once; no more check-ins, nothing counted.
	if _, err := svc.Cancel(ctx, a.ID, " "); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a cancel without a reason = %v", err)
	}
	if c, err := svc.Cancel(ctx, a.ID, "天气原因"); err != nil || !c.Cancelled() || c.CancelReason != "天气原因" {
		t.Fatalf("Cancel = %+v, %v", c, err)
	}
	if _, err := svc.Cancel(ctx, a.ID, "again"); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("a second cancel = %v", err)
	}
	if _, err := svc.Update(ctx, a.ID, people.ActivityPatch{Title: &title}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("an edit after the cancel = %v", err)
	}
	clk.Set(starts.Add(24 * time.Hour))
	if _, _, err := svc.CheckIn(ctx, partyMember, a.ID); !errors.Is(err, model.ErrConflict) || !strings.Contains(err.Error(), "已取消") {
		t.Fatalf("a check-in after the cancel = %v", err)
	}
	if got, err := acts.CheckinsBetween(ctx, starts.Add(-48*time.Hour), starts.Add(48*time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("check-ins counted after the cancel: %+v, %v", got, err)
	}
	if _, _, err := svc.Detail(ctx, "000000000000000000000000"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Detail(unknown) = %v", err)
	}
}
