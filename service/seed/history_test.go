package seed

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/workcal"
)

// testCity is the demo's lattice of n grids as a City, without a store:
// two workers a grid (one off duty in every fifth grid, none at all in
// the last), two party members a community, 300 residents, 20 photos.
func testCity(tb testing.TB, n int) *City {
	tb.Helper()
	var grids []geo.Grid
	c := &City{Workers: map[string][]Person{}, Members: map[string][]Person{}, Staff: model.Actor{ID: "staff-1", Role: model.RoleStaff},
		Categories: catalogue.DefaultCategories, District: district}
	for i, g := range lattice(n) {
		a, b := g.minLng, g.minLat
		ring := orb.Ring{{a, b}, {a + cellLng, b}, {a + cellLng, b + cellLat}, {a, b + cellLat}, {a, b}}
		grids = append(grids, geo.Grid{Code: g.code, Name: g.name, Community: g.community, Shape: orb.MultiPolygon{{ring}}})
		if i == n-1 {
			continue
		}
		for k := range 2 {
			c.Workers[g.code] = append(c.Workers[g.code], Person{UserID: fmt.Sprintf("worker-%d-%d", i, k), Name: name(i*2 + k),
				Role: model.RoleGridWorker, OnDuty: k == 0 || i%5 != 0})
		}
		if len(c.Members[g.community]) == 0 {
			for k := range 2 {
				c.Members[g.community] = append(c.Members[g.community], Person{UserID: fmt.Sprintf("member-%d-%d", i, k),
					Name: name(100 + i*2 + k), Role: model.RolePartyMember, OnDuty: true})
			}
		}
	}
	c.setGrids(grids)
	for i := range 300 {
		c.Residents = append(c.Residents, fmt.Sprintf("resident-%d", i))
	}
	for i := range 20 {
		c.Photos = append(c.Photos, Photo{ID: fmt.Sprintf("photo-%d", i), Owner: c.Residents[i]})
	}
	return c
}

func testWorkflow(tb testing.TB) Workflow {
	tb.Helper()
	cal, err := workcal.New(workcal.China2026())
	if err != nil {
		tb.Fatal(err)
	}
	return Workflow{Calendar: cal, AcceptTimeout: 30 * time.Minute, FeedbackWindow: 72 * time.Hour, MaxReturns: 2}
}

