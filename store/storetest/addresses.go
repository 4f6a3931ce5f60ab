package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runAddresses: the address book and the map's base layers.
func runAddresses(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.Addresses != nil && e.Layers != nil }, []suiteCase{
		{"UpsertAndSearch", testAddressUpsertAndSearch},
		{"ConcurrentUploads", testAddressConcurrentUploads},
		{"Layers", testLayers},
	})
}

func testAddressUpsertAndSearch(t *testing.T, e Engine) {
	ctx := t.Context()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	addr := func(name string, kind model.AddressKind, lat float64) model.Address {
		return model.Address{Name: name, Kind: kind, Point: model.Point{Lat: lat, Lng: 118.78}}
	}
	added, err := e.Addresses.Upsert(ctx, []model.Address{
		addr("幸福路12号", model.AddressDoor, 32.01), addr("幸福路", model.AddressRoad, 32.02),
		addr("幸福里小区", model.AddressEstate, 32.03), addr("鼓楼公园", model.AddressLandmark, 32.04),
		addr("Central Park 1号", model.AddressLandmark, 32.05),
	}, at)
	expectOK(t, err, "upsert")
	if added != 5 {
		t.Fatalf("added %d, want 5", added)
	}
	search := func(limit int, words ...string) string {
		t.Helper()
		got, err := e.Addresses.Search(ctx, words, limit)
		expectOK(t, err, "search %v", words)
		var names []string
		for _, a := range got {
			if a.ID == "" || !a.Kind.Valid() || a.Point.Lat == 0 {
				t.Fatalf("search %v: %+v", words, a)
			}
			names = append(names, a.Name)
		}
		return strings.Join(names, ",")
	}
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"幸福路"}, "幸福路,幸福路12号"},          // itself, then what starts with it
		{[]string{"幸福"}, "幸福路,幸福里小区,幸福路12号"},     // prefixes, shorter first
		{[]string{"路"}, "幸福路,幸福路12号"},            // one character: the grams
		{[]string{"12号"}, "幸福路12号"},              // three characters: the trigrams
		{[]string{"公园"}, "鼓楼公园"},                 // two characters
		{[]string{"幸福", "12"}, "幸福路12号"},         // every word
		{[]string{"central"}, "Central Park 1号"}, // Latin letters in any case
		{[]string{"park 1"}, "Central Park 1号"},  // a word with a space
		{[]string{"没有的地名"}, ""},                  // nothing
		{[]string{"福路1"}, "幸福路12号"},              // any part
	} {
		if got := search(20, c.words...); got != c.want {
			t.Errorf("search %q = %q, want %q", c.words, got, c.want)
		}
	}
	if got := search(2, "幸福"); got != "幸福路,幸福里小区" {
		t.Errorf("search with limit 2 = %q", got)
	}

	// By name: a known name takes the new kind and point and keeps its id.
	before, _ := e.Addresses.Search(ctx, []string{"幸福路"}, 1)
	added, err = e.Addresses.Upsert(ctx, []model.Address{addr("幸福路", model.AddressLandmark, 32.1), addr("幸福路13号", model.AddressDoor, 32.2)}, at.Add(time.Hour))
	expectOK(t, err, "upsert again")
	after, _ := e.Addresses.Search(ctx, []string{"幸福路"}, 1)
	if added != 1 || len(after) != 1 || after[0].ID != before[0].ID || after[0].Kind != model.AddressLandmark || after[0].Point.Lat != 32.1 ||
		!after[0].UpdatedAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("after a second upload: added %d, %+v (was %+v)", added, after, before)
	}
	n, err := e.Addresses.Count(ctx)
	expectOK(t, err, "count")
	if n != 6 {
		t.Fatalf("Count = %d, want 6", n)
	}
	// A batch larger than one bulk write.
	many := make([]model.Address, 1200)
	for i := range many {
		many[i] = addr(fmt.Sprintf("测试路%d号", i), model.AddressDoor, 32)
	}
	added, err = e.Addresses.Upsert(ctx, many, at)
	expectOK(t, err, "upsert many")
	if added != len(many) {
		t.Fatalf("added %d of %d", added, len(many))
	}
	if got := search(20, "测试路1199号"); got != "测试路1199号" {
		t.Fatalf("one of many: %q", got)
	}
}

// Two uploads of the same new names at once: each name is one address,
// counted as new once.
func testAddressConcurrentUploads(t *testing.T, e Engine) {
	ctx := t.Context()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	batch := make([]model.Address, 50)
	for i := range batch {
		batch[i] = model.Address{Name: fmt.Sprintf("并发路%d号", i), Kind: model.AddressDoor, Point: model.Point{Lat: 32, Lng: 118}}
	}
	var wg sync.WaitGroup
	added := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { added[i], errs[i] = e.Addresses.Upsert(ctx, batch, at) })
	}
	wg.Wait()
	expectOK(t, errs[0], "first upload")
	expectOK(t, errs[1], "second upload")
	if added[0]+added[1] != len(batch) {
		t.Fatalf("added %v, want %d in all", added, len(batch))
	}
	if n, err := e.Addresses.Count(ctx); err != nil || n != len(batch) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(batch))
	}
}

func testLayers(t *testing.T, e Engine) {
	ctx := t.Context()
	geo := []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"中山路"},"geometry":{"type":"LineString","coordinates":[[118.78,32.04],[118.79,32.05]]}}]}`)
	l, err := e.Layers.Create(ctx, model.Layer{Name: "主干道", Kind: model.LayerRoad, GeoJSON: geo, Features: 1, CreatedBy: "staff1"})
	expectOK(t, err, "create")
	if l.ID == "" || l.CreatedAt.IsZero() {
		t.Fatalf("created %+v", l)
	}
	l2, err := e.Layers.Create(ctx, model.Layer{Name: "街道边界", Kind: model.LayerBoundary, GeoJSON: []byte(`{"type":"FeatureCollection","features":[]}`), CreatedBy: "staff1"})
	expectOK(t, err, "create another")
	all, err := e.Layers.List(ctx)
	expectOK(t, err, "list")
	if len(all) != 2 || all[0].ID != l.ID || all[1].ID != l2.ID || string(all[0].GeoJSON) != string(geo) || all[0].Kind != model.LayerRoad ||
		all[0].Features != 1 || all[0].Name != "主干道" || all[0].CreatedBy != "staff1" {
		t.Fatalf("List = %+v", all)
	}
	expectOK(t, e.Layers.Delete(ctx, l.ID), "delete")
	expectCode(t, e.Layers.Delete(ctx, l.ID), model.CodeNotFound, "delete twice")
	all, err = e.Layers.List(ctx)
	expectOK(t, err, "list after the delete")
	if len(all) != 1 || all[0].ID != l2.ID {
		t.Fatalf("List after the delete = %+v", all)
	}
}
