package seed

import (
	"context"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// TestHistoryStatisticsAgree loads two histories into the embedded store
// and checks that its statistics — counted by Load as of each ticket's
// version — are what a rebuild gives, and what an independent sum of
// model.Contribute over the tickets gives, in every dimension and period.
func TestHistoryStatisticsAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Instance: "test", SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tickets, stats := db.Tickets(), db.Stats()

	city := testCity(t, 8)
	end := time.Date(2026, 2, 10, 9, 30, 0, 0, time.UTC)
	want := model.Contribution{}
	n, counted := 0, 0
	caseNos := map[string]bool{}
	// Two histories into one store, the second added to the first.
	load := func(opt HistoryOptions) error {
		return Generate(ctx, city, opt, func(b Batch) error {
			if err := tickets.Load(ctx, b.Tickets); err != nil {
				return err
			}
			for _, x := range b.Tickets {
				n++
				if x.CaseNo == "" || caseNos[x.CaseNo] {
					t.Errorf("%s: case number %q missing or given twice", x.ID, x.CaseNo)
				}
				caseNos[x.CaseNo] = true
				if x.Version > 0 {
					counted++
					want.Add(model.Contribute(x))
				}
			}
			return nil
		})
	}
	if err := load(HistoryOptions{Tickets: 3000, Days: 90, End: end, Fresh: 5, Seed: 5, Workflow: testWorkflow(t), Batch: 400}); err != nil {
		t.Fatal(err)
	}
	if err := load(HistoryOptions{Tickets: 1000, Days: 30, End: end, Seed: 6, Workflow: testWorkflow(t)}); err != nil {
		t.Fatal(err)
	}
	if n != 4000 || counted == 0 {
		t.Fatalf("loaded %d tickets, %d of them past version 0", n, counted)
	}

	var periods []string
	seen := map[string]bool{}
	for d := end.AddDate(0, 0, -92); !d.After(end.AddDate(0, 0, 2)); d = d.Add(24 * time.Hour) {
		for _, p := range model.PeriodKeys(d) {
			if !seen[p] {
				seen[p] = true
				periods = append(periods, p)
			}
		}
	}
	dims := []string{model.DimAll, model.DimCategory, model.DimGrid, model.DimCommunity, model.DimWorker, model.DimMember, model.DimSource}
	read := func() map[model.RollupKey]model.RollupValues {
		out := map[model.RollupKey]model.RollupValues{}
		for _, dim := range dims {
			rows, err := stats.Read(ctx, dim, periods)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Values != (model.RollupValues{}) {
					out[model.RollupKey{Period: r.Period, Dim: r.Dim, Key: r.Key}] = r.Values
				}
			}
		}
		return out
	}
	loaded := read()
	if len(loaded) == 0 {
		t.Fatal("no statistics after loading")
	}
	rebuilt, err := stats.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt != counted {
		t.Errorf("the rebuild read %d tickets, %d are past version 0", rebuilt, counted)
	}
	again := read()
	sum := map[model.RollupKey]model.RollupValues{}
	for k, v := range want {
		if v != (model.RollupValues{}) {
			sum[k] = v
		}
	}
	compare(t, "loaded vs rebuilt", loaded, again)
	compare(t, "loaded vs the sum of model.Contribute", loaded, sum)
	all := loaded[model.RollupKey{Period: model.PeriodKeys(end)[2], Dim: model.DimAll}]
	if all[model.CounterReported] == 0 || all[model.CounterClosed] == 0 || all[model.CounterSatisfied] == 0 {
		t.Errorf("this year's figures: %v", all)
	}
}

func compare(t *testing.T, what string, a, b map[model.RollupKey]model.RollupValues) {
	t.Helper()
	var keys []model.RollupKey
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y model.RollupKey) int {
		if x.Dim != y.Dim {
			return compareStrings(x.Dim, y.Dim)
		}
		if x.Period != y.Period {
			return compareStrings(x.Period, y.Period)
		}
		return compareStrings(x.Key, y.Key)
	})
	bad := 0
	for _, k := range keys {
		x, y := a[k], b[k]
		for i := range x {
			if math.Abs(x[i]-y[i]) > 1e-6*max(1, math.Abs(x[i])) {
				if bad++; bad <= 5 {
					t.Errorf("%s: %+v counter %s: %v vs %v", what, k, model.CounterName(i), x[i], y[i])
				}
				break
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d rows differ", what, bad, len(keys))
	}
}

// BenchmarkHistoryLoad makes and loads SEED_BENCH_TICKETS (default
// 20,000) tickets of a year into a new embedded store per iteration, in
// batches of SEED_BENCH_BATCH (default DefaultBatch), and reports the rate
// and the store's size per ticket (photos aside).
func BenchmarkHistoryLoad(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("SEED_BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	batch := DefaultBatch
	if v, err := strconv.Atoi(os.Getenv("SEED_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	ctx := context.Background()
	city := testCity(b, 24)
	wf := testWorkflow(b)
	end := time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)
	var size int64
	for b.Loop() {
		dir := b.TempDir()
		db, err := sqlite.Open(ctx, dir, sqlite.Options{Instance: "bench", SkipIntegrityCheck: true})
		if err != nil {
			b.Fatal(err)
		}
		tickets := db.Tickets()
		err = Generate(ctx, city, HistoryOptions{Tickets: n, Days: 365, End: end, Seed: 1, Workflow: wf, Batch: batch},
			func(bt Batch) error { return tickets.Load(ctx, bt.Tickets) })
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		size = 0
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					size += info.Size()
				}
			}
			return nil
		})
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(size)/float64(n), "bytes/ticket")
}
