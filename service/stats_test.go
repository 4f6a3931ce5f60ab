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
	"github.com/citizen-city/chengguantong/store"
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

// flows runs a random mix of ticket lives through the real store and
// returns the tickets' ids.
func flows(t *testing.T, ctx context.Context, tickets *store.Tickets, clk *clock, rng *rand.Rand, n int) []string {
	t.Helper()
	workers := []string{"w1", "w2", "w3"}
	members := []string{"p1", "p2"}
	cats := []string{"0101", "1101", "0502"}
	grids := []string{"g1", "g2"}
	commit := func(tk *model.Ticket, ev model.Event) {
		t.Helper()
		ev.At = clk.now()
		if err := tk.Append(ev); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		if err := tickets.Update(ctx, tk); err != nil {
			t.Fatalf("update: %v", err)
		}
		clk.advance(time.Duration(rng.IntN(600)) * time.Minute)
	}
	var ids []string
	for i := range n {
		now := clk.now()
		tk := &model.Ticket{ID: model.NewID(now), ReporterID: "r" + string(rune('a'+i%5)), Category: cats[rng.IntN(len(cats))],
			Description: "x", Location: model.Location{Lat: 32, Lng: 118, CoordType: model.CoordWGS84}, Point: model.Point{Lat: 32, Lng: 118},
			PhotoIDs: []string{"p"}, Status: model.StatusSubmitted, Reporters: 1, CreatedAt: now}
		_ = tk.Append(model.Event{At: now, Type: model.EventReported, Status: model.StatusSubmitted})
		if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
		switch r := rng.IntN(10); {
		case r == 0:
			commit(tk, model.Event{Type: model.EventRejected, Status: model.StatusRejected})
			continue
		case r == 1:
			tk.DuplicateOf = ids[0]
			commit(tk, model.Event{Type: model.EventMerged, Status: model.StatusMerged})
			continue
		}
		tk.RegisteredAt = clk.now()
		tk.GridCode, tk.Community = grids[rng.IntN(2)], "c1"
		tk.DueAt = tk.RegisteredAt.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		commit(tk, model.Event{Type: model.EventRegistered, Status: model.StatusPending})
		for round := 0; ; round++ {
			if rng.IntN(3) == 0 {
				tk.AssigneeID, tk.AssigneeRole = members[rng.IntN(2)], model.RolePartyMember
				commit(tk, model.Event{Type: model.EventClaimed, Status: model.StatusInProgress, ActorRole: model.RolePartyMember})
			} else {
				tk.AssigneeID, tk.AssigneeRole = workers[rng.IntN(3)], model.RoleGridWorker
				commit(tk, model.Event{Type: model.EventDispatched, Status: model.StatusDispatched})
				if rng.IntN(5) == 0 { // returned, to someone else
					tk.Returns++
					tk.AssigneeID = workers[(slicesIndex(workers, tk.AssigneeID)+1)%3]
					commit(tk, model.Event{Type: model.EventReturned, Status: model.StatusDispatched})
				}
				commit(tk, model.Event{Type: model.EventAccepted, Status: model.StatusInProgress})
			}
			if rng.IntN(4) == 0 {
				tk.Escalated, tk.Overdue = true, true
				commit(tk, model.Event{Type: model.EventEscalated})
			}
			if rng.IntN(8) == 0 && round == 0 {
				commit(tk, model.Event{Type: model.EventRejected, Status: model.StatusRejected})
				break
			}
			tk.Resolution = &model.Resolution{Note: "ok", PhotoIDs: []string{"a"}, ResolvedAt: clk.now(), ResolverID: tk.AssigneeID}
			commit(tk, model.Event{Type: model.EventResolved, Status: model.StatusResolved})
			switch f := rng.IntN(4); {
			case f == 0 && round < 2: // not satisfied: 返工
				tk.Feedback = &model.Feedback{Satisfied: false, Rating: 2, At: clk.now()}
				tk.Reopens++
				tk.Resolution, tk.Escalated = nil, false
				commit(tk, model.Event{Type: model.EventReopened, Status: model.StatusPending, ActorRole: model.RoleResident})
				continue
			case f == 1: // no answer: closed by the window
				commit(tk, model.Event{Type: model.EventClosed, Status: model.StatusClosed})
			case f == 2:
				// still waiting for feedback
			default:
				tk.Feedback = &model.Feedback{Satisfied: true, Rating: 5, At: clk.now()}
				commit(tk, model.Event{Type: model.EventClosed, Status: model.StatusClosed, ActorRole: model.RoleResident})
			}
			break
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
// rules written out here rather than through service.Contribute.
func independent(t *testing.T, ctx context.Context, tickets *store.Tickets, ids []string) service.Counts {
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
		if tk.Overdue {
			c.Overdue++
		}
		for _, e := range tk.Timeline {
			if e.Type == model.EventReopened {
				c.Reopened++
				c.Rated++
			}
			if e.Type == model.EventClosed && e.ActorRole == model.RoleResident {
				c.Rated++
				c.Satisfied++
			}
		}
		if tk.Status == model.StatusClosed {
			c.Closed++
			if tk.Resolution != nil {
				c.Resolved++
				if !tk.Overdue && !tk.Resolution.ResolvedAt.After(tk.DueAt) {
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
	tickets := store.NewTickets(m, clk.now)
	if marked {
		tickets.UseStatsMarks(store.NewStatsCursor(m, true, clk.now))
	}
	rollups := store.NewRollups(m, r)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	newStats := func(owner string) *service.Stats {
		return service.NewStats(service.StatsDeps{
			Log: tickets, Cursor: store.NewStatsCursor(m, marked, clk.now), Rollups: rollups, Locks: store.NewLocks(r), Owner: owner,
			Categories: service.NewCategories(store.NewCategories(m, clk.now), time.Minute, clk.now),
			Grids:      service.NewGrids(store.NewGrids(m, clk.now), 0, logger), Now: clk.now, Logger: logger,
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
	ids := flows(t, ctx, tickets, clk, rand.New(rand.NewPCG(7, 11)), 14)
	close(stop)
	wg.Wait()
	drain(t, ctx, a)

	year := service.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 12, 31, 0, 0, 0, 0, shanghai())}
	want := independent(t, ctx, tickets, ids)
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
			for _, by := range []string{"", service.ByCategory, service.ByGrid, service.ByWorker} {
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
