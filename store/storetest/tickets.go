package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The tickets group: Insert (case numbers, idempotency), Get, Commit's
// precondition, Load, and every list but the staff search's words (see
// search.go).

func runTickets(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"InsertGetAndIdem", testInsertGetAndIdem},
		{"CaseNumbersPerChinaDay", testCaseNumbersPerChinaDay},
		{"CaseNumbersUniqueUnderConcurrentInserts", testCaseNumbersConcurrent},
		{"CommitPreconditions", testCommitPreconditions},
		{"CommitExactlyOneWinner", testCommitOneWinner},
		{"Load", testLoad},
		{"ListByReporterPages", testListByReporter},
		{"TasksLoadsPoolNear", testTasksLoadsPoolNear},
		{"StaleAndOpen", testStaleAndOpen},
		{"Public", testPublic},
		{"History", testHistory},
		{"ListStaffFilters", testListStaffFilters},
		{"ListStaffSortsAndCursors", testListStaffSorts},
		{"ListStaffTotals", testListStaffTotals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

var ctx = context.Background()

// base is a Tuesday morning, China time; every test's clock starts there.
var base = time.Date(2026, 5, 12, 1, 0, 0, 0, time.UTC)

// report is a new report at `at` (its id made at that time), submitted.
func report(at time.Time, mods ...func(*model.Ticket)) *model.Ticket {
	tk := &model.Ticket{
		ID: model.NewID(at), ReporterID: "r1", Category: "0101", Description: "路边垃圾堆积",
		Location: model.Location{Lat: 32.04, Lng: 118.78, CoordType: model.CoordWGS84},
		Point:    model.Point{Lat: 32.04, Lng: 118.78}, Address: "鼓楼区中山路1号", PhotoIDs: []string{"p1"},
	}
	for _, m := range mods {
		m(tk)
	}
	if err := tk.Report(model.Act{At: at, By: model.Actor{ID: tk.ReporterID, Role: model.RoleResident}}); err != nil {
		panic(err)
	}
	return tk
}

func mustInsert(t *testing.T, s Tickets, tk *model.Ticket) *model.Ticket {
	t.Helper()
	if err := s.Insert(ctx, tk, "t:"+tk.ID, "h:"+tk.ID); err != nil {
		t.Fatalf("insert %s: %v", tk.ID, err)
	}
	return tk
}

// clone is a deep copy of a ticket: what a service holds as "before".
func clone(tk *model.Ticket) *model.Ticket {
	c := *tk
	c.Timeline = slices.Clone(tk.Timeline)
	c.PhotoIDs, c.Followers, c.ReturnedBy = slices.Clone(tk.PhotoIDs), slices.Clone(tk.Followers), slices.Clone(tk.ReturnedBy)
	c.MergedIDs, c.PhotoFlags = slices.Clone(tk.MergedIDs), slices.Clone(tk.PhotoFlags)
	if tk.Resolution != nil {
		r := *tk.Resolution
		r.PhotoIDs = slices.Clone(r.PhotoIDs)
		c.Resolution = &r
	}
	if tk.Feedback != nil {
		f := *tk.Feedback
		c.Feedback = &f
	}
	if tk.Extension != nil {
		x := *tk.Extension
		c.Extension = &x
	}
	return &c
}

// step applies a workflow step to a copy of tk and commits it; it returns
// the committed ticket.
func step(t *testing.T, s Tickets, tk *model.Ticket, fn func(*model.Ticket) error) *model.Ticket {
	t.Helper()
	after := clone(tk)
	if err := fn(after); err != nil {
		t.Fatalf("step on %s: %v", tk, err)
	}
	if err := s.Commit(ctx, tk, after); err != nil {
		t.Fatalf("commit %s: %v", tk, err)
	}
	if after.Version != tk.Version+1 {
		t.Fatalf("commit set version %d, want %d", after.Version, tk.Version+1)
	}
	return after
}

var sla = model.SLA{Hours: 24}

func act(at time.Time, by model.Actor) model.Act { return model.Act{At: at, By: by} }

func worker(id string) model.Actor {
	return model.Actor{ID: id, Role: model.RoleGridWorker, Name: "张*"}
}

func register(at time.Time) func(*model.Ticket) error {
	return func(tk *model.Ticket) error { return tk.Register(act(at, model.Actor{}), sla) }
}

func route(at time.Time, grid, community string, to model.Actor, pool bool) func(*model.Ticket) error {
	return func(tk *model.Ticket) error {
		return tk.Route(act(at, model.Actor{}), model.Routing{GridCode: grid, Community: community, Assignee: to, AcceptBy: at.Add(time.Hour), Pool: pool})
	}
}

func accept(at time.Time, by model.Actor) func(*model.Ticket) error {
	return func(tk *model.Ticket) error { return tk.Accept(act(at, by)) }
}

func resolve(at time.Time, by model.Actor) func(*model.Ticket) error {
	return func(tk *model.Ticket) error { return tk.Resolve(act(at, by), []string{"p2"}, nil) }
}

func confirm(at time.Time) func(*model.Ticket) error {
	return func(tk *model.Ticket) error {
		return tk.Confirm(act(at, model.Actor{ID: tk.ReporterID, Role: model.RoleResident}), model.Feedback{Satisfied: true, Rating: 5})
	}
}

func escalate(at time.Time) func(*model.Ticket) error {
	return func(tk *model.Ticket) error { return tk.Escalate(act(at, model.Actor{})) }
}

// life takes a fresh inserted ticket through registration, routing to w
// in grid, acceptance, resolution and confirmation, as far as stop steps.
func life(t *testing.T, s Tickets, tk *model.Ticket, grid string, w model.Actor, stop int) *model.Ticket {
	t.Helper()
	at := tk.CreatedAt
	steps := []func(*model.Ticket) error{
		register(at.Add(time.Minute)),
		route(at.Add(2*time.Minute), grid, "c-"+grid, w, false),
		accept(at.Add(3*time.Minute), w),
		resolve(at.Add(time.Hour), w),
		confirm(at.Add(2 * time.Hour)),
	}
	for _, fn := range steps[:stop] {
		tk = step(t, s, tk, fn)
	}
	return tk
}

func ids(ts []*model.Ticket) []string {
	out := make([]string, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID
	}
	return out
}

// normal is a ticket as every engine returns it: times in UTC to the
// millisecond, empty lists nil, the source set.
func normal(tk *model.Ticket) *model.Ticket {
	c := clone(tk)
	tm := func(p *time.Time) { *p = p.UTC().Truncate(time.Millisecond) }
	nl := func(p *[]string) {
		if len(*p) == 0 {
			*p = nil
		}
	}
	tm(&c.CreatedAt)
	tm(&c.UpdatedAt)
	tm(&c.RegisteredAt)
	tm(&c.DueAt)
	tm(&c.AcceptBy)
	tm(&c.DeferredAt)
	c.DeferredLeft = c.DeferredLeft.Truncate(time.Second)
	for i := range c.Timeline {
		tm(&c.Timeline[i].At)
	}
	if len(c.Timeline) == 0 {
		c.Timeline = nil
	}
	if c.Resolution != nil {
		tm(&c.Resolution.ResolvedAt)
		nl(&c.Resolution.PhotoIDs)
	}
	if c.Feedback != nil {
		tm(&c.Feedback.At)
	}
	if c.Extension != nil {
		tm(&c.Extension.RequestedAt)
		tm(&c.Extension.DecidedAt)
	}
	nl(&c.PhotoIDs)
	nl(&c.Followers)
	nl(&c.ReturnedBy)
	nl(&c.MergedIDs)
	nl(&c.PhotoFlags)
	if c.Source == "" {
		c.Source = model.SourceWeChat
	}
	return c
}

func sameTicket(t *testing.T, what string, got, want *model.Ticket) {
	t.Helper()
	g, w := normal(got), normal(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testInsertGetAndIdem(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	tk := report(base, func(tk *model.Ticket) {
		tk.Source, tk.CallerName, tk.CallerPhone = model.SourceHotline, "王先生", "13800000000"
		tk.Description, tk.Address = `说明里有"引号"和 emoji 🚧`, "玄武区北京东路 41 号"
	})
	if err := s.Insert(ctx, tk, "idem-1", "hash-1"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tk.CaseNo, "20260512-") {
		t.Fatalf("case number %q, want 20260512-NNNN", tk.CaseNo)
	}
	got, err := s.Get(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTicket(t, "Get after Insert", got, tk)
	byCase, err := s.GetByCaseNo(ctx, tk.CaseNo)
	if err != nil || byCase.ID != tk.ID {
		t.Fatalf("GetByCaseNo(%s) = %v, %v", tk.CaseNo, byCase, err)
	}
	byIdem, hash, err := s.ByIdem(ctx, "idem-1")
	if err != nil || byIdem.ID != tk.ID || hash != "hash-1" {
		t.Fatalf("ByIdem = %v %q %v", byIdem, hash, err)
	}

	// The same submission again: a conflict, and nothing of it stored.
	again := report(base.Add(time.Second))
	if err := s.Insert(ctx, again, "idem-1", "hash-2"); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("second insert with the same idem: %v, want conflict", err)
	}
	if _, err := s.Get(ctx, again.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the refused ticket: %v, want not_found", err)
	}
	// The same id again (another idem): a conflict.
	dup := clone(tk)
	if err := s.Insert(ctx, dup, "idem-2", ""); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("insert of a taken id: %v, want conflict", err)
	}
	for what, err := range map[string]error{
		"Get":         func() error { _, err := s.Get(ctx, model.NewID(base)); return err }(),
		"GetByCaseNo": func() error { _, err := s.GetByCaseNo(ctx, "20260512-9999"); return err }(),
		"ByIdem":      func() error { _, _, err := s.ByIdem(ctx, "nope"); return err }(),
	} {
		if !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s of nothing: %v, want not_found", what, err)
		}
	}
	// A full life reads back whole.
	tk = life(t, s, tk, "g1", worker("w1"), 5)
	got, err = s.Get(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTicket(t, "Get after a life", got, tk)
}

func testCaseNumbersPerChinaDay(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	// 15:59:59 UTC is 23:59:59 in China; 16:00 UTC is the next day there.
	late := time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC)
	a := mustInsert(t, s, report(late))
	b := mustInsert(t, s, report(late.Add(-time.Hour)))
	c := mustInsert(t, s, report(late.Add(time.Second)))
	d := mustInsert(t, s, report(late.Add(2*time.Second)))
	want := []string{"20260301-0001", "20260301-0002", "20260302-0001", "20260302-0002"}
	if got := []string{a.CaseNo, b.CaseNo, c.CaseNo, d.CaseNo}; !slices.Equal(got, want) {
		t.Fatalf("case numbers %v, want %v", got, want)
	}
}

func testCaseNumbersConcurrent(t *testing.T, open Open) {
	eng := open(t)
	stores := []Tickets{eng("a").Tickets, eng("b").Tickets}
	const n = 40
	nos := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := report(base.Add(time.Duration(i) * time.Second))
			if err := stores[i%2].Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
				t.Error(err)
				return
			}
			nos[i] = tk.CaseNo
		}()
	}
	wg.Wait()
	slices.Sort(nos)
	for i, no := range nos {
		if want := fmt.Sprintf("20260512-%04d", i+1); no != want {
			t.Fatalf("case numbers %v: want 20260512-0001 … -%04d, each once", nos, n)
		}
	}
}

