package mongodb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func row(period, dim, key string, reported, hours float64) model.RollupRow {
	return model.RollupRow{Period: period, Dim: dim, Key: key,
		Values: model.RollupValues{model.CounterReported: reported, model.CounterHours: hours}}
}

// read returns reported and hours by key.
func read(t *testing.T, r *mongodb.Rollups, dim string, periods ...string) map[string][2]float64 {
	t.Helper()
	rows, err := r.Read(context.Background(), dim, periods)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, x := range rows {
		v := out[x.Key]
		v[0] += x.Values[model.CounterReported]
		v[1] += x.Values[model.CounterHours]
		out[x.Key] = v
	}
	return out
}

func TestRollupsApplyOncePerDocumentAndReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := mongodb.NewRollups(testenv.Mongo(t), testenv.Redis(t))
	var big []model.RollupRow // over the compression threshold
	for g := range 500 {
		big = append(big, row("y2026", "grid", fmt.Sprintf("g%04d", g), 1, 0.5))
	}
	if err := r.Apply(ctx, 1, time.Time{}, append(big, row("y2026", "all", "", 500, 250))); err != nil {
		t.Fatal(err)
	}
	// Event 1 again (a retry): skipped. Event 2: added.
	if err := r.Apply(ctx, 1, time.Time{}, []model.RollupRow{row("y2026", "grid", "g0001", 1, 0.5)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, 2, time.Time{}, []model.RollupRow{row("y2026", "grid", "g0001", 2, 0.25), row("y2026", "grid", "g0002", -1, -0.5)}); err != nil {
		t.Fatal(err)
	}
	got := read(t, r, "grid", "y2026")
	if len(got) != 499 { // g0002 went back to zero, and is gone
		t.Fatalf("%d keys, want 499", len(got))
	}
	if got["g0001"] != [2]float64{3, 0.75} || got["g0499"] != [2]float64{1, 0.5} {
		t.Fatalf("g0001 %v, g0499 %v", got["g0001"], got["g0499"])
	}
	if all := read(t, r, "all", "y2026", "m202601"); all[""] != [2]float64{500, 250} {
		t.Fatalf("all = %v", all)
	}
	if n, err := r.Applied(ctx); err != nil || n != 0 {
		t.Fatalf("applied %d, %v: Apply must not record it", n, err)
	}
}

// The documents from before shards, JSON-encoded, one per period ×
// dimension, are read along with the shards and never written again; an
// event they already have is not applied to the shards.
func TestRollupsReadTheLayoutBeforeShards(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	r := mongodb.NewRollups(m, testenv.Redis(t))
	c := m.Database().Collection("rollups")
	old := []byte(`{"g1":{"reported":2,"hours":1.5},"g2":{"reported":1}}`)
	if _, err := c.InsertOne(ctx, bson.M{"_id": "y2026|grid", "wm": int64(3), "k": old}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "grid", "y2026"); got["g1"] != [2]float64{2, 1.5} || got["g2"] != [2]float64{1, 0} {
		t.Fatalf("read %v", got)
	}
	if err := r.Apply(ctx, 3, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 5, 0)}); err != nil { // it has 3
		t.Fatal(err)
	}
	if err := r.Apply(ctx, 4, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 1), row("y2026", "grid", "g3", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, r, "grid", "y2026"); len(got) != 3 || got["g1"] != [2]float64{3, 2.5} || got["g2"] != [2]float64{1, 0} || got["g3"] != [2]float64{1, 0} {
		t.Fatalf("after apply %v", got)
	}
	rows, err := r.Read(ctx, "grid", []string{"y2026"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i-1].Key >= rows[i].Key {
			t.Fatalf("rows not in key order: %q then %q", rows[i-1].Key, rows[i].Key)
		}
	}
	var d struct {
		K []byte `bson:"k"`
	}
	if err := c.FindOne(ctx, bson.M{"_id": mongodb.RollupID("y2026", "grid", "g1")}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.K) == 0 || d.K[0] == '{' {
		t.Fatalf("a shard is JSON: %q", d.K)
	}
	if err := c.FindOne(ctx, bson.M{"_id": "y2026|grid"}).Decode(&d); err != nil || string(d.K) != string(old) {
		t.Fatalf("the old document changed: %q, %v", d.K, err)
	}
}

