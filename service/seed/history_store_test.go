package seed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/store"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// storeOf is the Store of an engine.
func storeOf(e store.Engine) Store {
	return Store{Tickets: e.Tickets, Users: e.Users, People: e.People, Grids: e.Grids, Categories: e.Categories,
		Photos: e.Photos, Submitters: e.Submitters, Stats: e.Stats}
}

// TestHistoryOnTheEmbeddedStore reads a city from the embedded store
// (grids, bound workers and party members with their duty, the staff
// account), adds residents and photos through the store, loads a history
// with History, and finds it through the store's own queries: the staff
// list, a worker's tasks, the pool, search, the photos used, the Open311
// submitters.
func TestHistoryOnTheEmbeddedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Instance: "test", SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := db.Engine()
	st := storeOf(e)
	if err := e.Categories.Seed(ctx, catalogue.DefaultCategories); err != nil {
		t.Fatal(err)
	}
	var grids []geo.Grid
	for _, g := range lattice(6) {
		a, b := g.minLng, g.minLat
		ring := orb.Ring{{a, b}, {a + cellLng, b}, {a + cellLng, b + cellLat}, {a, b + cellLat}, {a, b}}
		grids = append(grids, geo.Grid{Code: g.code, Name: g.name, Community: g.community, Shape: orb.MultiPolygon{{ring}}})
	}
	if _, err := e.Grids.Upsert(ctx, grids); err != nil {
		t.Fatal(err)
	}
	bind := func(role model.Role, profile, code string, onDuty bool) string {
		u, err := e.Users.UpsertWeChat(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Users.Bind(ctx, u.ID, role, profile); err != nil {
			t.Fatal(err)
		}
		if err := e.People.LinkUser(ctx, role, profile, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Users.SetDuty(ctx, u.ID, onDuty); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	var worker string
	for i, g := range grids {
		w, err := e.People.CreateWorker(ctx, model.Worker{Name: name(i), Phone: fmt.Sprintf("139%08d", i), GridCodes: []string{g.Code}, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if id := bind(model.RoleGridWorker, w.ID, fmt.Sprintf("w%d", i), i != 3); i == 0 {
			worker = id
		}
	}
	branch, err := e.People.CreateBranch(ctx, model.Branch{Name: "第一党支部"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.People.CreatePartyMember(ctx, model.PartyMember{Name: "赵红", Phone: "13700000001", BranchID: branch.ID,
		Communities: []string{grids[0].Community}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	member := bind(model.RolePartyMember, m.ID, "m0", true)
	staff, err := e.Users.UpsertStaff(ctx, "admin", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}

	city, err := ReadCity(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(city.Grids) != 6 || len(city.Workers[grids[0].Code]) != 1 || !city.Workers[grids[0].Code][0].OnDuty ||
		city.Workers[grids[3].Code][0].OnDuty || len(city.Members[grids[0].Community]) != 1 {
		t.Fatalf("read the city: %d grids, workers %+v, members %+v", len(city.Grids), city.Workers, city.Members)
	}
	if city.Staff, err = StaffActor(ctx, e.Users, "admin"); err != nil || city.Staff.ID != staff.ID {
		t.Fatalf("staff %+v, %v", city.Staff, err)
	}
	if err := city.AddResidents(ctx, e.Users, 30, nil); err != nil {
		t.Fatal(err)
	}
	if err := city.AddPhotos(ctx, 5, StorePhoto(e.Photos, city.Residents[0])); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	res, err := History(ctx, st, city, HistoryOptions{Tickets: 1500, Days: 30, End: end, Fresh: 5, Seed: 4, Workflow: testWorkflow(t), Batch: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Stats.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Tickets != 1500 || res.BySource[model.SourceOpen311] == 0 {
		t.Fatalf("made %+v", res)
	}
	page, err := e.Tickets.ListStaff(ctx, model.TicketQuery{Now: end}, "", 10)
	if err != nil || page.Total != 1500 {
		t.Fatalf("the staff list: %d tickets, %v", page.Total, err)
	}
	for _, q := range []model.TicketQuery{
		{Words: []string{"井盖"}}, {Words: []string{"路灯", "不亮"}}, {Statuses: []model.Status{model.StatusClosed}},
		{Overdue: ptr(true)}, {Late: ptr(true)}, {Held: ptr(true)}, {Source: model.SourceHotline}, {Grid: grids[2].Code},
	} {
		q.Now = end
		if p, err := e.Tickets.ListStaff(ctx, q, "", 1); err != nil || p.Total == 0 {
			t.Errorf("%+v: %d tickets, %v", q, p.Total, err)
		}
	}
	if ts, _, err := e.Tickets.ListAssigned(ctx, worker, []model.Status{model.StatusClosed}, "", 5); err != nil || len(ts) == 0 {
		t.Errorf("worker %s closed %d tickets (%v)", worker, len(ts), err)
	}
	if ts, _, err := e.Tickets.ListAssigned(ctx, member, []model.Status{model.StatusClosed}, "", 5); err != nil || len(ts) == 0 {
		t.Errorf("party member %s closed %d tickets (%v)", member, len(ts), err)
	}
	for _, p := range city.Photos {
		got, err := e.Photos.Get(ctx, p.ID)
		if err != nil || got.UsedBy == "" {
			t.Errorf("photo %s: %+v, %v", p.ID, got, err)
		}
	}
	found := false
	for cursor := ""; !found; {
		p, err := e.Tickets.ListStaff(ctx, model.TicketQuery{Source: model.SourceOpen311, Now: end}, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Items {
			if sub, err := e.Submitters.Get(ctx, x.ID); err == nil && sub.Phone == x.CallerPhone {
				found = true
			}
		}
		if len(p.Items) == 0 {
			break
		}
		cursor = p.Items[len(p.Items)-1].ID
	}
	if !found {
		t.Error("no Open311 ticket has its submitter")
	}
}

func ptr[T any](v T) *T { return &v }
