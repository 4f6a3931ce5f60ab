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