func generate(tb testing.TB, city *City, opt HistoryOptions) []*model.Ticket {
	tb.Helper()
	var out []*model.Ticket
	err := Generate(context.Background(), city, opt, func(b Batch) error {
		for i := 1; i < len(b.Tickets); i++ {
			if b.Tickets[i].CreatedAt.Before(b.Tickets[i-1].CreatedAt) {
				return fmt.Errorf("batch out of creation order at %d", i)
			}
		}
		out = append(out, b.Tickets...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestHistoryIsRealistic makes a year of a city and checks what a clerk
// or a benchmark would rely on: every status, channel, category and grid;
// timelines in order and consistent with the tickets' fields; the
// server's timers fired; and the rates of a working bureau.
func TestHistoryIsRealistic(t *testing.T) {
	t.Parallel()
	city := testCity(t, 12)
	end := time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)
	wf := testWorkflow(t)
	const n = 20000
	ts := generate(t, city, HistoryOptions{Tickets: n, Days: 365, End: end, Fresh: 10, Seed: 3, Workflow: wf, Batch: 1500})
	if len(ts) != n {
		t.Fatalf("made %d tickets, want %d", len(ts), n)
	}
	statuses := map[model.Status]int{}
	sources := map[model.Source]int{}
	categories := map[string]int{}
	grids := map[string]int{}
	events := map[model.EventType]int{}
	ids := map[string]bool{}
	var old, oldClosed, held, rated, satisfied, late int
	maxLag := 40 * time.Second
	for _, x := range ts {
		if ids[x.ID] {
			t.Fatalf("id %s twice", x.ID)
		}
		ids[x.ID] = true
		statuses[x.Status]++
		sources[x.Source]++
		categories[x.Category]++
		grids[x.GridCode]++
		if x.CreatedAt.Before(end.AddDate(0, 0, -365)) || x.CreatedAt.After(end) {
			t.Fatalf("%s created at %s, outside the year", x.ID, x.CreatedAt)
		}
		if x.CaseNo != "" {
			t.Fatalf("%s has a case number %s: the store gives it", x.ID, x.CaseNo)
		}
		if len(x.Timeline) == 0 || x.Timeline[0].Type != model.EventReported || !x.Timeline[0].At.Equal(x.CreatedAt) {
			t.Fatalf("%s: timeline does not start with its report: %+v", x.ID, x.Timeline)
		}
		for i, e := range x.Timeline {
			events[e.Type]++
			if e.At.After(end) || (i > 0 && e.At.Before(x.Timeline[i-1].At)) {
				t.Fatalf("%s: event %d (%s) at %s out of order or after the end", x.ID, i, e.Type, e.At)
			}
			if e.Type == model.EventClosed && e.ActorRole == model.RoleResident {
				rated++
				satisfied++
			}
			if e.Type == model.EventReopened {
				rated++
			}
		}
		if last := x.Timeline[len(x.Timeline)-1]; last.Status != x.Status || !x.UpdatedAt.Equal(last.At) {
			t.Fatalf("%s: status %s, updated %s; last event %+v", x.ID, x.Status, x.UpdatedAt, last)
		}
		// Version 0 is a report not screened yet, or a hotline call or
		// Open311 request (registered as it is stored) not routed yet:
		// nothing else is uncommitted.
		unscreened := x.Status == model.StatusSubmitted && !x.Held
		unrouted := x.Unrouted() && (x.Source == model.SourceHotline || x.Source == model.SourceOpen311)
		if (x.Version == 0) != (unscreened || unrouted) {
			t.Fatalf("%s: version %d in status %s (held %v, %s)", x.ID, x.Version, x.Status, x.Held, x.Source)
		}
		if x.Version > int64(len(x.Timeline)) {
			t.Fatalf("%s: version %d with %d events", x.ID, x.Version, len(x.Timeline))
		}
		if x.GridCode != "" {
			code, ok := city.index.Locate(geo.Point{Lat: x.Point.Lat, Lng: x.Point.Lng})
			if !ok || code != x.GridCode {
				t.Fatalf("%s in grid %s lies in %q", x.ID, x.GridCode, code)
			}
		}
		// The server's timers fired: nothing open is past its deadline
		// unmarked, nothing resolved is past its feedback window,
		// nothing dispatched past its accept deadline.
		if model.CanApply(model.EventEscalated, x.Status) && !x.Escalated && !x.DueAt.IsZero() && x.DueAt.Add(maxLag).Before(end) {
			t.Fatalf("%s: %s, due %s, not escalated by %s", x.ID, x.Status, x.DueAt, end)
		}
		if x.Status == model.StatusResolved && x.Resolution.ResolvedAt.Add(wf.FeedbackWindow+maxLag).Before(end) {
			t.Fatalf("%s: resolved %s, still open at %s", x.ID, x.Resolution.ResolvedAt, end)
		}
		if x.Status == model.StatusDispatched && x.AcceptBy.Add(maxLag).Before(end) {
			t.Fatalf("%s: dispatched, accept by %s, at %s", x.ID, x.AcceptBy, end)
		}
		if x.Status == model.StatusMerged && (x.DuplicateOf == "" || x.Version != 1) {
			t.Fatalf("%s: merged into %q at version %d", x.ID, x.DuplicateOf, x.Version)
		}
		if x.Held {
			held++
		}
		if x.ClosedLate() {
			late++
		}
		if x.CreatedAt.Before(end.AddDate(0, 0, -30)) {
			old++
			if x.Status == model.StatusClosed {
				oldClosed++
			}
		}
	}
	for _, st := range model.Statuses {
		if statuses[st] == 0 {
			t.Errorf("no ticket is %s: %v", st, statuses)
		}
	}
	for _, src := range []model.Source{model.SourceWeChat, model.SourcePatrol, model.SourceHotline, model.SourceOpen311} {
		if sources[src] == 0 {
			t.Errorf("no ticket came by %s: %v", src, sources)
		}
	}
	for _, c := range catalogue.DefaultCategories {
		if categories[c.Code] == 0 {
			t.Errorf("no ticket of category %s", c.Code)
		}
	}
	for _, g := range city.Grids {
		if grids[g.Code] == 0 {
			t.Errorf("no ticket in grid %s", g.Code)
		}
	}
	if grids[""] == 0 {
		t.Errorf("no ticket outside every grid")
	}
	for _, et := range model.EventTypes {
		if events[et] == 0 {
			t.Errorf("no %s event: %v", et, events)
		}
	}
	if held == 0 {
		t.Errorf("no report is held for review")
	}
	if late == 0 {
		t.Errorf("no ticket was closed late")
	}
	if r := float64(oldClosed) / float64(old); r < 0.80 || r > 0.90 {
		t.Errorf("%.1f%% of the tickets older than a month are closed, want about 85%%", 100*r)
	}
	if r := float64(satisfied) / float64(rated); r < 0.85 || r > 0.95 {
		t.Errorf("%.1f%% of the ratings are satisfied, want about 90%%", 100*r)
	}
	t.Logf("statuses %v\nsources %v\nevents %v\nold closed %.1f%%, satisfied %.1f%% of %d ratings, %d closed late",
		statuses, sources, events, 100*float64(oldClosed)/float64(old), 100*float64(satisfied)/float64(rated), rated, late)
}

// TestHistoryIsTheSameForASeed: the same seed makes the same history but
// for the ids, whatever the batches are made in parallel.
func TestHistoryIsTheSameForASeed(t *testing.T) {
	t.Parallel()
	city := testCity(t, 6)
	end := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	shape := func(par int) []string {
		var out []string
		for _, x := range generate(t, city, HistoryOptions{Tickets: 3000, Days: 60, End: end, Fresh: 5, Seed: 9,
			Workflow: testWorkflow(t), Batch: 200, Parallel: par}) {
			out = append(out, fmt.Sprintf("%s %s %s %d %s %s", x.CreatedAt, x.Status, x.Category, x.Version, x.GridCode, x.Description))
		}
		return out
	}
	a, b := shape(1), shape(4)
	if !slices.Equal(a, b) {
		t.Fatal("two runs with one seed differ")
	}
}

// BenchmarkGenerate measures making a history without storing it.
func BenchmarkGenerate(b *testing.B) {
	city := testCity(b, 24)
	wf := testWorkflow(b)
	end := time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)
	const n = 20000
	for b.Loop() {
		err := Generate(context.Background(), city, HistoryOptions{Tickets: n, Days: 365, End: end, Seed: 1, Workflow: wf},
			func(Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tickets/s")
}
