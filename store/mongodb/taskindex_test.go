package mongodb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// commit moves tk through one transition as the services do.
func commit(t *testing.T, tickets *mongodb.Tickets, tk *model.Ticket, status model.Status, assignee string) {
	t.Helper()
	tk.Status, tk.AssigneeID = status, assignee
	if err := tickets.Update(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
}

func ids(ts []*model.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestTaskIndexFollowsCommitsAndServesReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tickets := mongodb.NewTickets(testenv.Mongo(t), time.Now)
	index := redis.NewTaskIndex(testenv.Redis(t))
	tickets.UseIndex(index)
	build := func() {
		t.Helper()
		if _, err := index.FinishRebuild(ctx, index.BeginRebuild(), nil); err != nil {
			t.Fatal(err)
		}
	}
	build() // nothing open yet: an empty, built index

	a, b := newTicket(time.Now()), newTicket(time.Now().Add(time.Second))
	b.Point = model.Point{Lat: 32.0405, Lng: 118.78} // ~55 m north of a
	for _, tk := range []*model.Ticket{a, b} {
		if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
			t.Fatal(err)
		}
		commit(t, tickets, tk, model.StatusPending, "")
	}
	near, err := tickets.Near(ctx, a.Point, 100, "0101", []model.Status{model.StatusPending}, time.Time{}, 10)
	if err != nil || !slices.Equal(ids(near), []string{a.ID, b.ID}) {
		t.Fatalf("near = %v, %v; want a then b", ids(near), err)
	}
	if near, _ := tickets.Near(ctx, a.Point, 30, "0101", []model.Status{model.StatusPending}, time.Time{}, 10); !slices.Equal(ids(near), []string{a.ID}) {
		t.Fatalf("within 30 m = %v; want only a", ids(near))
	}
	if near, _ := tickets.Near(ctx, a.Point, 100, "0202", []model.Status{model.StatusPending}, time.Time{}, 10); len(near) != 0 {
		t.Fatalf("another category found %v", ids(near))
	}

	commit(t, tickets, a, model.StatusDispatched, "w1")
	commit(t, tickets, b, model.StatusDispatched, "w1")
	loads, err := tickets.OpenLoads(ctx, []string{"w1", "w2"})
	if err != nil || loads["w1"] != 2 || loads["w2"] != 0 {
		t.Fatalf("loads = %v, %v; want w1:2 w2:0", loads, err)
	}
	open := []model.Status{model.StatusDispatched, model.StatusInProgress}
	page, next, err := tickets.ListAssigned(ctx, "w1", open, "", 1)
	if err != nil || !slices.Equal(ids(page), []string{b.ID}) || next == "" {
		t.Fatalf("first page = %v %q %v; want b, more", ids(page), next, err)
	}
	if page, next, _ = tickets.ListAssigned(ctx, "w1", open, next, 1); !slices.Equal(ids(page), []string{a.ID}) || next != "" {
		t.Fatalf("second page = %v %q; want a, end", ids(page), next)
	}

	// Re-assignment moves the task; resolution takes it off the list and
	// off the map.
	commit(t, tickets, a, model.StatusDispatched, "w2")
	commit(t, tickets, b, model.StatusResolved, "w1")
	if loads, _ := tickets.OpenLoads(ctx, []string{"w1", "w2"}); loads["w1"] != 0 || loads["w2"] != 1 {
		t.Fatalf("after re-assignment and resolution loads = %v; want w1:0 w2:1", loads)
	}
	if near, _ := tickets.Near(ctx, a.Point, 100, "", []model.Status{model.StatusPending, model.StatusDispatched}, time.Time{}, 10); !slices.Equal(ids(near), []string{a.ID}) {
		t.Fatalf("near after resolution = %v; want only a", ids(near))
	}

	// A delayed sync of an older version changes nothing.
	old := *a
	old.Version, old.AssigneeID = 1, "w1"
	if err := index.Sync(ctx, &old); err != nil {
		t.Fatal(err)
	}
	if loads, _ := tickets.OpenLoads(ctx, []string{"w1", "w2"}); loads["w1"] != 0 || loads["w2"] != 1 {
		t.Fatalf("a stale sync moved the task: loads = %v", loads)
	}

	// An entry the index kept by mistake (a crash between commit and
	// sync) is never listed, and a rebuild that did not find it open
	// prunes it.
	ghost := *b
	ghost.ID, ghost.Version, ghost.Status, ghost.AssigneeID = model.NewID(time.Now()), 1, model.StatusDispatched, "w2"
	if err := index.Sync(ctx, &ghost); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // the ghost's sync must be before the pass began, to the millisecond
	if page, _, _ := tickets.ListAssigned(ctx, "w2", open, "", 10); !slices.Equal(ids(page), []string{a.ID}) {
		t.Fatalf("w2's tasks = %v; want only a", ids(page))
	}
	began := index.BeginRebuild()
	time.Sleep(5 * time.Millisecond)
	if err := index.Sync(ctx, a); err != nil { // the pass finds a open
		t.Fatal(err)
	}
	pruned, err := index.FinishRebuild(ctx, began, map[string]bool{a.ID: true})
	if err != nil || pruned != 2 { // the ghost's task and map entries
		t.Fatalf("pruned %d, %v; want 2", pruned, err)
	}
	if loads, _ := tickets.OpenLoads(ctx, []string{"w2"}); loads["w2"] != 1 {
		t.Fatalf("after the rebuild w2's load = %d; want 1", loads["w2"])
	}
}

func TestTaskIndexFallsBackToMongoUntilBuilt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tickets := mongodb.NewTickets(testenv.Mongo(t), time.Now)
	index := redis.NewTaskIndex(testenv.Redis(t))
	tickets.UseIndex(index)
	tk := newTicket(time.Now())
	if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
		t.Fatal(err)
	}
	commit(t, tickets, tk, model.StatusDispatched, "w1")
	// Not built (a fresh or flushed Redis): MongoDB answers.
	if built, _ := index.Built(ctx); built {
		t.Fatal("a fresh index says it is built")
	}
	loads, err := tickets.OpenLoads(ctx, []string{"w1"})
	if err != nil || loads["w1"] != 1 {
		t.Fatalf("loads = %v, %v; want w1:1 from MongoDB", loads, err)
	}
	page, _, err := tickets.ListAssigned(ctx, "w1", []model.Status{model.StatusDispatched}, "", 10)
	if err != nil || !slices.Equal(ids(page), []string{tk.ID}) {
		t.Fatalf("tasks = %v, %v", ids(page), err)
	}
}
