package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
	"github.com/citizen-city/chengguantong/store"
)

// BenchmarkSummaryYearByGrid reads /stats/summary's figures for a year
// grouped by grid, with the roll-ups of a year of 1,000,000 tickets over
// 5,000 grids loaded: per grid a year and twelve months (day documents
// exist too in production, but a year query never reads them: it reads the
// year document of the grids, ~150 KB, and the totals').
//
//   - uncached: every call reads and decodes the two documents, as right
//     after each write of the statistics applier;
//
//   - cached: the in-process cache of decoded documents, valid until the
//     applier's next write (one Redis GET per document read).
//
//     go test -run '^$' -bench SummaryYearByGrid -benchtime 200x ./service/
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
	if err := store.NewRollups(m, nil).Replace(ctx, 1, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d grids' roll-ups in %s", grids, time.Since(start).Round(time.Millisecond))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now
	year := service.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 12, 31, 0, 0, 0, 0, shanghai())}
	for _, c := range []struct {
		name  string
		redis *store.Redis
	}{{"uncached", nil}, {"cached", r}} {
		b.Run(c.name, func(b *testing.B) {
			stats := service.NewStats(service.StatsDeps{
				Rollups: store.NewRollups(m, c.redis), Categories: service.NewCategories(store.NewCategories(m, now), time.Minute, now),
				Grids: service.NewGrids(store.NewGrids(m, now), 0, logger), Now: now, Logger: logger,
			})
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				s, err := stats.Summary(ctx, year, service.ByGrid)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if len(s.Groups) != grids || s.Reported != int64(tickets) {
					b.Fatalf("%d groups, %d reported", len(s.Groups), s.Reported)
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