func testCommitPreconditions(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	tk := mustInsert(t, s, report(base))
	v1 := step(t, s, tk, register(base.Add(time.Minute)))
	got, err := s.Get(ctx, tk.ID)
	if err != nil || got.Version != 1 || got.Status != model.StatusPending {
		t.Fatalf("after commit: %v %v", got, err)
	}
	sameTicket(t, "Get after Commit", got, v1)
	// A writer still holding version 0 loses, and changes nothing.
	stale := clone(tk)
	if err := stale.Reject(act(base.Add(2*time.Minute), model.Actor{})); err != nil {
		t.Fatal(err)
	}
	err = s.Commit(ctx, tk, stale)
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.CodeConflict || !strings.Contains(me.Message, "工单刚被修改") {
		t.Fatalf("commit on a stale version: %v, want conflict 工单刚被修改；请刷新后重试", err)
	}
	if got, _ := s.Get(ctx, tk.ID); got.Version != 1 || got.Status != model.StatusPending {
		t.Fatalf("a lost commit changed the ticket: %v", got)
	}
	// A ticket that does not exist.
	ghost := report(base)
	if err := s.Commit(ctx, ghost, clone(ghost)); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("commit of a ticket never stored: %v, want not_found", err)
	}
}

func testCommitOneWinner(t *testing.T, open Open) {
	eng := open(t)
	stores := []Tickets{eng("a").Tickets, eng("b").Tickets}
	tk := mustInsert(t, stores[0], report(base))
	tk = step(t, stores[0], tk, register(base.Add(time.Minute)))
	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := clone(tk)
			w := worker(fmt.Sprintf("w%d", i))
			if err := mine.Route(act(base.Add(2*time.Minute), model.Actor{}), model.Routing{GridCode: "g1", Assignee: w}); err != nil {
				t.Error(err)
				return
			}
			switch err := stores[i%2].Commit(ctx, tk, mine); {
			case err == nil:
				wins.Add(1)
				winner.Store(w.ID)
			case !errors.Is(err, model.ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers committed version 2; want exactly 1", wins.Load())
	}
	got, _ := stores[1].Get(ctx, tk.ID)
	if got.Version != 2 || got.AssigneeID != winner.Load() {
		t.Fatalf("stored v%d assigned to %s; want v2 assigned to the winner %s", got.Version, got.AssigneeID, winner.Load())
	}
}

// loaded is a ticket with its history written: n steps of a life.
func loaded(t *testing.T, at time.Time, n int, grid string, w model.Actor) *model.Ticket {
	t.Helper()
	tk := report(at)
	fns := []func(*model.Ticket) error{register(at.Add(time.Minute)), route(at.Add(2*time.Minute), grid, "c-"+grid, w, false),
		accept(at.Add(3*time.Minute), w), resolve(at.Add(time.Hour), w), confirm(at.Add(2 * time.Hour))}
	for _, fn := range fns[:n] {
		if err := fn(tk); err != nil {
			t.Fatal(err)
		}
		tk.Version++
	}
	return tk
}

func testLoad(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	// Out of order, one with its case number given.
	a := loaded(t, base.Add(3*time.Hour), 5, "g1", worker("w1"))
	b := loaded(t, base.Add(time.Hour), 2, "g1", worker("w1"))
	c := loaded(t, base.Add(2*time.Hour), 0, "g2", worker("w2"))
	given := loaded(t, base.Add(30*time.Minute), 3, "g2", worker("w2"))
	given.CaseNo = "20260512-0007"
	if err := s.Load(ctx, []*model.Ticket{a, b, c, given}); err != nil {
		t.Fatal(err)
	}
	if got := []string{b.CaseNo, c.CaseNo, a.CaseNo, given.CaseNo}; !slices.Equal(got, []string{"20260512-0008", "20260512-0009", "20260512-0010", "20260512-0007"}) {
		// The given number is kept and the day's counter moves past it;
		// the others follow in CreatedAt order.
		t.Fatalf("case numbers (b, c, a, given) = %v", got)
	}
	for _, tk := range []*model.Ticket{a, b, c, given} {
		got, err := s.Get(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameTicket(t, "Get after Load", got, tk)
	}
	if next := mustInsert(t, s, report(base.Add(4*time.Hour))); next.CaseNo != "20260512-0011" {
		t.Fatalf("insert after load: %s, want 20260512-0011", next.CaseNo)
	}
	// A batch with a taken id stores none of itself.
	fresh := loaded(t, base.Add(5*time.Hour), 1, "g1", worker("w1"))
	if err := s.Load(ctx, []*model.Ticket{fresh, clone(a)}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("load of a taken id: %v, want conflict", err)
	}
	if _, err := s.Get(ctx, fresh.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the batch's other ticket: %v, want not_found", err)
	}
	// Load hands nothing off.
	hs, err := s.Unrelayed(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.TicketID != "" && slices.Contains([]string{a.ID, b.ID, c.ID, given.ID}, h.TicketID) {
			t.Fatalf("a loaded ticket has a handoff: %+v", h)
		}
	}
}

func testListByReporter(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	var mine []string
	for i := range 7 {
		at := base.Add(time.Duration(i) * time.Minute)
		tk := mustInsert(t, s, report(at, func(tk *model.Ticket) { tk.ReporterID = "me" }))
		mine = append(mine, tk.ID)
		mustInsert(t, s, report(at.Add(time.Second), func(tk *model.Ticket) { tk.ReporterID = "other" }))
	}
	slices.Reverse(mine)
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := s.ListByReporter(ctx, "me", cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, mine) {
		t.Fatalf("pages %v, want newest first %v", got, mine)
	}
	if page, next, err := s.ListByReporter(ctx, "nobody", "", 3); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("nobody's reports: %v %q %v", ids(page), next, err)
	}
}

func testTasksLoadsPoolNear(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	w1, w2 := worker("w1"), worker("w2")
	a := mustInsert(t, s, report(base))
	b := mustInsert(t, s, report(base.Add(time.Second), func(tk *model.Ticket) {
		tk.Point = model.Point{Lat: 32.0405, Lng: 118.78} // ~55 m north of a
		tk.Category = "0202"
	}))
	far := mustInsert(t, s, report(base.Add(2*time.Second), func(tk *model.Ticket) { tk.Point = model.Point{Lat: 32.06, Lng: 118.80} }))
	for _, tk := range []**model.Ticket{&a, &b, &far} {
		*tk = step(t, s, *tk, register(base.Add(time.Minute)))
	}
	pending := []model.Status{model.StatusPending}
	near, err := s.Near(ctx, a.Point, 100, "", pending, time.Time{}, 10)
	if got := ids(near); err != nil || !sameSet(got, []string{a.ID, b.ID}) {
		t.Fatalf("near 100 m = %v, %v; want a and b", got, err)
	}
	if near, _ := s.Near(ctx, a.Point, 100, "0202", pending, time.Time{}, 10); !slices.Equal(ids(near), []string{b.ID}) {
		t.Fatalf("near of category 0202 = %v; want b", ids(near))
	}
	if near, _ := s.Near(ctx, a.Point, 100, "", pending, base.Add(time.Second), 10); !slices.Equal(ids(near), []string{b.ID}) {
		t.Fatalf("near created since b = %v; want b", ids(near))
	}
	if near, _ := s.Near(ctx, a.Point, 100, "", []model.Status{model.StatusDispatched}, time.Time{}, 10); len(near) != 0 {
		t.Fatalf("near dispatched = %v; want none", ids(near))
	}

	a = step(t, s, a, route(base.Add(2*time.Minute), "g1", "c1", w1, false))
	b = step(t, s, b, route(base.Add(2*time.Minute), "g1", "c1", w1, false))
	far = step(t, s, far, route(base.Add(2*time.Minute), "g1", "c1", model.Actor{}, true)) // pooled, queued
	loads, err := s.OpenLoads(ctx, []string{"w1", "w2"})
	if err != nil || loads["w1"] != 2 || loads["w2"] != 0 || len(loads) != 2 {
		t.Fatalf("loads = %v, %v; want w1:2 w2:0", loads, err)
	}
	open2 := []model.Status{model.StatusDispatched, model.StatusInProgress}
	page, next, err := s.ListAssigned(ctx, "w1", open2, "", 1)
	if err != nil || !slices.Equal(ids(page), []string{b.ID}) || next == "" {
		t.Fatalf("first page = %v %q %v; want b, more", ids(page), next, err)
	}
	if page, next, _ = s.ListAssigned(ctx, "w1", open2, next, 1); !slices.Equal(ids(page), []string{a.ID}) || next != "" {
		t.Fatalf("second page = %v %q; want a, end", ids(page), next)
	}
	if page, _, _ := s.ListAssigned(ctx, "w1", append(open2, open2...), "", 10); !slices.Equal(ids(page), []string{b.ID, a.ID}) {
		t.Fatalf("statuses named twice = %v; want b, a once each", ids(page))
	}
	if loads, _ := s.OpenLoads(ctx, []string{"w1", "w1"}); loads["w1"] != 2 {
		t.Fatalf("loads of a user named twice = %v", loads)
	}
	if _, _, err := s.ListAssigned(ctx, "w1", open2, model.NewID(base), 1); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a cursor naming no ticket: %v, want invalid_argument", err)
	}
	pool, _, err := s.ListPool(ctx, []string{"c1", "c9"}, "", 10)
	if err != nil || !slices.Equal(ids(pool), []string{far.ID}) {
		t.Fatalf("pool = %v, %v; want far", ids(pool), err)
	}
	if pool, _, _ := s.ListPool(ctx, []string{"c9"}, "", 10); len(pool) != 0 {
		t.Fatalf("pool of another community = %v", ids(pool))
	}

	// Acceptance keeps the task; re-dispatch moves it; resolution ends it.
	a = step(t, s, a, accept(base.Add(3*time.Minute), w1))
	b = step(t, s, b, func(tk *model.Ticket) error {
		return tk.Dispatch(act(base.Add(4*time.Minute), model.Actor{}), w2, time.Time{}, sla)
	})
	a = step(t, s, a, resolve(base.Add(5*time.Minute), w1))
	far = step(t, s, far, func(tk *model.Ticket) error {
		return tk.Claim(act(base.Add(6*time.Minute), model.Actor{ID: "m1", Role: model.RolePartyMember}))
	})
	if loads, _ := s.OpenLoads(ctx, []string{"w1", "w2", "m1"}); loads["w1"] != 0 || loads["w2"] != 1 || loads["m1"] != 1 {
		t.Fatalf("loads after the moves = %v; want w1:0 w2:1 m1:1", loads)
	}
	if page, _, _ := s.ListAssigned(ctx, "w1", []model.Status{model.StatusResolved}, "", 10); !slices.Equal(ids(page), []string{a.ID}) {
		t.Fatalf("w1's resolved = %v; want a", ids(page))
	}
	if pool, _, _ := s.ListPool(ctx, []string{"c1"}, "", 10); len(pool) != 0 {
		t.Fatalf("pool after the claim = %v", ids(pool))
	}
	if near, _ := s.Near(ctx, a.Point, 100, "", []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}, time.Time{}, 10); !slices.Equal(ids(near), []string{b.ID}) {
		t.Fatalf("open near a after it was resolved = %v; want b", ids(near))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func testStaleAndOpen(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	var sub []*model.Ticket
	for i := range 4 {
		sub = append(sub, mustInsert(t, s, report(base.Add(time.Duration(i)*time.Minute))))
	}
	// sub[0] held, sub[1] registered: neither is a plain submitted one.
	sub[0] = step(t, s, sub[0], func(tk *model.Ticket) error { return tk.Hold(act(base.Add(10*time.Minute), model.Actor{})) })
	sub[1] = step(t, s, sub[1], register(base.Add(10*time.Minute)))
	got, err := s.Stale(ctx, model.StatusSubmitted, false, base.Add(5*time.Minute), 10)
	if err != nil || !slices.Equal(got, []string{sub[2].ID, sub[3].ID}) {
		t.Fatalf("stale submitted = %v, %v; want sub2, sub3 (oldest change first)", got, err)
	}
	if got, _ := s.Stale(ctx, model.StatusSubmitted, false, base.Add(5*time.Minute), 1); !slices.Equal(got, []string{sub[2].ID}) {
		t.Fatalf("stale with limit 1 = %v", got)
	}
	if got, _ := s.Stale(ctx, model.StatusSubmitted, true, base.Add(time.Hour), 10); !slices.Equal(got, []string{sub[0].ID}) {
		t.Fatalf("stale held = %v; want sub0", got)
	}
	if got, _ := s.Stale(ctx, model.StatusSubmitted, true, base.Add(10*time.Minute), 10); len(got) != 0 {
		t.Fatalf("stale held before its change = %v; want none", got)
	}

	// Open: pending, dispatched, in progress, resolved — in id order.
	w := worker("w1")
	p := sub[1]
	d := step(t, s, mustInsert(t, s, report(base.Add(time.Hour))), register(base.Add(time.Hour)))
	d = step(t, s, d, route(base.Add(time.Hour), "g1", "c1", w, false))
	r := life(t, s, mustInsert(t, s, report(base.Add(2*time.Hour))), "g1", w, 4)
	life(t, s, mustInsert(t, s, report(base.Add(3*time.Hour))), "g1", w, 5) // closed
	want := []string{p.ID, d.ID, r.ID}
	slices.Sort(want)
	var all []string
	after := ""
	for range 5 {
		ts, err := s.Open(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) == 0 {
			break
		}
		all = append(all, ids(ts)...)
		after = ts[len(ts)-1].ID
	}
	if !slices.Equal(all, want) {
		t.Fatalf("open tickets %v, want %v in id order", all, want)
	}
}

func testPublic(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }
	mk := func(i int, cat string, st model.Status) string {
		tk := report(at(i), func(tk *model.Ticket) { tk.Category = cat })
		tk.Status = st
		mustInsert(t, s, tk)
		return tk.ID
	}
	a := mk(0, "0101", model.StatusDispatched)
	b := mk(1, "0101", model.StatusClosed)
	c := mk(2, "1101", model.StatusPending)
	sub := mk(3, "0101", model.StatusSubmitted)
	rej := mk(4, "0101", model.StatusRejected)
	list := func(q model.PublicQuery) []string {
		t.Helper()
		ts, err := s.Public(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return ids(ts)
	}
	all := model.PublicQuery{From: base, To: base.Add(24 * time.Hour)}
	if got := list(all); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("public, newest first: %v", got)
	}
	if got := list(model.PublicQuery{}); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("public without bounds: %v", got)
	}
	q := all
	q.Categories = []string{"0101"}
	if got := list(q); !slices.Equal(got, []string{b, a}) {
		t.Fatalf("category: %v", got)
	}
	q.Categories = []string{"0101", "1101", "9999"}
	if got := list(q); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("three categories: %v", got)
	}
	q.Categories = []string{"0101", "0101"}
	if got := list(q); !slices.Equal(got, []string{b, a}) {
		t.Fatalf("a category named twice: %v", got)
	}
	q = all
	q.Statuses = []model.Status{model.StatusClosed, model.StatusRejected}
	if got := list(q); !slices.Equal(got, []string{b}) {
		t.Fatalf("closed (rejected is never public): %v", got)
	}
	q.Statuses = []model.Status{model.StatusSubmitted}
	if got := list(q); len(got) != 0 {
		t.Fatalf("submitted only: %v", got)
	}
	q = all
	q.Statuses = []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}
	if got := list(q); !slices.Equal(got, []string{c, a}) {
		t.Fatalf("open: %v", got)
	}
	q = all
	q.Offset, q.Limit = 1, 1
	if got := list(q); !slices.Equal(got, []string{b}) {
		t.Fatalf("offset 1 limit 1: %v", got)
	}
	q.Offset, q.Limit = 3, 5
	if got := list(q); len(got) != 0 {
		t.Fatalf("offset past the end: %v", got)
	}
	q = all
	q.From, q.To = at(1), at(2) // both bounds included
	if got := list(q); !slices.Equal(got, []string{c, b}) {
		t.Fatalf("from and to included: %v", got)
	}
	if got := list(model.PublicQuery{IDs: []string{rej, a, sub, "nope", c}}); !slices.Equal(got, []string{a, c}) {
		t.Fatalf("by id, in order, public only: %v", got)
	}
}