// Two instances share MongoDB and Redis; each caches what it reads. A
// write by either is seen by the other's next read.
func TestRollupsCacheNeverOutlivesAWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	rdb := testenv.Redis(t)
	a, b := mongodb.NewRollups(m, rdb), mongodb.NewRollups(m, rdb)
	// Two grids in different shards.
	g2 := ""
	for i := 2; g2 == ""; i++ {
		if k := fmt.Sprintf("g%d", i); mongodb.RollupID("y2026", "grid", k) != mongodb.RollupID("y2026", "grid", "g1") {
			g2 = k
		}
	}
	if err := b.Apply(ctx, 1, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0), row("y2026", "grid", g2, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 1 || got[g2][0] != 1 {
		t.Fatalf("read %v", got)
	}

	// The cache is used: a change behind the store's back is not seen...
	c := m.Database().Collection("rollups")
	for _, k := range []string{"g1", g2} {
		_, err := c.UpdateOne(ctx, bson.M{"_id": mongodb.RollupID("y2026", "grid", k)}, bson.M{"$set": bson.M{"k": []byte(`{"` + k + `":{"reported":9}}`)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 1 || got[g2][0] != 1 {
		t.Fatalf("read %v: the cache was not used", got)
	}
	// ...but every write through the store is, and only the document
	// written is read again.
	if err := b.Apply(ctx, 2, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 10 || got[g2][0] != 1 {
		t.Fatalf("after b's apply a reads %v, want g1 10 and %s still 1 from the cache", got, g2)
	}
	if err := b.Replace(ctx, 2, []model.RollupRow{row("y2026", "grid", "g1", 4, 0), row("y2026", "grid", g2, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 4 || got[g2][0] != 1 {
		t.Fatalf("after b's rebuild a reads %v", got)
	}

	// Redis loses everything (a restart): the cache starts again, and
	// writes are still seen.
	testenv.DeletePrefix(rdb.Client, rdb.Prefix)
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 4 {
		t.Fatalf("after Redis lost its keys a reads %v", got)
	}
	if err := b.Apply(ctx, 3, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 5 {
		t.Fatalf("after b's apply a reads %v, want 5", got)
	}
}

// The applier remembers the documents it wrote and does not read them
// again — until another applier has counted meanwhile, or a rebuild ran.
func TestRollupsApplierMemoryNeverOutlivesAnotherWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	a, b := mongodb.NewRollups(m, nil), mongodb.NewRollups(m, nil)
	applied := func(r *mongodb.Rollups, want int64) {
		t.Helper()
		if n, err := r.Applied(ctx); err != nil || n != want {
			t.Fatalf("applied %d %v, want %d", n, err, want)
		}
	}
	apply := func(r *mongodb.Rollups, seq int64, n float64) {
		t.Helper()
		if err := r.Apply(ctx, seq, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", n, 0), row("y2026", "all", "", n, 0)}); err != nil {
			t.Fatal(err)
		}
		if err := r.SetApplied(ctx, seq, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(total float64) {
		t.Helper()
		got := read(t, mongodb.NewRollups(m, nil), "grid", "y2026")
		all := read(t, mongodb.NewRollups(m, nil), "all", "y2026")
		if got["g1"][0] != total || all[""][0] != total {
			t.Fatalf("g1 %v, all %v; want %v", got["g1"], all[""], total)
		}
	}
	applied(a, 0)
	apply(a, 1, 1)
	apply(a, 2, 1)
	want(2)
	applied(b, 2)
	apply(b, 3, 1) // another instance counts
	applied(a, 3)
	apply(a, 4, 1) // a must read what b wrote
	want(4)
	if err := b.Replace(ctx, 4, []model.RollupRow{row("y2026", "grid", "g1", 10, 0), row("y2026", "all", "", 10, 0)}); err != nil {
		t.Fatal(err)
	}
	applied(a, 4)
	apply(a, 5, 1) // after the rebuild, a reads again
	want(11)
	a.Forget() // as before resuming an event cut short
	apply(a, 6, 1)
	want(12)
}
