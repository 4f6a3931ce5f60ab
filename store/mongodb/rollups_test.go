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
	if err := r.Apply(ctx, 1, time.Time{}, append(big, row("y2026", "all", "", 500, 250)), nil); err != nil {
		t.Fatal(err)
	}
	// Event 1 again (a retry): skipped. Event 2: added.
	if err := r.Apply(ctx, 1, time.Time{}, []model.RollupRow{row("y2026", "grid", "g0001", 1, 0.5)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, 2, time.Time{}, []model.RollupRow{row("y2026", "grid", "g0001", 2, 0.25), row("y2026", "grid", "g0002", -1, -0.5)}, nil); err != nil {
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
	rows, err := r.Read(ctx, "grid", []string{"y2026"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i-1].Key >= rows[i].Key {
			t.Fatalf("rows not in key order: %q then %q", rows[i-1].Key, rows[i].Key)
		}
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
	if err := b.Apply(ctx, 1, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0), row("y2026", "grid", g2, 1, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 1 || got[g2][0] != 1 {
		t.Fatalf("read %v", got)
	}

	// The cache is used: a change behind the store's back is not seen...
	c := m.Database().Collection("rollups")
	for _, k := range []string{"g1", g2} {
		packed := mongodb.EncodeRollup([]model.RollupRow{row("", "", k, 9, 0)})
		_, err := c.UpdateOne(ctx, bson.M{"_id": mongodb.RollupID("y2026", "grid", k)}, bson.M{"$set": bson.M{"k": packed}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 1 || got[g2][0] != 1 {
		t.Fatalf("read %v: the cache was not used", got)
	}
	// ...but every write through the store is, and only the document
	// written is read again. (A writer new to the documents, which reads
	// them, not b, which remembers what it wrote.)
	b = mongodb.NewRollups(m, rdb)
	if err := b.Apply(ctx, 2, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0)}, nil); err != nil {
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
	if err := b.Apply(ctx, 3, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", 1, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "grid", "y2026"); got["g1"][0] != 5 {
		t.Fatalf("after b's apply a reads %v, want 5", got)
	}
}

// The applier remembers the documents it wrote and does not read them
// again — until another applier has counted meanwhile (a batch number
// that does not follow its own), or a rebuild ran (which takes a number of
// its own).
func TestRollupsApplierMemoryNeverOutlivesAnotherWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	a, b := mongodb.NewRollups(m, nil), mongodb.NewRollups(m, nil)
	apply := func(r *mongodb.Rollups, seq int64, n float64) {
		t.Helper()
		if err := r.Apply(ctx, seq, time.Time{}, []model.RollupRow{row("y2026", "grid", "g1", n, 0), row("y2026", "all", "", n, 0)}, nil); err != nil {
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
	apply(a, 1, 1)
	apply(a, 2, 1)
	want(2)
	apply(b, 3, 1) // another instance counts
	apply(a, 4, 1) // a must read what b wrote
	want(4)
	if err := b.Replace(ctx, 5, []model.RollupRow{row("y2026", "grid", "g1", 10, 0), row("y2026", "all", "", 10, 0)}); err != nil {
		t.Fatal(err)
	}
	apply(a, 6, 1) // after the rebuild, a reads again
	want(11)
	a.Forget() // as before finishing a batch cut short
	apply(a, 7, 1)
	want(12)
}
