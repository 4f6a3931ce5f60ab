package storetest

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// runCatalogue: the category catalogue and the grids.
func runCatalogue(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.Categories != nil }, []suiteCase{
		{"Categories", testCategories},
	})
	runCases(t, open, func(e Engine) bool { return e.Grids != nil }, []suiteCase{
		{"Grids", testGrids},
	})
}

func testCategories(t *testing.T, e Engine) {
	ctx := t.Context()
	list := func() []model.Category {
		t.Helper()
		cs, err := e.Categories.List(ctx)
		expectOK(t, err, "list categories")
		return cs
	}
	if cs := list(); len(cs) != 0 {
		t.Fatalf("a new store's categories = %v", cs)
	}
	seed := []model.Category{
		{Code: "1101", Name: "道路破损", Major: "道路交通", SLAHours: 48, DuplicateRadiusM: 30},
		{Code: "0101", Name: "暴露垃圾", Major: "市容环境", SLAHours: 24, VolunteerSuitable: true, DuplicateRadiusM: 50},
	}
	expectOK(t, e.Categories.Seed(ctx, seed), "seed")
	if got, want := list(), []model.Category{seed[1], seed[0]}; !slices.Equal(got, want) {
		t.Fatalf("after seeding = %+v, want %+v (by code)", got, want)
	}
	// Staff change one; seeding again adds what is missing and leaves it.
	changed := seed[1]
	changed.Name, changed.SLAHours, changed.VolunteerSuitable, changed.DuplicateRadiusM = "垃圾暴露", 12, false, 0
	expectOK(t, e.Categories.Put(ctx, changed), "put")
	added := model.Category{Code: "0102", Name: "乱贴广告", Major: "市容环境", SLAHours: 72}
	expectOK(t, e.Categories.Seed(ctx, append(seed, added)), "seed again")
	if got, want := list(), []model.Category{changed, added, seed[0]}; !slices.Equal(got, want) {
		t.Fatalf("after a change and a second seed = %+v, want %+v", got, want)
	}
	// Put creates too.
	created := model.Category{Code: "0201", Name: "占道经营", Major: "街面秩序", SLAHours: 8, DuplicateRadiusM: 20}
	expectOK(t, e.Categories.Put(ctx, created), "put new")
	if got := list(); len(got) != 4 || got[2] != created {
		t.Fatalf("after putting a new one = %+v", got)
	}
}

func square(lng, lat, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{lng, lat}, {lng + d, lat}, {lng + d, lat + d}, {lng, lat + d}, {lng, lat}}}}
}

func testGrids(t *testing.T, e Engine) {
	ctx := t.Context()
	rev0, err := e.Grids.Revision(ctx)
	expectOK(t, err, "revision")
	if all, err := e.Grids.All(ctx); err != nil || len(all) != 0 {
		t.Fatalf("a new store's grids = %v, %v", all, err)
	}
	holed := orb.MultiPolygon{
		{{{118.0, 32.0}, {118.1, 32.0}, {118.1, 32.1}, {118.0, 32.1}, {118.0, 32.0}},
			{{118.02, 32.02}, {118.03, 32.02}, {118.03, 32.03}, {118.02, 32.03}, {118.02, 32.02}}},
		{{{118.2, 32.0}, {118.3, 32.0}, {118.3, 32.1}, {118.2, 32.0}}},
	}
	grids := []geo.Grid{
		{Code: "g2", Name: "二号网格", Community: "和平社区", Shape: holed},
		{Code: "g1", Name: "一号网格", Community: "幸福里社区", Shape: square(118.5, 32.5, 0.01)},
	}
	stored, err := e.Grids.Upsert(ctx, grids)
	expectOK(t, err, "upsert")
	if len(stored) != 2 || stored[0].Code != "g2" || stored[0].Name != "二号网格" || stored[0].Community != "和平社区" || stored[0].UpdatedAt.IsZero() {
		t.Fatalf("Upsert = %+v", stored)
	}
	rev1, err := e.Grids.Revision(ctx)
	expectOK(t, err, "revision")
	if rev1 == "" || rev1 == rev0 {
		t.Fatalf("revision after an upload = %q (before %q), want a new one", rev1, rev0)
	}
	all, err := e.Grids.All(ctx)
	expectOK(t, err, "all")
	if len(all) != 2 || all[0].Code != "g1" || all[1].Code != "g2" || all[1].Name != "二号网格" || all[1].Community != "和平社区" ||
		!orb.Equal(all[0].Shape, grids[1].Shape) || !orb.Equal(all[1].Shape, holed) {
		t.Fatalf("All = %+v, want both grids by code with their outlines", all)
	}
	list, err := e.Grids.List(ctx)
	expectOK(t, err, "list")
	if len(list) != 2 || list[0].Code != "g1" || list[0].Name != "一号网格" || list[0].Community != "幸福里社区" || list[0].UpdatedAt.IsZero() ||
		len(list[0].Area) != 0 || list[1].Code != "g2" {
		t.Fatalf("List = %+v, want both by code, without outlines", list)
	}

	// A second upload replaces by code and moves the revision on.
	_, err = e.Grids.Upsert(ctx, []geo.Grid{{Code: "g1", Name: "一号网格（调整）", Community: "幸福里社区", Shape: square(118.6, 32.6, 0.02)}})
	expectOK(t, err, "second upsert")
	rev2, err := e.Grids.Revision(ctx)
	expectOK(t, err, "revision")
	if rev2 == "" || rev2 == rev1 {
		t.Fatalf("revision after a second upload = %q (before %q)", rev2, rev1)
	}
	all, err = e.Grids.All(ctx)
	expectOK(t, err, "all")
	if len(all) != 2 || all[0].Name != "一号网格（调整）" || !orb.Equal(all[0].Shape, square(118.6, 32.6, 0.02)) || !orb.Equal(all[1].Shape, holed) {
		t.Fatalf("All after a second upload = %+v", all)
	}
}
