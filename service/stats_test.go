package service_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// flows runs a random mix of ticket lives through the real store, taking
// every step by the model's transitions, and returns the tickets' ids.
func flows(t *testing.T, ctx context.Context, tickets *mongodb.Tickets, clk *clock, rng *rand.Rand, n int) []string {
	t.Helper()
	workers := []string{"w1", "w2", "w3"}
	members := []string{"p1", "p2"}
	cats := []string{"0101", "1101", "0502"}
	grids := []string{"g1", "g2"}
	sources := []model.Source{model.SourceWeChat, model.SourcePatrol, model.SourceHotline}
	staff := model.Actor{ID: "s1", Role: model.RoleStaff}
	// step takes one step and commits it.
	step := func(tk *model.Ticket, do func(a model.Act) error) {
		t.Helper()
		if err := do(model.Act{At: clk.now(), Note: "x"}); err != nil {
			t.Fatalf("step on %s: %v", tk, err)
		}
		if err := tickets.Update(ctx, tk); err != nil {
			t.Fatalf("update: %v", err)
		}
		clk.advance(time.Duration(rng.IntN(600)) * time.Minute)
	}
	var ids []string
	for i := range n {
		now := clk.now()
		src := sources[rng.IntN(len(sources))]
		reporter := "r" + string(rune('a'+i%5))
		if src == model.SourcePatrol {
			reporter = workers[rng.IntN(3)]
		}
		tk := &model.Ticket{ID: model.NewID(now), ReporterID: reporter, Category: cats[rng.IntN(len(cats))], Source: src,
			Description: "x", Location: model.Location{Lat: 32, Lng: 118, CoordType: model.CoordWGS84}, Point: model.Point{Lat: 32, Lng: 118},
			PhotoIDs: []string{"p"}}
		if err := tk.Report(model.Act{At: now, By: model.Actor{ID: reporter, Role: model.RoleResident}}); err != nil {
			t.Fatal(err)
		}
		if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
		switch r := rng.IntN(10); {
		case r == 0:
			step(tk, func(a model.Act) error { return tk.Reject(a) })
			continue
		case r == 1:
			step(tk, func(a model.Act) error { return tk.Merge(a, "t0") })
			continue
		}
		sla := model.SLA{Hours: 1 + rng.IntN(48)}
		grid := grids[rng.IntN(2)]
		if src == model.SourcePatrol && rng.IntN(2) == 0 { // 自处置
			step(tk, func(a model.Act) error {
				if err := tk.Register(a, sla); err != nil {
					return err
				}
				a.By = model.Actor{ID: reporter, Role: model.RoleGridWorker}
				var flags []string
				if rng.IntN(2) == 0 {
					flags = []string{"far"}
				}
				return tk.SelfHandle(a, grid, "c1", []string{"b"}, flags)
			})
		} else {
			step(tk, func(a model.Act) error { return tk.Register(a, sla) })
		}
		for round := 0; tk.Status != model.StatusResolved; round++ {
			worker := model.Actor{ID: workers[rng.IntN(3)], Role: model.RoleGridWorker}
			if tk.Status == model.StatusPending {
				if rng.IntN(3) == 0 {
					step(tk, func(a model.Act) error {
						return tk.Route(a, model.Routing{GridCode: grid, Community: "c1", Pool: true})
					})
					worker = model.Actor{ID: members[rng.IntN(2)], Role: model.RolePartyMember}
					step(tk, func(a model.Act) error { a.By = worker; return tk.Claim(a) })
				} else {
					step(tk, func(a model.Act) error {
						return tk.Route(a, model.Routing{GridCode: grid, Community: "c1", Assignee: worker, AcceptBy: a.At.Add(time.Hour)})
					})
					if rng.IntN(5) == 0 { // returned, to someone else
						step(tk, func(a model.Act) error { a.By = worker; return tk.Return(a, 3) })
						worker = model.Actor{ID: workers[(slicesIndex(workers, worker.ID)+1)%3], Role: model.RoleGridWorker}
						step(tk, func(a model.Act) error {
							return tk.Route(a, model.Routing{GridCode: grid, Community: "c1", Assignee: worker, AcceptBy: a.At.Add(time.Hour)})
						})
					}
					step(tk, func(a model.Act) error { a.By = worker; return tk.Accept(a) })
				}
			} else {
				worker = model.Actor{ID: tk.AssigneeID, Role: tk.AssigneeRole}
			}
			if rng.IntN(4) == 0 { // 延期
				step(tk, func(a model.Act) error { a.By = worker; return tk.RequestExtension(a, 8, "x") })
				step(tk, func(a model.Act) error { a.By = staff; return tk.DecideExtension(a, rng.IntN(2) == 0, nil) })
			}
			if rng.IntN(4) == 0 { // 督办
				step(tk, func(a model.Act) error { a.By = staff; return tk.Urge(a) })
			}
			if rng.IntN(5) == 0 { // 挂账
				step(tk, func(a model.Act) error { a.By = staff; return tk.Defer(a, nil) })
				step(tk, func(a model.Act) error { a.By = staff; return tk.Resume(a, nil) })
			}
			if rng.IntN(4) == 0 && !tk.Escalated {
				clk.advance(50 * time.Hour)
				step(tk, func(a model.Act) error { return tk.Escalate(a) })
			}
			if rng.IntN(8) == 0 && round == 0 {
				step(tk, func(a model.Act) error { a.By = staff; return tk.Reject(a) })
				break
			}
			step(tk, func(a model.Act) error {
				a.By = worker
				var flags []string
				if rng.IntN(4) == 0 {
					flags = []string{"early"}
				}
				return tk.Resolve(a, []string{"b"}, flags)
			})
			if rng.IntN(6) == 0 && round < 2 { // 核查 failed: 返工 to the same assignee
				step(tk, func(a model.Act) error { a.By = staff; return tk.Verify(a, false, sla) })
			}
		}
		if tk.Status != model.StatusResolved {
			continue
		}
		resident := model.Actor{ID: reporter, Role: model.RoleResident}
		switch f := rng.IntN(5); {
		case f == 0: // not satisfied: 返工, handled once more and closed by the window
			step(tk, func(a model.Act) error { a.By = resident; return tk.Reopen(a, model.Feedback{Rating: 2}, sla) })
			w := model.Actor{ID: workers[0], Role: model.RoleGridWorker}
			step(tk, func(a model.Act) error {
				return tk.Route(a, model.Routing{GridCode: grid, Community: "c1", Assignee: w, AcceptBy: a.At.Add(time.Hour)})
			})
			step(tk, func(a model.Act) error { a.By = w; return tk.Accept(a) })
			step(tk, func(a model.Act) error { a.By = w; return tk.Resolve(a, []string{"c"}, nil) })
			clk.advance(100 * time.Hour)
			step(tk, func(a model.Act) error { return tk.Close(a, 72*time.Hour) })
		case f == 1: // no answer: closed by the window
			clk.advance(100 * time.Hour)
			step(tk, func(a model.Act) error { return tk.Close(a, 72*time.Hour) })
		case f == 2:
			// still waiting for feedback
		case f == 3: // 核查 passed
			step(tk, func(a model.Act) error { a.By = staff; return tk.Verify(a, true, sla) })
		default:
			step(tk, func(a model.Act) error {
				a.By = resident
				return tk.Confirm(a, model.Feedback{Satisfied: true, Rating: 5})
			})
		}
	}
	return ids
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// independent counts the indicators straight from the final tickets, by
// rules written out here rather than through model.Contribute.
func independent(t *testing.T, ctx context.Context, tickets *mongodb.Tickets, ids []string) service.Counts {
	t.Helper()
	var c service.Counts
	for _, id := range ids {
		tk, err := tickets.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Reported++
		if !tk.RegisteredAt.IsZero() {
			c.Registered++
		}
		for _, e := range tk.Timeline {
			switch e.Type {
			case model.EventEscalated:
				c.Overdue++
			case model.EventReopened:
				c.Reopened++
				c.Rated++
			case model.EventClosed:
				if e.ActorRole == model.RoleResident {
					c.Rated++
					c.Satisfied++
				}
			case model.EventDispatched:
				c.Dispatched++
			case model.EventReturned:
				c.Returned++
			case model.EventExtensionApproved:
				c.Extended++
			case model.EventDeferred:
				c.Deferred++
			case model.EventUrged:
				c.Urged++
			case model.EventVerifyFailed:
				c.VerifyFailed++
			case model.EventSelfHandled:
				c.SelfHandled++
			}
		}
		if tk.Resolution != nil && len(tk.PhotoFlags) > 0 {
			c.PhotoFlagged++
		}
		if tk.Escalated && tk.Status != model.StatusClosed && tk.Status != model.StatusRejected && tk.Status != model.StatusMerged {
			c.OpenOverdue++
		}
		if tk.Status == model.StatusClosed {
			c.Closed++
			if tk.Resolution != nil {
				c.Resolved++
				if !tk.Overdue && !tk.DueAt.IsZero() && !tk.Resolution.ResolvedAt.After(tk.DueAt) {
					c.OnTime++
				}
			}
		}
	}
	return c
}

func drain(t *testing.T, ctx context.Context, s *service.Stats) {
	t.Helper()
	for {
		n, err := s.ApplyPending(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// TestStatsAreExactlyOnce runs flows while two instances count, then
// checks the figures against an independent count, a rebuild and a replay
// — with the applier finding new transitions by scanning ticket_log, and
// by the marks each commit leaves (Tickets.UseStatsMarks).
func TestStatsAreExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, marked := range []bool{false, true} {
		t.Run(map[bool]string{false: "scan", true: "marked"}[marked], func(t *testing.T) {
			t.Parallel()
			statsAreExactlyOnce(t, marked)
		})
	}
}

func statsAreExactlyOnce(t *testing.T, marked bool) {
	ctx := context.Background()
	m := testenv.Mongo(t)
	r := testenv.Redis(t)
	clk := &clock{t: time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)}
	tickets := mongodb.NewTickets(m, clk.now)
	if marked {
		tickets.UseStatsMarks(mongodb.NewStatsCursor(m, true, clk.now))
	}
	rollups := mongodb.NewRollups(m, r)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	newStats := func(owner string) *service.Stats {
		return service.NewStats(service.StatsDeps{
			Log: tickets, Cursor: mongodb.NewStatsCursor(m, marked, clk.now), Rollups: rollups, Locks: redis.NewLocks(r), Owner: owner,
			Categories: service.NewCategories(mongodb.NewCategories(m, clk.now), time.Minute, clk.now),
			Grids:      service.NewGrids(mongodb.NewGrids(m, clk.now), 0, logger), Now: clk.now, Logger: logger,
		})
	}
	a, b := newStats("instance-a"), newStats("instance-b")

	// Two instances count while the flows happen.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range []*service.Stats{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ApplyPending(ctx, 50*time.Millisecond); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	ids := flows(t, ctx, tickets, clk, rand.New(rand.NewPCG(7, 11)), 24)
	close(stop)
	wg.Wait()
	// Both stop counting, as at shutdown, which gives the lease up (an
	// instance that stops without it keeps it for applierIdleTTL).
	a.StopApplying(ctx)
	b.StopApplying(ctx)
	drain(t, ctx, a)

	year := service.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 12, 31, 0, 0, 0, 0, shanghai())}
	want := independent(t, ctx, tickets, ids)
	for name, v := range map[string]int64{"dispatched": want.Dispatched, "returned": want.Returned, "extended": want.Extended,
		"deferred": want.Deferred, "urged": want.Urged, "verify_failed": want.VerifyFailed, "self_handled": want.SelfHandled,
		"photo_flagged": want.PhotoFlagged, "open_overdue": want.OpenOverdue, "on_time": want.OnTime} {
		if v == 0 {
			t.Errorf("the flows never count %s; the test would not see it counted twice", name)
		}
	}
	got, err := a.Summary(ctx, year, service.ByCategory)
	if err != nil {
		t.Fatal(err)
	}
	gotCounts := got.Counts
	gotCounts.HoursToResolve = 0
	if gotCounts != want {
		t.Fatalf("incremental counts\n got %+v\nwant %+v", gotCounts, want)
	}
	var groups service.Counts
	for _, g := range got.Groups {
		groups.Add(g.Counts)
	}
	groups.HoursToResolve = 0
	if groups != want {
		t.Fatalf("groups do not add up to the total: %+v vs %+v", groups, want)
	}

	// Sub-periods (days, months across the year) add up too.
	snapshot := func() map[string]service.Counts {
		out := map[string]service.Counts{}
		for name, p := range map[string]service.Period{
			"year":     year,
			"april":    {From: time.Date(2026, 4, 1, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 4, 30, 0, 0, 0, 0, shanghai())},
			"odd span": {From: time.Date(2026, 3, 31, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 5, 2, 0, 0, 0, 0, shanghai())},
		} {
			for _, by := range []string{"", service.ByCategory, service.ByGrid, service.ByWorker, service.BySource, service.ByCommunity, service.ByDay, service.ByMonth} {
				s, err := a.Summary(ctx, p, by)
				if err != nil {
					t.Fatal(err)
				}
				out[name+"/"+by] = s.Counts
				for _, g := range s.Groups {
					out[name+"/"+by+"/"+g.Key] = g.Counts
				}
			}
		}
		return out
	}
	incremental := snapshot()

	// The rebuild from the tickets agrees.
	if n, err := b.Rebuild(ctx); err != nil || n != len(ids) {
		t.Fatalf("rebuild: %d tickets, %v", n, err)
	}
	assertSame(t, "rebuild", incremental, snapshot())

	// Replaying every event once more changes nothing.
	if err := rollups.SetApplied(ctx, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	drain(t, ctx, b)
	assertSame(t, "replay", incremental, snapshot())
	if marked {
		if n, err := m.Database().Collection("stats_pending").CountDocuments(ctx, bson.M{}); err != nil || n != 0 {
			t.Fatalf("%d transitions still marked pending (%v)", n, err)
		}
	}
}

func assertSame(t *testing.T, what string, want, got map[string]service.Counts) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d figures, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if d := g.HoursToResolve - w.HoursToResolve; d > 1e-6 || d < -1e-6 {
			t.Fatalf("%s: %s hours %v, want %v", what, k, g.HoursToResolve, w.HoursToResolve)
		}
		g.HoursToResolve, w.HoursToResolve = 0, 0
		if g != w {
			t.Fatalf("%s: %s = %+v, want %+v", what, k, g, w)
		}
	}
}

func shanghai() *time.Location {
	l, _ := time.LoadLocation("Asia/Shanghai")
	return l
}