func testHistory(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	tk := mustInsert(t, s, report(base))
	w1, w2 := worker("w1"), worker("w2")
	tk = step(t, s, tk, register(base.Add(time.Minute)))
	tk = step(t, s, tk, route(base.Add(2*time.Minute), "g1", "c1", w1, false))
	tk = step(t, s, tk, func(tk *model.Ticket) error {
		return tk.Dispatch(act(base.Add(3*time.Minute), model.Actor{ID: "staff1", Role: model.RoleStaff}), w2, time.Time{}, sla)
	})
	tk = step(t, s, tk, accept(base.Add(4*time.Minute), w2))
	h, err := s.History(ctx, tk.ID, tk.Version)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.TicketVersion{
		{Version: 1, Events: 2},
		{Version: 2, Events: 3, AssigneeID: "w1", AssigneeRole: model.RoleGridWorker},
		{Version: 3, Events: 4, AssigneeID: "w2", AssigneeRole: model.RoleGridWorker},
		{Version: 4, Events: 5, AssigneeID: "w2", AssigneeRole: model.RoleGridWorker},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("history %+v, want %+v", h, want)
	}
	if h, _ := s.History(ctx, tk.ID, 2); !reflect.DeepEqual(h, want[:2]) {
		t.Fatalf("history to version 2: %+v", h)
	}
}

