package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// BenchmarkLoad measures the bulk path (seed-history, migrations): batches
// of 5,000 generated tickets, each batch a few days of a year in turn, into
// a fresh store. Generation is not timed.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := db.Tickets()
	g := newGen(3, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), 365)
	n, k := 0, 0
	cpu := time.Duration(0)
	for b.Loop() {
		b.StopTimer()
		batch := g.window(5000, k%100, 100)
		k++
		b.StartTimer()
		c0 := cpuTime()
		if err := s.Load(ctx, batch); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(n)/cpu.Seconds(), "tickets/cpu-s")
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchVersion names the cached database of BenchmarkStore500k: bump it
// when the schema or the generator changes.
const benchVersion = 2

// bigStore is the benchmarks' store of BENCH_TICKETS (500,000) tickets,
// built once and cached under the temp dir (the build takes minutes).
var bigStore struct {
	once sync.Once
	db   *DB
	err  error
	n    int
	end  time.Time
	dir  string
	load string // how the build went
}

func openBigStore(b *testing.B) *DB {
	b.Helper()
	bigStore.once.Do(func() {
		n := 500000
		if v, err := strconv.Atoi(os.Getenv("BENCH_TICKETS")); err == nil && v > 0 {
			n = v
		}
		bigStore.n, bigStore.end = n, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
		bigStore.dir = filepath.Join(os.TempDir(), fmt.Sprintf("chengguantong-bench-v%d-%d", benchVersion, n))
		ctx := context.Background()
		if _, err := os.Stat(filepath.Join(bigStore.dir, FileName)); err != nil {
			bigStore.err = buildBigStore(ctx, bigStore.dir, n, bigStore.end)
			if bigStore.err != nil {
				return
			}
		}
		load, _ := os.ReadFile(filepath.Join(bigStore.dir, "..", filepath.Base(bigStore.dir)+".load"))
		bigStore.load = string(load)
		bigStore.db, bigStore.err = Open(ctx, bigStore.dir, Options{Instance: "bench"})
	})
	if bigStore.err != nil {
		b.Fatal(bigStore.err)
	}
	return bigStore.db
}

// buildBigStore loads n tickets over the year before end, 5,000 at a time
// in creation order, as seed-history does, then ANALYZE.
func buildBigStore(ctx context.Context, dir string, n int, end time.Time) error {
	tmp := dir + ".building"
	_ = os.RemoveAll(tmp)
	db, err := Open(ctx, tmp, Options{SkipIntegrityCheck: true})
	if err != nil {
		return err
	}
	s := db.Tickets()
	g := newGen(500, end, 365)
	parts := (n + 4999) / 5000
	var wall, cpu time.Duration
	for k := range parts {
		batch := g.window(min(5000, n-k*5000), k, parts)
		t0, c0 := time.Now(), cpuTime()
		if err := s.Load(ctx, batch); err != nil {
			db.Close()
			return err
		}
		wall += time.Since(t0)
		cpu += cpuTime() - c0
	}
	t0 := time.Now()
	if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		db.Close()
		return err
	}
	analyze := time.Since(t0)
	if err := db.Close(); err != nil {
		return err
	}
	note := fmt.Sprintf("load of %d tickets: %.0f s (%.0f tickets/s), %.0f s of CPU (%.0f tickets per CPU-second); ANALYZE %.1f s\n",
		n, wall.Seconds(), float64(n)/wall.Seconds(), cpu.Seconds(), float64(n)/cpu.Seconds(), analyze.Seconds())
	_ = os.WriteFile(dir+".load", []byte(note), 0o600)
	_ = os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

// sample reads values of a column from a spread of tickets (a benchmark's
// inputs; this scan is not measured).
func sample(b *testing.B, db *DB, col string, where string, n int) []string {
	b.Helper()
	rows, err := db.r.Query("SELECT " + col + " FROM tickets WHERE " + where + " AND rid % 97 = 0 LIMIT " + strconv.Itoa(n))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			b.Fatal(err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		b.Fatalf("no sample of %s where %s", col, where)
	}
	return out
}

