package mongodb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// BenchmarkRebuild times Stats.Rebuild — what `server rebuild-stats` runs —
// over CGT_BENCH_REBUILD_TICKETS tickets: a year (2026) of reports over
// 5,000 grids (BENCH_GRIDS), bulk-loaded straight into the store as
// mongodb.Tickets stores them (Tickets.Load), all counted as of their
// version. It reports tickets per second and the peak memory of the
// rebuild: the Go heap (sampled) and the process's resident set, which
// includes the embedded FerretDB.
//
// Meaningful on MongoDB (MONGODB_URI): FerretDB, which the tests embed,
// reads a collection whole for any query but one _id.
//
//	CGT_BENCH_REBUILD_TICKETS=1000000 go test -run '^$' -bench Rebuild -benchtime 1x -timeout 6h ./store/mongodb/
func BenchmarkRebuild(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("CGT_BENCH_REBUILD_TICKETS"))
	if n <= 0 {
		b.Skip("set CGT_BENCH_REBUILD_TICKETS (e.g. 1000000) to load that many tickets and time the statistics rebuild; " +
			"on embedded FerretDB a million take tens of minutes to load and several GB of disk")
	}
	ctx := context.Background()
	m := testenv.Mongo(b)
	r := testenv.Redis(b)
	tickets := mongodb.NewTickets(m, "bench", time.Now)
	progress := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s rebuild bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}

	gen := newCity(gridCount())
	const batch = 1000
	start := time.Now()
	counted := 0
	withGrid := map[string]bool{} // grids with a ticket: the summary's groups
	// Two loaders: one generates the next batch while the other inserts.
	batches := make(chan []*model.Ticket, 2)
	go func() {
		defer close(batches)
		rng := rand.New(rand.NewPCG(2026, 5))
		for i := 0; i < n; i += batch {
			ts := make([]*model.Ticket, 0, batch)
			for range min(batch, n-i) {
				ts = append(ts, gen.ticket(b, rng))
			}
			batches <- ts
		}
	}()
	loaded := 0
	for ts := range batches {
		if err := tickets.Load(ctx, ts); err != nil {
			b.Fatal(err)
		}
		for _, t := range ts {
			if t.Version > 0 {
				counted++
			}
			if t.GridCode != "" {
				withGrid[t.GridCode] = true
			}
		}
		loaded += len(ts)
		if loaded%50_000 == 0 || loaded == n {
			progress("loaded %d tickets in %s (%.0f/s)", loaded, time.Since(start).Round(time.Second), float64(loaded)/time.Since(start).Seconds())
		}
	}
	loadTime := time.Since(start)

	stats := mongodb.NewStats(m, mongodb.StatsDeps{Tickets: tickets, Lease: redis.NewLocks(r), Cache: r, Owner: "bench"})
	// Loaded tickets are counted like commits; the rebuild comes after.
	t0 := time.Now()
	if err := stats.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	progress("counted the loaded tickets in %s", time.Since(t0).Round(time.Millisecond))

	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	peakHeap := sampleHeap()
	var took time.Duration
	var rebuilt int
	for b.Loop() {
		progress("rebuilding from %d counted tickets", counted)
		t0 := time.Now()
		got, err := stats.Rebuild(ctx)
		if err != nil {
			b.Fatal(err)
		}
		took, rebuilt = time.Since(t0), got
	}
	heap := peakHeap()
	rss := peakRSS(b)
	progress("rebuilt from %d tickets in %s: %.0f tickets/s; peak Go heap %d MB, peak RSS %d MB (with FerretDB)",
		rebuilt, took.Round(time.Millisecond), float64(rebuilt)/took.Seconds(), heap>>20, rss>>20)

	if rebuilt != counted {
		b.Fatalf("rebuilt from %d tickets, %d were counted", rebuilt, counted)
	}
	all, err := stats.Read(ctx, "all", []string{"y2026"})
	if err != nil {
		b.Fatal(err)
	}
	byGrid, err := stats.Read(ctx, "grid", []string{"y2026"})
	if err != nil {
		b.Fatal(err)
	}
	if len(all) != 1 || all[0].Values[model.CounterReported] != float64(counted) || len(byGrid) != len(withGrid) {
		b.Fatalf("after the rebuild: totals %v, %d grids; want %d reported, %d grids", all, len(byGrid), counted, len(withGrid))
	}
	progress("2026 by grid: %v reported, %d grids (load took %s)", all[0].Values[model.CounterReported], len(byGrid), loadTime.Round(time.Second))
	b.ReportMetric(float64(rebuilt)/took.Seconds(), "tickets/s")
	b.ReportMetric(took.Seconds(), "rebuild-s")
	b.ReportMetric(float64(heap>>20), "peak-heap-MB")
	b.ReportMetric(float64(rss>>20), "peak-RSS-MB")
}

// city generates a year of tickets: 5,000 grids in 100 communities, a
// grid worker per two grids, 500 party members, a dozen categories.
type city struct {
	grids      int
	categories []string
	year       time.Time
}

func newCity(grids int) *city {
	return &city{grids: grids,
		categories: []string{"0101", "0102", "0201", "0301", "0402", "0502", "0601", "0703", "0801", "0904", "1001", "1101"},
		year:       time.Date(2026, 1, 1, 0, 0, 0, 0, model.ChinaTime())}
}

