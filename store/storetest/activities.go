package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runActivities: party members' activities and check-ins.
func runActivities(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.Activities != nil }, []suiteCase{
		{"RoundTrip", testActivityRoundTrip},
		{"CheckInCountsOncePerMember", testCheckInCountsOncePerMember},
		{"StatisticsQueries", testActivityStatisticsQueries},
		{"ListEditCancel", testActivityListEditCancel},
	})
}

func mustActivity(t *testing.T, e Engine, kind model.ActivityKind, starts time.Time) *model.Activity {
	t.Helper()
	a, err := e.Activities.Create(t.Context(), model.Activity{
		Title: "清理小广告", Kind: kind, Community: "幸福里社区",
		StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), CreatedBy: "staff1",
	})
	expectOK(t, err, "create activity")
	return a
}

func checkinOf(a *model.Activity, member, branch string) model.Checkin {
	return model.Checkin{ActivityID: a.ID, Kind: a.Kind, StartsAt: a.StartsAt, MemberID: member,
		UserID: "user-" + member, BranchID: branch, At: a.StartsAt}
}

func testActivityRoundTrip(t *testing.T, e Engine) {
	ctx := t.Context()
	starts := time.Date(2026, 5, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	a := mustActivity(t, e, model.ActivityTheme, starts)
	if a.ID == "" || a.CreatedAt.IsZero() || !a.StartsAt.Equal(starts) {
		t.Fatalf("created = %+v", a)
	}
	got, err := e.Activities.Get(ctx, a.ID)
	expectOK(t, err, "get")
	if got.ID != a.ID || got.Title != "清理小广告" || got.Kind != model.ActivityTheme || got.Community != "幸福里社区" ||
		!got.StartsAt.Equal(starts) || !got.EndsAt.Equal(starts.Add(2*time.Hour)) || got.CreatedBy != "staff1" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("Get = %+v, want what was created: %+v", got, a)
	}
	_, err = e.Activities.Get(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "Get(unknown)")
}