// measure runs fn b.N times (at most most times, when most > 0) and
// reports the p50 and p99 latency.
func measure(b *testing.B, most int, fn func(r *rand.Rand) error) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	n := b.N
	if most > 0 {
		n = min(n, most)
	}
	var ds []time.Duration
	for range n {
		t0 := time.Now()
		if err := fn(r); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkStore500k measures every query shape on a store of 500,000
// realistic tickets (BENCH_TICKETS to change; the store is built once and
// cached in the temp dir):
//
//	go test -run '^$' -bench BenchmarkStore500k -benchtime 200x -timeout 60m ./store/sqlite/
func BenchmarkStore500k(b *testing.B) {
	db := openBigStore(b)
	ctx := context.Background()
	s, st := db.Tickets(), db.Stats()
	end := bigStore.end
	b.Logf("store: %d tickets in %s; %s", bigStore.n, bigStore.dir, bigStore.load)

	ids := sample(b, db, "id", "1", 1000)
	cases := sample(b, db, "case_no", "1", 1000)
	reporters := sample(b, db, "reporter_id", "1", 1000)
	workers := sample(b, db, "assignee_id", "status IN ('dispatched', 'in_progress')", 1000)
	grids := sample(b, db, "grid_code", "1", 200)
	statuses := []model.Status{model.StatusSubmitted, model.StatusPending, model.StatusDispatched, model.StatusInProgress, model.StatusResolved, model.StatusClosed, model.StatusRejected}
	pick := func(r *rand.Rand, ss []string) string { return ss[r.IntN(len(ss))] }
	staff := func(q model.TicketQuery) func(r *rand.Rand) error {
		return func(*rand.Rand) error { _, err := s.ListStaff(ctx, q, "", 20); return err }
	}
	yes := true
	openSt := []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}
	for _, c := range []struct {
		name string
		fn   func(r *rand.Rand) error
	}{
		{"staff-default", staff(model.TicketQuery{})},
		{"staff-status", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Statuses: []model.Status{statuses[r.IntN(len(statuses))]}}, "", 20)
			return err
		}},
		{"staff-open-statuses", staff(model.TicketQuery{Statuses: openSt})},
		{"staff-grid", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Grid: pick(r, grids)}, "", 20)
			return err
		}},
		{"staff-grid-status-due", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Grid: pick(r, grids), Statuses: openSt, Sort: model.SortDue}, "", 20)
			return err
		}},
		{"staff-overdue", staff(model.TicketQuery{Overdue: &yes})},
		{"staff-late", staff(model.TicketQuery{Late: &yes})},
		{"staff-sort-due", staff(model.TicketQuery{Sort: model.SortDue})},
		{"staff-q-1char", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Words: []string{pick(r, []string{"灯", "井", "堆", "车", "树"})}}, "", 20)
			return err
		}},
		{"staff-q-2chars", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Words: []string{pick(r, []string{"井盖", "路灯", "垃圾", "停车", "积水"})}}, "", 20)
			return err
		}},
		{"staff-q-3chars", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Words: []string{pick(r, []string{"中山路", "路灯不亮", "影响行人", "污水外溢", "新街口"})}}, "", 20)
			return err
		}},
		{"staff-q-grid", func(r *rand.Rand) error {
			_, err := s.ListStaff(ctx, model.TicketQuery{Words: []string{"井盖"}, Grid: pick(r, grids)}, "", 20)
			return err
		}},
		{"staff-page-5", func(r *rand.Rand) error {
			cursor := ""
			for range 5 {
				p, err := s.ListStaff(ctx, model.TicketQuery{Grid: pick(r, grids)}, cursor, 20)
				if err != nil || p.Next == "" {
					return err
				}
				cursor = p.Next
			}
			return nil
		}},
		{"get", func(r *rand.Rand) error { _, err := s.Get(ctx, pick(r, ids)); return err }},
		{"get-by-case-no", func(r *rand.Rand) error { _, err := s.GetByCaseNo(ctx, pick(r, cases)); return err }},
		{"history", func(r *rand.Rand) error { _, err := s.History(ctx, pick(r, ids), 100); return err }},
		{"reporter", func(r *rand.Rand) error { _, _, err := s.ListByReporter(ctx, pick(r, reporters), "", 20); return err }},
		{"assigned", func(r *rand.Rand) error {
			_, _, err := s.ListAssigned(ctx, pick(r, workers), []model.Status{model.StatusDispatched, model.StatusInProgress}, "", 20)
			return err
		}},
		{"open-loads-20", func(r *rand.Rand) error {
			us := make([]string, 20)
			for i := range us {
				us[i] = pick(r, workers)
			}
			_, err := s.OpenLoads(ctx, us)
			return err
		}},
		{"pool", func(r *rand.Rand) error {
			_, _, err := s.ListPool(ctx, []string{fmt.Sprintf("社区%02d", r.IntN(40)), fmt.Sprintf("社区%02d", r.IntN(40))}, "", 20)
			return err
		}},
		{"near-500m", func(r *rand.Rand) error {
			p := model.Point{Lat: 31.95 + r.Float64()*0.15, Lng: 118.70 + r.Float64()*0.2}
			_, err := s.Near(ctx, p, 500, "", openSt, time.Time{}, 500)
			return err
		}},
		{"near-duplicates", func(r *rand.Rand) error {
			p := model.Point{Lat: 31.95 + r.Float64()*0.15, Lng: 118.70 + r.Float64()*0.2}
			_, err := s.Near(ctx, p, 50, "0101", openSt, end.Add(-30*24*time.Hour), 500)
			return err
		}},
		{"stale", func(*rand.Rand) error {
			_, err := s.Stale(ctx, model.StatusSubmitted, false, end.Add(-time.Hour), 500)
			return err
		}},
		{"open-reconciler-page", func(r *rand.Rand) error { _, err := s.Open(ctx, pick(r, ids), 500); return err }},
		{"public-default", func(*rand.Rand) error {
			_, err := s.Public(ctx, model.PublicQuery{From: end.Add(-90 * 24 * time.Hour), To: end, Limit: 1000})
			return err
		}},
		{"public-open", func(*rand.Rand) error {
			_, err := s.Public(ctx, model.PublicQuery{From: end.Add(-90 * 24 * time.Hour), To: end, Statuses: openSt, Limit: 1000})
			return err
		}},
		{"public-page-10", func(*rand.Rand) error {
			_, err := s.Public(ctx, model.PublicQuery{From: end.Add(-90 * 24 * time.Hour), To: end, Offset: 9000, Limit: 1000})
			return err
		}},
		{"stats-year-by-grid", func(*rand.Rand) error { _, err := st.Read(ctx, model.DimGrid, []string{"y2026"}); return err }},
		{"stats-month-days-by-category", func(*rand.Rand) error {
			var days []string
			for d := range 30 {
				days = append(days, "d"+end.AddDate(0, 0, -d).In(model.ChinaTime()).Format("20060102"))
			}
			_, err := st.Read(ctx, model.DimCategory, days)
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) { measure(b, 0, c.fn) })
	}

	// An export: 15,000 rows of a created_at range, pages of 100 with
	// their counts (as the service pages it).
	b.Run("export-15000-rows", func(b *testing.B) {
		// A range that holds about 15,000 tickets (the store has n over
		// 365 days).
		days := time.Duration(15000*365/bigStore.n+2) * 24 * time.Hour
		q := model.TicketQuery{From: end.Add(-10*24*time.Hour - days), To: end.Add(-10 * 24 * time.Hour)}
		measure(b, 5, func(*rand.Rand) error {
			cursor, rows := "", 0
			for rows < 15000 {
				p, err := s.ListStaff(ctx, q, cursor, 100)
				if err != nil {
					return err
				}
				rows += len(p.Items)
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			if rows < 15000 {
				return fmt.Errorf("the range holds %d rows, fewer than 15,000", rows)
			}
			return nil
		})
	})

	b.Run("commit", func(b *testing.B) {
		inProgress := sample(b, db, "id", "status = 'in_progress'", 5000)
		var cpu time.Duration
		i := 0
		measure(b, 0, func(r *rand.Rand) error {
			tk, err := s.Get(ctx, inProgress[i%len(inProgress)])
			i++
			if err != nil {
				return err
			}
			after := *tk
			after.Timeline = slices.Clone(tk.Timeline)
			if err := after.Urge(model.Act{At: end, By: model.Actor{ID: "staff1", Role: model.RoleStaff}, Note: "请尽快处理"}); err != nil {
				return err
			}
			c0 := cpuTime()
			err = s.Commit(ctx, tk, &after)
			cpu += cpuTime() - c0
			return err
		})
		b.ReportMetric(float64(cpu.Microseconds())/float64(i)/1000, "cpu-ms/commit")
	})

	b.Run("rebuild", func(b *testing.B) {
		t0, c0 := time.Now(), cpuTime()
		n, err := st.Rebuild(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "tickets")
		b.ReportMetric(time.Since(t0).Seconds(), "s/rebuild")
		b.ReportMetric((cpuTime() - c0).Seconds(), "cpu-s/rebuild")
		b.ReportMetric(0, "ns/op")
	})

	// Open last: it closes the store the others use. After a crash
	// (no clean-shutdown mark) Open checks the whole file.
	b.Run("open", func(b *testing.B) {
		{
			for _, crashed := range []bool{true, false} {
				if err := bigStore.db.Close(); err != nil {
					b.Fatal(err)
				}
				if crashed {
					_ = os.Remove(filepath.Join(bigStore.dir, cleanMark))
				}
				t0 := time.Now()
				d, err := Open(ctx, bigStore.dir, Options{Instance: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				bigStore.db = d
				name := "ms/open"
				if crashed {
					name = "ms/open-after-crash"
				}
				b.ReportMetric(time.Since(t0).Seconds()*1000, name)
			}
		}
		b.ReportMetric(0, "ns/op")
	})

	b.Run("bytes-per-ticket", func(b *testing.B) {
		db := bigStore.db
		{
			fi, err := os.Stat(filepath.Join(bigStore.dir, FileName))
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			if err := db.r.QueryRow("SELECT count(*) FROM tickets").Scan(&n); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fi.Size())/float64(n), "bytes/ticket")
			b.ReportMetric(float64(fi.Size())/1e6, "MB")
			b.ReportMetric(0, "ns/op")
		}
	})
}