// ticket is one report of the year and its life so far: about 1 in 10
// rejected or merged, 1 in 100 still submitted, most registered and
// dispatched to the grid's worker or claimed by a party member, some
// escalated, some reopened, most resolved and closed (by the resident's
// rating or the feedback window), some still open.
func (c *city) ticket(tb testing.TB, rng *rand.Rand) *model.Ticket {
	at := c.year.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
	g := rng.IntN(c.grids)
	grid, community := fmt.Sprintf("3201%011d", g), fmt.Sprintf("3201%06d", g/50)
	worker := fmt.Sprintf("w%05d", g/2)
	reporter := fmt.Sprintf("r%07d", rng.IntN(300_000))
	lat, lng := 31.9+rng.Float64()*0.3, 118.6+rng.Float64()*0.3
	t := &model.Ticket{
		ID: model.NewID(at), ReporterID: reporter, Category: c.categories[rng.IntN(len(c.categories))],
		Description: strings.Repeat("路面破损，井盖缺失，请尽快处理。", 1+rng.IntN(3)),
		Location:    model.Location{Lat: lat, Lng: lng, CoordType: model.CoordGCJ02}, Point: model.Point{Lat: lat, Lng: lng},
		Address:  fmt.Sprintf("南京市某区某街道%d号附近", rng.IntN(2000)),
		PhotoIDs: []string{model.NewID(at), model.NewID(at)}[:1+rng.IntN(2)],
		Status:   model.StatusSubmitted, Reporters: 1, CreatedAt: at,
	}
	step := func(ev model.Event, after time.Duration) {
		at = at.Add(after/2 + time.Duration(rng.Int64N(int64(after))))
		ev.At = at
		t.Timeline = append(t.Timeline, ev)
		t.Version++
	}
	t.Timeline = append(t.Timeline, model.Event{At: at, Type: model.EventReported, Status: model.StatusSubmitted, ActorID: reporter, ActorRole: model.RoleResident})
	r := rng.IntN(100)
	if r == 0 {
		return t // still submitted, at version 0: not counted yet
	}
	t.Version++ // screened
	switch {
	case r < 6:
		t.RejectReason = "不属于城管受理范围"
		step(model.Event{Type: model.EventRejected, Status: model.StatusRejected, ActorRole: model.RoleStaff, Note: t.RejectReason}, time.Hour)
		return t
	case r < 10:
		t.DuplicateOf = model.NewID(at)
		step(model.Event{Type: model.EventMerged, Status: model.StatusMerged}, time.Minute)
		return t
	}
	t.GridCode, t.Community = grid, community
	t.RegisteredAt = at.Add(time.Minute)
	t.DueAt = t.RegisteredAt.Add(time.Duration(4+rng.IntN(68)) * time.Hour)
	step(model.Event{Type: model.EventRegistered, Status: model.StatusPending}, time.Minute)
	for round := 0; ; round++ {
		if rng.IntN(7) == 0 {
			t.AssigneeID, t.AssigneeRole, t.Pool = fmt.Sprintf("p%04d", rng.IntN(500)), model.RolePartyMember, false
			step(model.Event{Type: model.EventClaimed, Status: model.StatusInProgress, ActorID: t.AssigneeID, ActorRole: model.RolePartyMember, ActorName: "党员"}, 2*time.Hour)
		} else {
			t.AssigneeID, t.AssigneeRole = worker, model.RoleGridWorker
			step(model.Event{Type: model.EventDispatched, Status: model.StatusDispatched, ActorRole: model.RoleStaff}, 10*time.Minute)
			if rng.IntN(8) == 0 {
				return t // not accepted yet
			}
			step(model.Event{Type: model.EventAccepted, Status: model.StatusInProgress, ActorID: worker, ActorRole: model.RoleGridWorker, ActorName: "网格员"}, 30*time.Minute)
		}
		if rng.IntN(10) == 0 {
			t.Escalated, t.Overdue = true, true
			step(model.Event{Type: model.EventEscalated}, 48*time.Hour)
		}
		if rng.IntN(12) == 0 {
			return t // in progress
		}
		t.Resolution = &model.Resolution{Note: "已处理完毕", PhotoIDs: []string{model.NewID(at)}, ResolverID: t.AssigneeID}
		step(model.Event{Type: model.EventResolved, Status: model.StatusResolved, ActorID: t.AssigneeID, ActorRole: t.AssigneeRole}, 6*time.Hour)
		t.Resolution.ResolvedAt = at
		switch f := rng.IntN(20); {
		case f == 0 && round == 0: // not satisfied: 返工
			t.Feedback = &model.Feedback{Satisfied: false, Rating: 2, At: at}
			t.Reopens++
			t.Resolution, t.Escalated = nil, false
			step(model.Event{Type: model.EventReopened, Status: model.StatusPending, ActorID: t.ReporterID, ActorRole: model.RoleResident}, 5*time.Hour)
			continue
		case f < 3: // waiting for the resident's rating
		case f < 11: // closed by the feedback window
			step(model.Event{Type: model.EventClosed, Status: model.StatusClosed}, 72*time.Hour)
		default:
			t.Feedback = &model.Feedback{Satisfied: true, Rating: 4 + rng.IntN(2), Comment: "满意", At: at}
			step(model.Event{Type: model.EventClosed, Status: model.StatusClosed, ActorID: t.ReporterID, ActorRole: model.RoleResident}, 5*time.Hour)
		}
		return t
	}
}

// resetPeakRSS starts the kernel's count of peak resident memory (VmHWM)
// afresh.
func resetPeakRSS(tb testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Logf("cannot reset the peak RSS (%v): it includes the load", err)
	}
}

// peakRSS is VmHWM, in bytes (0 where /proc is missing).
func peakRSS(tb testing.TB) uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Logf("no peak RSS: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sampleHeap samples the live heap every 20 ms until the returned function
// is called; it returns the peak.
func sampleHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak
	}
}