func testCheckInCountsOncePerMember(t *testing.T, e Engine) {
	ctx := t.Context()
	a := mustActivity(t, e, model.ActivityVolunteer, time.Now().Truncate(time.Second))

	// The same member checks in from many requests at once (a double tap,
	// a retry): exactly one counts, and all see the same recorded check-in.
	const n = 12
	var wg sync.WaitGroup
	firsts := make([]bool, n)
	recorded := make([]model.Checkin, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := checkinOf(a, "m1", "b1")
			c.At = c.At.Add(time.Duration(i) * time.Second)
			recorded[i], firsts[i], errs[i] = e.Activities.CheckIn(ctx, c)
		})
	}
	wg.Wait()
	wins := 0
	var winner model.Checkin
	for i := range n {
		expectOK(t, errs[i], "check-in %d", i)
		if firsts[i] {
			wins++
			winner = recorded[i]
		}
	}
	if wins != 1 {
		t.Fatalf("%d check-ins of one member counted, want exactly 1", wins)
	}
	for i := range n {
		if !recorded[i].At.Equal(winner.At) || recorded[i].MemberID != "m1" || recorded[i].BranchID != "b1" || recorded[i].UserID != "user-m1" ||
			recorded[i].ActivityID != a.ID || recorded[i].Kind != model.ActivityVolunteer || !recorded[i].StartsAt.Equal(a.StartsAt) {
			t.Fatalf("check-in %d recorded %+v, want the winner's %+v", i, recorded[i], winner)
		}
	}

	// Different members each count, also concurrently.
	for i := range 2 {
		wg.Go(func() {
			_, firsts[i], errs[i] = e.Activities.CheckIn(ctx, checkinOf(a, fmt.Sprintf("other%d", i), "b2"))
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || !firsts[i] {
			t.Fatalf("member other%d: first=%v err=%v, want a counted check-in", i, firsts[i], errs[i])
		}
	}
	all, err := e.Activities.CheckinsBetween(ctx, a.StartsAt.Add(-time.Minute), a.StartsAt.Add(time.Minute))
	expectOK(t, err, "check-ins")
	if len(all) != 3 {
		t.Fatalf("%d check-ins stored, want 3: %+v", len(all), all)
	}
	// At defaults to the store's clock.
	c := checkinOf(a, "m9", "b9")
	c.At = time.Time{}
	before := time.Now().Add(-time.Second)
	got, first, err := e.Activities.CheckIn(ctx, c)
	expectOK(t, err, "check in without a time")
	if !first || got.At.Before(before) {
		t.Fatalf("a check-in without a time = %+v, %v", got, first)
	}
}

func testActivityStatisticsQueries(t *testing.T, e Engine) {
	ctx := t.Context()
	cst := time.FixedZone("CST", 8*3600)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, cst)
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, cst)

	before := mustActivity(t, e, model.ActivityVolunteer, from.Add(-time.Hour)) // 2025
	atStart := mustActivity(t, e, model.ActivityVolunteer, from)                // first instant of 2026
	mustActivity(t, e, model.ActivityVolunteer, time.Date(2026, 6, 1, 9, 0, 0, 0, cst))
	theme := mustActivity(t, e, model.ActivityTheme, time.Date(2026, 7, 1, 9, 0, 0, 0, cst))
	mustActivity(t, e, model.ActivityVolunteer, to) // 2027: excluded

	counts, err := e.Activities.CountActivities(ctx, from, to)
	expectOK(t, err, "count")
	want := map[string]int64{"volunteer": 2, "theme": 1, "joint_enforcement": 0}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("CountActivities = %v, want %v", counts, want)
	}
	none, err := e.Activities.CountActivities(ctx, to.Add(time.Hour), to.Add(2*time.Hour))
	expectOK(t, err, "count none")
	if fmt.Sprint(none) != fmt.Sprint(map[string]int64{"volunteer": 0, "theme": 0, "joint_enforcement": 0}) {
		t.Fatalf("CountActivities(an empty period) = %v, want every kind at 0", none)
	}

	// A check-in made in the grace hour before an activity starting at
	// midnight belongs to the activity's period, not the day it was made.
	early := checkinOf(atStart, "m1", "b1")
	early.At = from.Add(-30 * time.Minute)
	for _, c := range []model.Checkin{
		checkinOf(before, "m1", "b1"), early, checkinOf(theme, "m2", "b2"), checkinOf(theme, "m1", "b1"),
	} {
		if _, first, err := e.Activities.CheckIn(ctx, c); err != nil || !first {
			t.Fatalf("check-in %+v: first=%v err=%v", c, first, err)
		}
	}
	got, err := e.Activities.CheckinsBetween(ctx, from, to)
	expectOK(t, err, "check-ins")
	var seen []string
	for _, c := range got {
		seen = append(seen, c.ActivityID+"/"+c.MemberID+"/"+c.BranchID+"/"+string(c.Kind))
	}
	wantSeen := []string{
		atStart.ID + "/m1/b1/volunteer",
		theme.ID + "/m1/b1/theme",
		theme.ID + "/m2/b2/theme",
	}
	if fmt.Sprint(seen) != fmt.Sprint(wantSeen) {
		t.Fatalf("CheckinsBetween = %v, want %v (by start, then activity and member)", seen, wantSeen)
	}
	if !got[0].At.Equal(early.At) || got[0].UserID != "user-m1" || !got[0].StartsAt.Equal(from) {
		t.Fatalf("check-in = %+v, want at %v by user-m1", got[0], early.At)
	}
}