// staffWorld is a set of tickets in every state the staff filters tell
// apart, inserted one minute apart in this order.
type staffWorld struct {
	s   Tickets
	all []*model.Ticket // by creation
	by  map[string]*model.Ticket
}

func newStaffWorld(t *testing.T, s Tickets) *staffWorld {
	t.Helper()
	w := &staffWorld{s: s, by: map[string]*model.Ticket{}}
	at := base
	add := func(name string, mods func(*model.Ticket), flow func(tk *model.Ticket) *model.Ticket) {
		at = at.Add(time.Minute)
		tk := mustInsert(t, s, report(at, func(tk *model.Ticket) {
			tk.Description = "工单 " + name
			if mods != nil {
				mods(tk)
			}
		}))
		if flow != nil {
			tk = flow(tk)
		}
		w.all = append(w.all, tk)
		w.by[name] = tk
	}
	w1 := worker("w1")
	at0 := func() time.Time { return at }
	add("submitted", nil, nil)
	add("held", nil, func(tk *model.Ticket) *model.Ticket {
		return step(t, s, tk, func(tk *model.Ticket) error { return tk.Hold(act(at0(), model.Actor{})) })
	})
	add("queued", func(tk *model.Ticket) { tk.Category = "0202" }, func(tk *model.Ticket) *model.Ticket {
		tk = step(t, s, tk, register(at0()))
		return step(t, s, tk, route(at0(), "g2", "c2", model.Actor{}, false))
	})
	add("dispatched", func(tk *model.Ticket) { tk.Source = model.SourceHotline }, func(tk *model.Ticket) *model.Ticket {
		return life(t, s, tk, "g1", w1, 2)
	})
	add("overdue", nil, func(tk *model.Ticket) *model.Ticket {
		tk = life(t, s, tk, "g1", w1, 3)
		return step(t, s, tk, escalate(tk.DueAt.Add(time.Minute)))
	})
	add("closed", func(tk *model.Ticket) { tk.Category = "0202" }, func(tk *model.Ticket) *model.Ticket {
		return life(t, s, tk, "g2", w1, 5)
	})
	add("late", func(tk *model.Ticket) { tk.Source = model.SourcePatrol }, func(tk *model.Ticket) *model.Ticket {
		tk = life(t, s, tk, "g1", w1, 3)
		tk = step(t, s, tk, escalate(tk.DueAt.Add(time.Minute)))
		tk = step(t, s, tk, resolve(tk.DueAt.Add(time.Hour), w1))
		return step(t, s, tk, confirm(tk.DueAt.Add(2*time.Hour)))
	})
	add("resolved", nil, func(tk *model.Ticket) *model.Ticket { return life(t, s, tk, "g2", w1, 4) })
	return w
}

