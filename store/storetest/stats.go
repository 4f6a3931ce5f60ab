package storetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The statistics group: every commit counts exactly once, in the same
// atomic write (model.StatsDelta), so Read always equals the sum of
// model.Contribute over the tickets as stored; Load counts each ticket as
// of its version; Rebuild agrees.

func runStats(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"ExactlyOnceOverRandomFlows", testStatsRandomFlows},
		{"LoadCountsAsOfVersion", testStatsLoad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// expected sums model.Contribute over the stored tickets past version 0.
func expected(t *testing.T, s Tickets, idList []string) model.Contribution {
	t.Helper()
	sum := model.Contribution{}
	for _, id := range idList {
		tk, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Version > 0 {
			sum.Add(model.Contribute(tk))
		}
	}
	return sum
}

// checkStats compares what Stats.Read returns, for every dimension and
// every period of want, with want, once every commit so far is counted
// (Settle: an engine may count after the commit, as MongoDB's applier does).
func checkStats(t *testing.T, st Stats, want model.Contribution, what string) {
	t.Helper()
	if err := st.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	periods := map[string][]string{}
	for k := range want {
		if !slices.Contains(periods[k.Dim], k.Period) {
			periods[k.Dim] = append(periods[k.Dim], k.Period)
		}
	}
	got := model.Contribution{}
	for _, dim := range []string{model.DimAll, model.DimCategory, model.DimGrid, model.DimCommunity, model.DimWorker, model.DimMember, model.DimSource} {
		ps := periods[dim]
		slices.Sort(ps)
		rows, err := st.Read(ctx, dim, ps)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if r.Dim != dim || !slices.Contains(ps, r.Period) {
				t.Fatalf("%s: Read(%s) returned %+v", what, dim, r)
			}
			if i > 0 && rows[i-1].Period == r.Period && rows[i-1].Key >= r.Key {
				t.Fatalf("%s: Read(%s) rows of %s not in key order: %q then %q", what, dim, r.Period, rows[i-1].Key, r.Key)
			}
			k := model.RollupKey{Period: r.Period, Dim: r.Dim, Key: r.Key}
			if _, dup := got[k]; dup {
				t.Fatalf("%s: Read(%s) returned %v twice", what, dim, k)
			}
			got[k] = r.Values
		}
	}
	var diffs []string
	for k, w := range want {
		if g := got[k]; !sameValues(g, w) {
			diffs = append(diffs, fmt.Sprintf("%v: got %v want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != (model.RollupValues{}) {
			diffs = append(diffs, fmt.Sprintf("%v: got %v, want nothing", k, g))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Fatalf("%s: %d roll-ups differ from the sum of the tickets' contributions, e.g.\n%v", what, len(diffs), diffs[:min(5, len(diffs))])
	}
}

func sameValues(a, b model.RollupValues) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-6 {
			return false
		}
	}
	return true
}

// randomStep applies one random allowed step to a copy of tk at `at`.
func randomStep(r *rand.Rand, tk *model.Ticket, at time.Time) *model.Ticket {
	workers := []model.Actor{worker("w1"), worker("w2"), worker("w3"), {ID: "m1", Role: model.RolePartyMember}}
	staff := model.Actor{ID: "s1", Role: model.RoleStaff}
	grids := []string{"g1", "g2", "g3"}
	for range 50 {
		c := clone(tk)
		a := act(at, model.Actor{})
		var err error
		switch r.IntN(16) {
		case 0:
			err = c.Register(a, sla)
		case 1:
			g := grids[r.IntN(len(grids))]
			to := model.Actor{}
			if r.IntN(3) > 0 {
				to = workers[r.IntN(3)]
			}
			err = c.Route(a, model.Routing{GridCode: g, Community: "c-" + g, Assignee: to, AcceptBy: at.Add(time.Hour), Pool: r.IntN(3) == 0})
		case 2:
			err = c.Dispatch(act(at, staff), workers[r.IntN(3)], time.Time{}, sla)
		case 3:
			err = c.Accept(act(at, model.Actor{ID: c.AssigneeID, Role: c.AssigneeRole}))
		case 4:
			err = c.Claim(act(at, workers[3]))
		case 5:
			err = c.Return(act(at, model.Actor{ID: c.AssigneeID, Role: c.AssigneeRole}), 2)
		case 6:
			err = c.Escalate(a)
		case 7:
			err = c.Resolve(act(at, model.Actor{ID: c.AssigneeID, Role: c.AssigneeRole}), []string{"p9"}, []string{"far"}[:r.IntN(2)])
		case 8:
			err = c.Confirm(act(at, model.Actor{ID: c.ReporterID, Role: model.RoleResident}), model.Feedback{Satisfied: true, Rating: 5})
		case 9:
			err = c.Reopen(act(at, model.Actor{ID: c.ReporterID, Role: model.RoleResident}), model.Feedback{Rating: 1}, sla)
		case 10:
			err = c.Verify(act(at, staff), r.IntN(2) == 0, sla)
		case 11:
			err = c.Defer(act(at, staff), nil)
		case 12:
			err = c.Resume(act(at, staff), nil)
		case 13:
			err = c.Urge(act(at, staff))
		case 14:
			err = c.Reject(a)
		case 15:
			err = c.Close(a, time.Hour)
		}
		if err == nil {
			return c
		}
	}
	return nil
}

func testStatsRandomFlows(t *testing.T, open Open) {
	eng := open(t)
	a, b := eng("instance-a"), eng("instance-b")
	if at, err := a.Stats.UpdatedAt(ctx); err != nil || !at.IsZero() {
		t.Fatalf("UpdatedAt of an empty store: %v %v, want zero", at, err)
	}
	r := rand.New(rand.NewPCG(16, 2026))
	// Across a day, a month and a year's end in China time.
	start := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	var tickets []*model.Ticket
	for i := range 24 {
		tk := report(start.Add(time.Duration(i)*47*time.Minute), func(tk *model.Ticket) {
			tk.Category = []string{"0101", "0202", "1101"}[i%3]
			tk.Source = []model.Source{model.SourceWeChat, model.SourcePatrol, model.SourceHotline, ""}[i%4]
		})
		tickets = append(tickets, mustInsert(t, a.Tickets, tk))
	}
	for round := range 12 {
		for i, tk := range tickets {
			if tk.Status.Final() || r.IntN(4) == 0 {
				continue
			}
			at := tk.UpdatedAt.Add(time.Duration(r.IntN(40*60)) * time.Minute)
			next := randomStep(r, tk, at)
			if next == nil {
				continue
			}
			s := []Tickets{a.Tickets, b.Tickets}[r.IntN(2)]
			if err := s.Commit(ctx, tk, next); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			// The same transition again, from the same before: a conflict,
			// counted nothing.
			if r.IntN(3) == 0 {
				again := randomStep(r, tk, at)
				if again != nil {
					if err := s.Commit(ctx, tk, again); !errors.Is(err, model.ErrConflict) {
						t.Fatalf("a second commit from version %d: %v, want conflict", tk.Version, err)
					}
				}
			}
			tickets[i] = next
		}
	}
	if err := a.Stats.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	want := expected(t, a.Tickets, ids(tickets))
	if len(want) == 0 {
		t.Fatal("the flows counted nothing")
	}
	checkStats(t, b.Stats, want, "after the commits")
	if at, err := a.Stats.UpdatedAt(ctx); err != nil || at.IsZero() {
		t.Fatalf("UpdatedAt after commits: %v %v", at, err)
	}
	n, err := a.Stats.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < len(tickets) {
		t.Fatalf("Rebuild read %d tickets, want at least %d", n, len(tickets))
	}
	checkStats(t, a.Stats, want, "after Rebuild")
}

func testStatsLoad(t *testing.T, open Open) {
	e := open(t)("a")
	start := time.Date(2026, 6, 30, 15, 0, 0, 0, time.UTC)
	var ts []*model.Ticket
	for i := range 6 {
		ts = append(ts, loaded(t, start.Add(time.Duration(i)*time.Hour), i, []string{"g1", "g2"}[i%2], worker("w1")))
	}
	if err := e.Tickets.Load(ctx, ts); err != nil {
		t.Fatal(err)
	}
	want := expected(t, e.Tickets, ids(ts))
	if all := want[model.RollupKey{Period: "y2026", Dim: model.DimAll}]; all[model.CounterReported] != 5 {
		t.Fatalf("expected 5 reported (the ticket at version 0 counts nothing), got %v", all[model.CounterReported])
	}
	checkStats(t, e.Stats, want, "after Load")
	// A commit on a loaded ticket counts its delta.
	tk := step(t, e.Tickets, ts[2], accept(start.Add(5*time.Hour), worker("w1")))
	_ = tk
	checkStats(t, e.Stats, expected(t, e.Tickets, ids(ts)), "after a commit on a loaded ticket")
	if _, err := e.Stats.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	checkStats(t, e.Stats, expected(t, e.Tickets, ids(ts)), "after Rebuild")
}
