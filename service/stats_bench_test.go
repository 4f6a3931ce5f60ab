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
// 5,000 grids loaded: per grid a year document and twelve month documents
// (day documents exist too in production, but a year query never reads
// them: it reads one document per grid), plus the totals.
//
//	go test -run '^$' -bench SummaryYearByGrid -benchtime 200x ./service/
func BenchmarkSummaryYearByGrid(b *testing.B) {
	ctx := context.Background()
	m := testenv.Mongo(b)
	rollups := store.NewRollups(m)
	grids, tickets := gridCount(), 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []model.RollupRow
	counts := func(n int64) map[string]float64 {
		res := n * 8 / 10
		return map[string]float64{"reported": float64(n), "registered": float64(n * 9 / 10), "resolved": float64(res),
			"closed": float64(res), "on_time": float64(res * 9 / 10), "rated": float64(res / 2), "satisfied": float64(res * 4 / 10),
			"hours": float64(res) * 20}
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
	if err := rollups.Replace(ctx, 1, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d roll-up documents in %s", len(rows), time.Since(start).Round(time.Millisecond))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now
	stats := service.NewStats(service.StatsDeps{
		Rollups: rollups, Categories: service.NewCategories(store.NewCategories(m, now), time.Minute, now),
		Grids: service.NewGrids(store.NewGrids(m, now), 0, logger), Now: now, Logger: logger,
	})
	year := service.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai()), To: time.Date(2026, 12, 31, 0, 0, 0, 0, shanghai())}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
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
}

// gridCount is the number of grids of the benchmark city: 5,000, or
// BENCH_GRIDS for a quicker run on a busy machine.
func gridCount() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_GRIDS")); err == nil && n > 0 {
		return n
	}
	return 5000
}