// names lists the names of the world's tickets a page holds.
func (w *staffWorld) names(ts []*model.Ticket) []string {
	var out []string
	for _, tk := range ts {
		for name, x := range w.by {
			if x.ID == tk.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

func (w *staffWorld) list(t *testing.T, q model.TicketQuery, limit int) ([]string, int64) {
	t.Helper()
	var out []string
	cursor := ""
	var total int64 = -1
	for range 20 {
		p, err := w.s.ListStaff(ctx, q, cursor, limit)
		if err != nil {
			t.Fatalf("ListStaff(%+v): %v", q, err)
		}
		if total >= 0 && p.Total != total {
			t.Fatalf("ListStaff(%+v): total %d on one page, %d on the next", q, total, p.Total)
		}
		total = p.Total
		if len(p.Items) > limit {
			t.Fatalf("ListStaff: %d items for limit %d", len(p.Items), limit)
		}
		out = append(out, w.names(p.Items)...)
		if p.Next == "" {
			return out, total
		}
		cursor = p.Next
	}
	t.Fatal("ListStaff: more than 20 pages")
	return nil, 0
}

func ptr[T any](v T) *T { return &v }

func testListStaffFilters(t *testing.T, open Open) {
	w := newStaffWorld(t, open(t)("a").Tickets)
	newest := func(names ...string) []string {
		// names in the world's creation order, newest first.
		var out []string
		for i := len(w.all) - 1; i >= 0; i-- {
			for _, n := range names {
				if w.by[n] == w.all[i] {
					out = append(out, n)
				}
			}
		}
		return out
	}
	cases := []struct {
		name string
		q    model.TicketQuery
		want []string
	}{
		{"all", model.TicketQuery{}, newest("submitted", "held", "queued", "dispatched", "overdue", "closed", "late", "resolved")},
		{"status", model.TicketQuery{Statuses: []model.Status{model.StatusClosed}}, newest("closed", "late")},
		{"statuses", model.TicketQuery{Statuses: []model.Status{model.StatusSubmitted, model.StatusResolved, model.StatusDispatched}}, newest("submitted", "held", "dispatched", "resolved")},
		{"grid", model.TicketQuery{Grid: "g2"}, newest("queued", "closed", "resolved")},
		{"category", model.TicketQuery{Category: "0202"}, newest("queued", "closed")},
		{"source wechat", model.TicketQuery{Source: model.SourceWeChat}, newest("submitted", "held", "queued", "overdue", "closed", "resolved")},
		{"source hotline", model.TicketQuery{Source: model.SourceHotline}, newest("dispatched")},
		{"queue", model.TicketQuery{Queue: model.QueueStaff}, newest("queued")},
		{"overdue", model.TicketQuery{Overdue: ptr(true)}, newest("overdue")},
		{"not overdue", model.TicketQuery{Overdue: ptr(false), Grid: "g1"}, newest("dispatched", "late")},
		{"late", model.TicketQuery{Late: ptr(true)}, newest("late")},
		{"not late", model.TicketQuery{Late: ptr(false), Statuses: []model.Status{model.StatusClosed}}, newest("closed")},
		{"held", model.TicketQuery{Held: ptr(true)}, newest("held")},
		{"not held", model.TicketQuery{Held: ptr(false), Statuses: []model.Status{model.StatusSubmitted}}, newest("submitted")},
		{"grid and status", model.TicketQuery{Grid: "g1", Statuses: []model.Status{model.StatusInProgress}}, newest("overdue")},
		{"category, grid, source", model.TicketQuery{Category: "0101", Grid: "g1", Source: model.SourcePatrol}, newest("late")},
		{"overdue and grid", model.TicketQuery{Overdue: ptr(true), Grid: "g2"}, nil},
		{"from", model.TicketQuery{From: w.by["closed"].CreatedAt}, newest("closed", "late", "resolved")},
		{"to", model.TicketQuery{To: w.by["queued"].CreatedAt}, newest("submitted", "held")},
		{"from, to, grid", model.TicketQuery{From: w.by["queued"].CreatedAt, To: w.by["resolved"].CreatedAt, Grid: "g1"}, newest("dispatched", "overdue", "late")},
		{"ref by id", model.TicketQuery{Ref: w.by["late"].ID}, newest("late")},
		{"ref by case number", model.TicketQuery{Ref: w.by["held"].CaseNo}, newest("held")},
		{"ref and another filter", model.TicketQuery{Ref: w.by["held"].CaseNo, Grid: "g1"}, nil},
		{"ref of nothing", model.TicketQuery{Ref: "20200101-0001"}, nil},
		{"status of nothing", model.TicketQuery{Statuses: []model.Status{model.StatusMerged}}, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{2, 100} {
			got, total := w.list(t, c.q, limit)
			if !slices.Equal(got, c.want) || total != int64(len(c.want)) {
				t.Errorf("%s (limit %d): %v total %d; want %v total %d", c.name, limit, got, total, c.want, len(c.want))
			}
		}
	}
	if _, err := w.s.ListStaff(ctx, model.TicketQuery{}, model.NewID(base), 10); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a cursor naming no ticket: %v, want invalid_argument", err)
	}
}

func testListStaffSorts(t *testing.T, open Open) {
	w := newStaffWorld(t, open(t)("a").Tickets)
	var oldest []string
	for _, tk := range w.all {
		oldest = append(oldest, w.names([]*model.Ticket{tk})...)
	}
	// By deadline: registered tickets by due_at, then those without one
	// (in creation order).
	type due struct {
		name string
		at   time.Time
		i    int
	}
	var dues []due
	for i, tk := range w.all {
		dues = append(dues, due{w.names([]*model.Ticket{tk})[0], tk.DueAt, i})
	}
	sort.SliceStable(dues, func(i, j int) bool {
		a, b := dues[i], dues[j]
		if a.at.IsZero() != b.at.IsZero() {
			return !a.at.IsZero()
		}
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.i < b.i
	})
	byDue := func(keep func(string) bool) []string {
		var out []string
		for _, d := range dues {
			if keep(d.name) {
				out = append(out, d.name)
			}
		}
		return out
	}
	everything := func(string) bool { return true }
	newest := slices.Clone(oldest)
	slices.Reverse(newest)
	g1 := func(n string) bool { return w.by[n].GridCode == "g1" }
	filter := func(names []string, keep func(string) bool) []string {
		var out []string
		for _, n := range names {
			if keep(n) {
				out = append(out, n)
			}
		}
		return out
	}
	open3 := []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress, model.StatusClosed}
	inOpen3 := func(n string) bool { return slices.Contains(open3, w.by[n].Status) }
	g1Open3 := func(n string) bool { return g1(n) && inOpen3(n) }
	fromQueued := func(n string) bool { return !w.by[n].CreatedAt.Before(w.by["queued"].CreatedAt) }
	for _, c := range []struct {
		name string
		q    model.TicketQuery
		want []string
	}{
		{"newest", model.TicketQuery{Sort: model.SortNewest}, newest},
		{"oldest", model.TicketQuery{Sort: model.SortOldest}, oldest},
		{"due", model.TicketQuery{Sort: model.SortDue}, byDue(everything)},
		{"grid oldest", model.TicketQuery{Grid: "g1", Sort: model.SortOldest}, filter(oldest, g1)},
		{"grid due", model.TicketQuery{Grid: "g1", Sort: model.SortDue}, byDue(g1)},
		{"statuses due", model.TicketQuery{Statuses: open3, Sort: model.SortDue}, byDue(inOpen3)},
		{"statuses oldest", model.TicketQuery{Statuses: open3, Sort: model.SortOldest}, filter(oldest, inOpen3)},
		{"grid statuses due", model.TicketQuery{Grid: "g1", Statuses: open3, Sort: model.SortDue}, byDue(g1Open3)},
		{"grid statuses newest", model.TicketQuery{Grid: "g1", Statuses: open3}, filter(newest, g1Open3)},
		{"from newest", model.TicketQuery{From: w.by["queued"].CreatedAt}, filter(newest, fromQueued)},
		{"from oldest", model.TicketQuery{From: w.by["queued"].CreatedAt, Sort: model.SortOldest}, filter(oldest, fromQueued)},
		{"from due", model.TicketQuery{From: w.by["queued"].CreatedAt, Sort: model.SortDue}, byDue(func(n string) bool { return !w.by[n].CreatedAt.Before(w.by["queued"].CreatedAt) })},
		{"overdue due", model.TicketQuery{Overdue: ptr(true), Sort: model.SortDue}, []string{"overdue"}},
		{"source due", model.TicketQuery{Source: model.SourceWeChat, Sort: model.SortDue}, byDue(func(n string) bool { return w.by[n].Source == model.SourceWeChat })},
	} {
		for _, limit := range []int{1, 3, 100} {
			if got, total := w.list(t, c.q, limit); !slices.Equal(got, c.want) || total != int64(len(c.want)) {
				t.Errorf("%s (limit %d): %v total %d; want %v", c.name, limit, got, total, c.want)
			}
		}
	}
}

// MaxExactTotalSetter is what an engine's Tickets may implement so that the
// suite can reach the capped total with a few tickets.
type MaxExactTotalSetter interface{ SetMaxExactTotal(n int) }

func testListStaffTotals(t *testing.T, open Open) {
	s := open(t)("a").Tickets
	for i := range 12 {
		tk := mustInsert(t, s, report(base.Add(time.Duration(i)*time.Minute)))
		if i%2 == 0 {
			step(t, s, tk, register(base.Add(time.Hour)))
		}
	}
	setter, ok := s.(MaxExactTotalSetter)
	if !ok {
		t.Skip("the engine's Tickets has no SetMaxExactTotal: the cap of model.MaxExactTotal is not reachable here")
	}
	setter.SetMaxExactTotal(5)
	defer setter.SetMaxExactTotal(model.MaxExactTotal)
	for _, c := range []struct {
		q      model.TicketQuery
		total  int64
		capped bool
	}{
		{model.TicketQuery{}, 5, true},
		{model.TicketQuery{Statuses: []model.Status{model.StatusPending}}, 5, true},
		{model.TicketQuery{Statuses: []model.Status{model.StatusPending}, To: base.Add(5 * time.Minute)}, 3, false},
		{model.TicketQuery{Words: []string{"垃圾"}}, 5, true},
		{model.TicketQuery{Words: []string{"垃圾"}, From: base.Add(8 * time.Minute)}, 4, false},
	} {
		p, err := s.ListStaff(ctx, c.q, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != c.total || p.TotalCapped != c.capped || len(p.Items) != 2 {
			t.Errorf("ListStaff(%+v): total %d capped %v, %d items; want %d %v, 2 items", c.q, p.Total, p.TotalCapped, len(p.Items), c.total, c.capped)
		}
	}
}
