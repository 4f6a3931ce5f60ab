package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func mustActivity(tb testing.TB, s *mongodb.Activities, kind model.ActivityKind, starts time.Time) *model.Activity {
	tb.Helper()
	a, err := s.Create(context.Background(), model.Activity{
		Title: "清理小广告", Kind: kind, Community: "幸福里社区",
		StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), CreatedBy: "staff1",
	})
	if err != nil {
		tb.Fatalf("create activity: %v", err)
	}
	return a
}

func checkinOf(a *model.Activity, member, branch string) model.Checkin {
	return model.Checkin{ActivityID: a.ID, Kind: a.Kind, StartsAt: a.StartsAt, MemberID: member,
		UserID: "user-" + member, BranchID: branch, At: a.StartsAt}
}

func TestActivityRoundTrip(t *testing.T) {
	t.Parallel()
	acts := mongodb.NewActivities(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	starts := time.Date(2026, 5, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	a := mustActivity(t, acts, model.ActivityTheme, starts)
	got, err := acts.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "清理小广告" || got.Kind != model.ActivityTheme || got.Community != "幸福里社区" ||
		!got.StartsAt.Equal(starts) || !got.EndsAt.Equal(starts.Add(2*time.Hour)) || got.CreatedBy != "staff1" || got.CreatedAt.IsZero() {
		t.Fatalf("Get = %+v, want what was created", got)
	}
	if _, err := acts.Get(ctx, "nope"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want not_found", err)
	}
}

func TestCheckInCountsOncePerMember(t *testing.T) {
	t.Parallel()
	acts := mongodb.NewActivities(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	a := mustActivity(t, acts, model.ActivityVolunteer, time.Now())

	// The same member checks in from many requests at once (a double tap,
	// a retry): exactly one counts, and all see the same recorded check-in.
	const n = 12
	var wg sync.WaitGroup
	firsts := make([]bool, n)
	recorded := make([]model.Checkin, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := checkinOf(a, "m1", "b1")
			c.At = c.At.Add(time.Duration(i) * time.Second)
			recorded[i], firsts[i], errs[i] = acts.CheckIn(ctx, c)
		}()
	}
	wg.Wait()
	wins := 0
	var winner model.Checkin
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("check-in %d: %v", i, errs[i])
		}
		if firsts[i] {
			wins++
			winner = recorded[i]
		}
	}
	if wins != 1 {
		t.Fatalf("%d check-ins of one member counted, want exactly 1", wins)
	}
	for i := range n {
		if !recorded[i].At.Equal(winner.At) || recorded[i].MemberID != "m1" || recorded[i].BranchID != "b1" {
			t.Fatalf("check-in %d recorded %+v, want the winner's %+v", i, recorded[i], winner)
		}
	}

	// Different members each count, also concurrently.
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, firsts[i], errs[i] = acts.CheckIn(ctx, checkinOf(a, fmt.Sprintf("other%d", i), "b2"))
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || !firsts[i] {
			t.Fatalf("member other%d: first=%v err=%v, want a counted check-in", i, firsts[i], errs[i])
		}
	}
	all, err := acts.CheckinsBetween(ctx, a.StartsAt.Add(-time.Minute), a.StartsAt.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("%d check-ins stored, want 3: %+v", len(all), all)
	}
}

func TestActivityStatisticsQueries(t *testing.T) {
	t.Parallel()
	acts := mongodb.NewActivities(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, cst)
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, cst)

	before := mustActivity(t, acts, model.ActivityVolunteer, from.Add(-time.Hour)) // 2025
	atStart := mustActivity(t, acts, model.ActivityVolunteer, from)                // first instant of 2026
	mustActivity(t, acts, model.ActivityVolunteer, time.Date(2026, 6, 1, 9, 0, 0, 0, cst))
	theme := mustActivity(t, acts, model.ActivityTheme, time.Date(2026, 7, 1, 9, 0, 0, 0, cst))
	mustActivity(t, acts, model.ActivityVolunteer, to) // 2027: excluded

	counts, err := acts.CountActivities(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"volunteer": 2, "theme": 1, "joint_enforcement": 0}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("CountActivities = %v, want %v", counts, want)
	}

	// A check-in made in the grace hour before an activity starting at
	// midnight belongs to the activity's period, not the day it was made.
	early := checkinOf(atStart, "m1", "b1")
	early.At = from.Add(-30 * time.Minute)
	for _, c := range []model.Checkin{
		checkinOf(before, "m1", "b1"), early, checkinOf(theme, "m1", "b1"), checkinOf(theme, "m2", "b2"),
	} {
		if _, first, err := acts.CheckIn(ctx, c); err != nil || !first {
			t.Fatalf("check-in %+v: first=%v err=%v", c, first, err)
		}
	}
	got, err := acts.CheckinsBetween(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatalf("CheckinsBetween = %v, want %v", seen, wantSeen)
	}
	if !got[0].At.Equal(early.At) || got[0].UserID != "user-m1" {
		t.Fatalf("check-in = %+v, want at %v by user-m1", got[0], early.At)
	}
}
