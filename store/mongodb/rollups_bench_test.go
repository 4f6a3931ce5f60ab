package mongodb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// BenchmarkSummaryYearByGrid reads what /stats/summary reads for a year
// grouped by grid (the roll-ups of the totals and of the grids), with the roll-ups of a year of 1,000,000 tickets over
// 5,000 grids loaded: per grid a year and twelve months (day documents
// exist too in production, but a year query never reads them: it reads
// the year documents of the grids, 8 shards of ~8 KB, and the totals').
//
//   - cold: no cache (no Redis): every call reads and decodes every
//     document, as the first call after a restart;
//
//   - after-write: with the cache, and one transition applied (a ticket
//     resolved in one grid; not timed) before each call, as when the
//     applier writes between every two reads: the call re-reads the
//     totals and one shard of the grids;
//
//   - cached: nothing written between calls (one Redis HMGET a call).
//
//     go test -run '^$' -bench SummaryYearByGrid -benchtime 200x ./store/mongodb/
//
// Meaningful on MongoDB (MONGODB_URI): FerretDB, which the tests embed,
// reads the whole collection for a read of several _ids.
func BenchmarkSummaryYearByGrid(b *testing.B) {
	ctx := context.Background()
	m := testenv.Mongo(b)
	r := testenv.Redis(b)
	grids, tickets := gridCount(), 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []model.RollupRow
	counts := func(n int64) model.RollupValues {
		res := n * 8 / 10
		return model.RollupValues{model.CounterReported: float64(n), model.CounterRegistered: float64(n * 9 / 10),
			model.CounterResolved: float64(res), model.CounterClosed: float64(res), model.CounterOnTime: float64(res * 9 / 10),
			model.CounterRated: float64(res / 2), model.CounterSatisfied: float64(res * 4 / 10), model.CounterHours: float64(res)*20 + 0.25}
	}
	for g := range grids {
		key := fmt.Sprintf("3201%011d", g)
		perGrid := int64(tickets/grids) + int64(rng.IntN(40)) - 20
		rows = append(rows, model.RollupRow{Period: "y2026", Dim: "grid", Key: key, Values: counts(perGrid)})
		for month := 1; month <= 12; month++ {
			rows = append(rows, model.RollupRow{Period: fmt.Sprintf("m2026%02d", month), Dim: "grid", Key: key, Values: counts(perGrid / 12)})
		}
	}
	rows = append(rows, model.RollupRow{Period: "y2026", Dim: "all", Values: counts(int64(tickets))})
	start := time.Now()
	if err := mongodb.NewRollups(m, nil).Replace(ctx, 1, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d grids' roll-ups in %s", grids, time.Since(start).Round(time.Millisecond))

	seq := int64(1)
	for _, c := range []struct {
		name  string
		redis *redis.Redis
		write bool
	}{{"cold", nil, false}, {"after-write", r, true}, {"cached", r, false}} {
		b.Run(c.name, func(b *testing.B) {
			rollups := mongodb.NewRollups(m, c.redis)
			lat := make([]time.Duration, 0, b.N)
			resolved := model.RollupValues{model.CounterResolved: 1, model.CounterClosed: 1, model.CounterOnTime: 1, model.CounterHours: 5}
			for b.Loop() {
				if c.write {
					seq++
					key := fmt.Sprintf("3201%011d", rng.IntN(grids))
					err := rollups.Apply(ctx, seq, time.Time{}, []model.RollupRow{
						{Period: "y2026", Dim: "grid", Key: key, Values: resolved}, {Period: "y2026", Dim: "all", Values: resolved}}, nil)
					if err != nil {
						b.Fatal(err)
					}
				}
				t0 := time.Now()
				all, err := rollups.Read(ctx, "all", []string{"y2026"})
				if err != nil {
					b.Fatal(err)
				}
				byGrid, err := rollups.Read(ctx, "grid", []string{"y2026"})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if len(byGrid) != grids || len(all) != 1 || all[0].Values[model.CounterReported] != float64(tickets) {
					b.Fatalf("%d grids, totals %v", len(byGrid), all)
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
			b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
		})
	}
}

// gridCount is the number of grids of the benchmark city: 5,000, or
// BENCH_GRIDS for a quicker run on a busy machine.
func gridCount() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_GRIDS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// BenchmarkApplyTransition times the applier's write of one transition —
// a ticket resolved and closed: its day, month and year documents of the
// totals, its category, grid, community and worker — with the roll-ups of
// a year of 1,000,000 tickets over 5,000 grids (2,500 workers, 100
// communities) loaded: a year and twelve months of full documents, and 365
// days of ~2,000 grids and ~1,500 workers each.
//
//	go test -run '^$' -bench ApplyTransition -benchtime 50x ./store/mongodb/
func BenchmarkApplyTransition(b *testing.B) {
	ctx := context.Background()
	m := testenv.Mongo(b)
	rollups := mongodb.NewRollups(m, testenv.Redis(b))
	grids := gridCount()
	v := model.RollupValues{model.CounterReported: 200, model.CounterRegistered: 180, model.CounterResolved: 160,
		model.CounterClosed: 160, model.CounterOnTime: 150, model.CounterHours: 3200.5}
	var rows []model.RollupRow
	periods := []string{"y2026"}
	for month := 1; month <= 12; month++ {
		periods = append(periods, fmt.Sprintf("m2026%02d", month))
	}
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		periods = append(periods, "d"+d.Format("20060102"))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, period := range periods {
		share := 1000 // of 1,000: a day has tickets in ~2 of 5 grids
		if period[0] == 'd' {
			share = 400
		}
		rows = append(rows, model.RollupRow{Period: period, Dim: "all", Values: v})
		for g := range grids {
			if rng.IntN(1000) >= share {
				continue
			}
			rows = append(rows, model.RollupRow{Period: period, Dim: "grid", Key: fmt.Sprintf("3201%011d", g), Values: v})
			if g%2 == 0 {
				rows = append(rows, model.RollupRow{Period: period, Dim: "worker", Key: fmt.Sprintf("w%05d", g/2), Values: v})
			}
			if g%50 == 0 {
				rows = append(rows, model.RollupRow{Period: period, Dim: "community", Key: fmt.Sprintf("3201%06d", g/50), Values: v})
			}
		}
		for c := range 12 {
			rows = append(rows, model.RollupRow{Period: period, Dim: "category", Key: fmt.Sprintf("%04d", c), Values: v})
		}
	}
	start := time.Now()
	if err := rollups.Replace(ctx, 1, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows in %d periods in %s", len(rows), len(periods), time.Since(start).Round(time.Millisecond))
	delta := model.RollupValues{model.CounterResolved: 1, model.CounterClosed: 1, model.CounterOnTime: 1, model.CounterHours: 5.5}
	seq := int64(1)
	for b.Loop() {
		g := rng.IntN(grids)
		var t []model.RollupRow
		for _, period := range []string{"d20261125", "m202611", "y2026"} {
			t = append(t,
				model.RollupRow{Period: period, Dim: "category", Key: fmt.Sprintf("%04d", g%12), Values: delta},
				model.RollupRow{Period: period, Dim: "grid", Key: fmt.Sprintf("3201%011d", g), Values: delta},
				model.RollupRow{Period: period, Dim: "community", Key: fmt.Sprintf("3201%06d", g/50), Values: delta},
				model.RollupRow{Period: period, Dim: "worker", Key: fmt.Sprintf("w%05d", g/2), Values: delta})
		}
		for _, period := range []string{"d20261125", "m202611", "y2026"} {
			t = append(t, model.RollupRow{Period: period, Dim: "all", Values: delta})
		}
		seq++
		if err := rollups.Apply(ctx, seq, time.Time{}, t, nil); err != nil {
			b.Fatal(err)
		}
	}
}