func testActivityListEditCancel(t *testing.T, e Engine) {
	ctx := t.Context()
	cst := time.FixedZone("CST", 8*3600)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, cst) }
	mk := func(kind model.ActivityKind, community string, starts time.Time) *model.Activity {
		t.Helper()
		a, err := e.Activities.Create(ctx, model.Activity{Title: "活动", Kind: kind, Community: community,
			StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), CreatedBy: "staff1"})
		expectOK(t, err, "create")
		return a
	}
	a1 := mk(model.ActivityVolunteer, "幸福里社区", day(5, 1))
	a2 := mk(model.ActivityTheme, "龙江社区", day(5, 2))
	a3 := mk(model.ActivityJointEnforcement, "幸福里社区", day(5, 3))
	ids := func(as []*model.Activity) string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return fmt.Sprint(out)
	}
	list := func(f model.ActivityFilter, want ...*model.Activity) {
		t.Helper()
		var got []*model.Activity
		cursor := ""
		for page := 0; page == 0 || cursor != ""; page++ {
			items, next, err := e.Activities.List(ctx, f, cursor, 2)
			expectOK(t, err, "list %+v", f)
			got, cursor = append(got, items...), next
			if page > 5 {
				t.Fatal("the pages never end")
			}
		}
		if ids(got) != ids(want) {
			t.Fatalf("List(%+v) = %v, want %v", f, ids(got), ids(want))
		}
	}
	list(model.ActivityFilter{}, a3, a2, a1)
	list(model.ActivityFilter{Soonest: true}, a1, a2, a3)
	list(model.ActivityFilter{Communities: []string{"幸福里社区"}, Soonest: true}, a1, a3)
	list(model.ActivityFilter{Communities: []string{"幸福里社区", "龙江社区"}}, a3, a2, a1)
	list(model.ActivityFilter{Kind: model.ActivityTheme}, a2)
	list(model.ActivityFilter{From: day(5, 2), To: day(5, 3)}, a2)
	list(model.ActivityFilter{EndsAfter: day(5, 2).Add(time.Hour), Soonest: true}, a2, a3)
	_, _, err := e.Activities.List(ctx, model.ActivityFilter{}, "nonsense", 2)
	expectCode(t, err, model.CodeInvalidArgument, "a cursor the store did not give")

	for _, c := range []model.Checkin{checkinOf(a1, "m2", "b1"), checkinOf(a1, "m1", "b1"), checkinOf(a3, "m1", "b1")} {
		if c.MemberID == "m1" && c.ActivityID == a1.ID {
			c.At = c.At.Add(time.Minute) // m2 first
		}
		_, _, err := e.Activities.CheckIn(ctx, c)
		expectOK(t, err, "check in")
	}
	got, err := e.Activities.Checkins(ctx, a1.ID)
	expectOK(t, err, "an activity's check-ins")
	if len(got) != 2 || got[0].MemberID != "m2" || got[1].MemberID != "m1" {
		t.Fatalf("Checkins(a1) = %+v, want m2 then m1", got)
	}

	// An edit of the times moves the activity and its check-ins to the new
	// period.
	a1.Title, a1.Community, a1.StartsAt, a1.EndsAt = "改期活动", "龙江社区", day(6, 1), day(6, 1).Add(3*time.Hour)
	expectOK(t, e.Activities.Update(ctx, a1), "update")
	back, err := e.Activities.Get(ctx, a1.ID)
	expectOK(t, err, "get")
	if back.Title != "改期活动" || back.Community != "龙江社区" || !back.StartsAt.Equal(day(6, 1)) || back.Kind != model.ActivityVolunteer {
		t.Fatalf("after the update: %+v", back)
	}
	may, june := day(5, 1).Add(-9*time.Hour), day(6, 1).Add(-9*time.Hour)
	july := june.AddDate(0, 1, 0)
	if in, err := e.Activities.CheckinsBetween(ctx, june, july); err != nil || len(in) != 2 || !in[0].StartsAt.Equal(day(6, 1)) {
		t.Fatalf("June's check-ins after the move: %+v %v", in, err)
	}

	// A cancelled activity is listed, counts nothing, takes no edit.
	cancelled, err := e.Activities.Cancel(ctx, a3.ID, "暴雨", day(5, 2))
	expectOK(t, err, "cancel")
	if !cancelled.Cancelled() || cancelled.CancelReason != "暴雨" || !cancelled.CancelledAt.Equal(day(5, 2)) {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	_, err = e.Activities.Cancel(ctx, a3.ID, "again", day(5, 2))
	expectCode(t, err, model.CodeConflict, "cancel twice")
	expectCode(t, e.Activities.Update(ctx, cancelled), model.CodeConflict, "update a cancelled activity")
	_, err = e.Activities.Cancel(ctx, "nope", "x", day(5, 2))
	expectCode(t, err, model.CodeNotFound, "cancel an unknown activity")
	expectCode(t, e.Activities.Update(ctx, &model.Activity{ID: "nope", StartsAt: day(5, 1), EndsAt: day(5, 2)}), model.CodeNotFound, "update an unknown activity")
	counts, err := e.Activities.CountActivities(ctx, may, june)
	expectOK(t, err, "count")
	if fmt.Sprint(counts) != fmt.Sprint(map[string]int64{"volunteer": 0, "theme": 1, "joint_enforcement": 0}) {
		t.Fatalf("May's activities: %v (the moved and the cancelled count nothing)", counts)
	}
	if in, err := e.Activities.CheckinsBetween(ctx, may, june); err != nil || len(in) != 0 {
		t.Fatalf("May's check-ins: %+v %v (the cancelled activity's count nothing)", in, err)
	}
	list(model.ActivityFilter{Live: true, To: june}, a2)
	list(model.ActivityFilter{To: june}, a3, a2)
}
