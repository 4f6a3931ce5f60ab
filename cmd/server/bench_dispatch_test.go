package main

// Dispatch latency under a sustained, open-loop load of reports: from the
// report's 201 to the ticket appearing in the assignee's GET /api/v1/tasks.
// See docs/bench-dispatch.md for the method and its error. Run it with
//
//	go test -v -run '^$' -bench BenchmarkDispatchLatency -benchtime 1x -timeout 30m ./cmd/server/
//
// (-v: without it the testing package cuts a benchmark's log to ten lines).
// `go test ./cmd/server/` (no -bench) does not run it. The load runs once
// per call whatever b.N is; -benchtime 1x avoids a second call.
//
// Two observers time each report: a Redis tap, reading the notify stream
// the dispatcher writes to right after committing an assignment, and an
// HTTP observer polling GET /api/v1/reports/{id} as the reporter (status
// dispatched comes from the same single-document write that puts the ticket
// in the assignee's /tasks). Each gives an upper bound; the observer also a
// lower bound. Every worker's /tasks is paged through at the end to confirm
// each ticket is listed for exactly its assignee, in the report's grid.
//
// Knobs (defaults in the consts below): CGT_BENCH_DISPATCH_RATE (reports/s),
// CGT_BENCH_DISPATCH_SECONDS (load duration), CGT_BENCH_DISPATCH_POLL_MS
// (HTTP poll interval; 0 turns the HTTP observer off, leaving the tap),
// CGT_BENCH_DISPATCH_GOROUTINES=/path/prefix (goroutine dumps of the whole
// process at each quarter of the load), CGT_BENCH_DISPATCH_CPUPROFILE=/path
// (a CPU profile of the whole process over twice the load's duration).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

const (
	dispatchBenchRate      = 100              // reports per second offered (open loop)
	dispatchBenchDuration  = 20 * time.Second // how long reports are sent
	dispatchBenchWorkers   = 10               // grid workers, half in each grid, all on duty
	dispatchBenchResidents = 100              // residents, round robin
	dispatchBenchPoll      = 5 * time.Millisecond
	dispatchBenchMaxPoll   = time.Second            // the poll interval grows to this for slow reports
	dispatchBenchPollConc  = 16                     // polls in flight at most
	dispatchBenchDrain     = 60 * time.Second       // how long after the last report dispatches may take
	dispatchBenchWindow    = 5 * time.Second        // latency is also shown per window of send time
	dispatchBenchTarget    = 100 * time.Millisecond // the p99 target
)

// dispatchBenchCategories have duplicate radii of at most 30 m; reports are
// laid on a 35 m lattice, one category per report in turn, so no report is
// a duplicate of another and every one is routed (the duplicate search still
// runs for each).
var dispatchBenchCategories = []string{"1101", "1102", "0503", "0201", "0502"}

const dispatchBenchSpacingM = 35.0

func dispatchBenchSetting(name string, def float64) float64 {
	if s := os.Getenv(name); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 {
			return v
		}
	}
	return def
}

// dispatchBenchEnv is testEnv for this benchmark: production mode on the
// test stores, quiet logs, and limits that do not interfere.
func dispatchBenchEnv(tb testing.TB) map[string]string {
	tb.Helper()
	return map[string]string{
		"HTTP_ADDR":              "127.0.0.1:0",
		"MONGODB_URI":            testenv.MongoURI(tb),
		"MONGODB_DATABASE":       testenv.Name("benchdl_"),
		"REDIS_URL":              testenv.RedisURL(tb),
		"REDIS_KEY_PREFIX":       testenv.Name("benchdl") + ":",
		"TOKEN_SECRET":           strings.Repeat("0123456789abcdef", 3),
		"WECHAT_SIMULATOR":       "true",
		"WECHAT_APPID":           testenv.Name("wxsim"),
		"WECHAT_PUSH_TOKEN":      "bench-push-token", // photo verdicts are delivered, as in production
		"ADMIN_USERNAME":         adminUser,
		"ADMIN_PASSWORD":         adminPass,
		"LOG_LEVEL":              "warn",
		"UPLOADS_PER_MINUTE":     "1000000",
		"REPORTS_PER_DAY":        "1000000",
		"LOGIN_RATE_PER_IP":      "1000000",
		"LOGIN_RATE_PER_ACCOUNT": "1000000",
	}
}

// dispatchBenchLog keeps the tail of the server's log.
type dispatchBenchLog struct {
	mu sync.Mutex
	b  []byte
}

func (l *dispatchBenchLog) Write(p []byte) (int, error) {
	const keep = 128 << 10
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 2*keep {
		l.b = append(l.b[:0], l.b[len(l.b)-keep:]...)
	}
	return len(p), nil
}

func (l *dispatchBenchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// startDispatchBenchServer is startServer for any testing.TB. stop shuts
// the server down (once); when tb ends it is stopped if still running and
// the run's database and Redis keys are removed.
func startDispatchBenchServer(tb testing.TB, env map[string]string) (c *apitest.Client, logs *dispatchBenchLog, stop func() error) {
	tb.Helper()
	tb.Cleanup(func() { // registered first, so it runs after the server has stopped
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if m, err := mongodb.OpenMongo(ctx, env["MONGODB_URI"], env["MONGODB_DATABASE"]); err == nil {
			_ = m.Drop(ctx)
			_ = m.Close(ctx)
		}
		if o, err := redis.ParseURL(env["REDIS_URL"]); err == nil {
			rc := redis.NewClient(o)
			testenv.DeletePrefix(rc, env["REDIS_KEY_PREFIX"])
			_ = rc.Close()
		}
	})
	logs = &dispatchBenchLog{}
	addr, stop := launch(tb, env, options{}, logs)
	return apitest.New("http://" + addr), logs, stop
}

type dispatchBenchWorker struct {
	name, grid, token, id string
}

// dispatchBenchCity uploads the two grids of dispatch_test.go and binds n
// workers, alternately to grid A and grid B, all on duty (as newCity does).
func dispatchBenchCity(tb testing.TB, c *apitest.Client, n int) []dispatchBenchWorker {
	tb.Helper()
	staff := c.LoginStaff(tb, adminUser, adminPass)
	if r := c.Do(tb, "POST", "/api/v1/admin/grids", staff, gridsGeoJSON); r.Status != 200 {
		tb.Fatalf("grids: %d %s", r.Status, r.Body)
	}
	var out []dispatchBenchWorker
	for i := range n {
		w := dispatchBenchWorker{name: fmt.Sprintf("压测网格员%02d", i), grid: []string{gridA, gridB}[i%2]}
		r := c.Do(tb, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": w.name, "phone": fmt.Sprint(13800000000 + i), "grid_codes": []string{w.grid}})
		if r.Status != 201 {
			tb.Fatalf("worker: %d %s", r.Status, r.Body)
		}
		invite := r.JSON(tb)["invite_code"].(string)
		w.token, w.id = c.Login(tb, fmt.Sprintf("bench-dispatch-worker-%d", i))
		if r := c.Do(tb, "POST", "/api/v1/me/bind", w.token, map[string]string{"invite_code": invite}); r.Status != 200 {
			tb.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		if r := c.Do(tb, "PUT", "/api/v1/me/duty", w.token, map[string]bool{"on_duty": true}); r.Status != 200 {
			tb.Fatalf("duty: %d %s", r.Status, r.Body)
		}
		out = append(out, w)
	}
	return out
}

// dispatchBenchSlot is where report i goes: its category, its WGS-84 point
// and the grid containing it. Consecutive reports alternate grids.
func dispatchBenchSlot(i int) (category string, lat, lng float64, grid string) {
	const (
		margin = 0.0004 // ~40 m inside the grid's edges
		lat0   = 32.035 + margin
		lat1   = 32.045 - margin
		width  = 0.005 - 2*margin // of a grid, in degrees of longitude
	)
	dLat := dispatchBenchSpacingM / 111_320.0
	dLng := dispatchBenchSpacingM / (111_320.0 * math.Cos(32.04*math.Pi/180))
	cols := int(width/dLng) + 1
	rows := int((lat1-lat0)/dLat) + 1
	nc := len(dispatchBenchCategories)
	category = dispatchBenchCategories[i%nc]
	cell := i / nc
	g := cell % 2
	pos := (cell / 2) % (cols * rows)
	lat = lat0 + float64(pos/cols)*dLat
	lng = 118.780 + float64(g)*0.005 + margin + float64(pos%cols)*dLng
	return category, lat, lng, []string{gridA, gridB}[g]
}

// dispatchBenchCapacity is how many reports fit the lattice without two of
// one category at one point.
func dispatchBenchCapacity() int {
	seen := map[string]bool{}
	for i := 0; ; i++ {
		c, lat, lng, _ := dispatchBenchSlot(i)
		k := fmt.Sprintf("%s %.7f %.7f", c, lat, lng)
		if seen[k] {
			return i
		}
		seen[k] = true
	}
}

// dispatchBenchHTTP is a goroutine-safe client that returns errors instead
// of failing the benchmark (apitest's Fatal must stay on the main goroutine).
type dispatchBenchHTTP struct {
	base string
	c    *http.Client
}

func (h *dispatchBenchHTTP) do(method, path, token, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (h *dispatchBenchHTTP) upload(token string, jpeg []byte) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "IMG_0001.jpg")
	if err != nil {
		return "", err
	}
	_, _ = fw.Write(jpeg)
	_ = mw.Close()
	st, b, err := h.do("POST", "/api/v1/photos", token, mw.FormDataContentType(), body.Bytes())
	if err != nil {
		return "", err
	}
	var p struct{ ID string }
	if st != 201 || json.Unmarshal(b, &p) != nil || p.ID == "" {
		return "", fmt.Errorf("upload: %d %s", st, b)
	}
	return p.ID, nil
}

// dispatchBenchTap reads the dispatch and notify streams as a plain XREAD
// reader (not a consumer: it takes nothing from the workers) and records when
// each ticket is first seen on each. The dispatch stream gets a ticket when
// screening has registered it; the notify stream gets the assignee's job
// right after the dispatch is committed to MongoDB (Dispatcher.afterCommit:
// two ZADDs, then the XADD), so by then the ticket is in the assignee's
// /tasks.
type dispatchBenchTap struct {
	mu         sync.Mutex
	registered map[string]time.Time
	assigned   map[string]time.Time
	assignee   map[string]string
	reads      int
}

func (tp *dispatchBenchTap) run(ctx context.Context, rdb *redis.Client, dispatchKey, notifyKey string) error {
	last := []string{"0-0", "0-0"}
	for ctx.Err() == nil {
		res, err := rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{dispatchKey, notifyKey, last[0], last[1]}, Count: 1000, Block: 200 * time.Millisecond,
		}).Result()
		seen := time.Now()
		if err == redis.Nil || ctx.Err() != nil {
			continue
		}
		if err != nil {
			return err
		}
		tp.mu.Lock()
		tp.reads++
		for _, st := range res {
			for _, m := range st.Messages {
				p, _ := m.Values["p"].(string)
				if st.Stream == dispatchKey {
					last[0] = m.ID
					if _, ok := tp.registered[p]; !ok {
						tp.registered[p] = seen
					}
					continue
				}
				last[1] = m.ID
				var job struct {
					Key    string `json:"key"`
					UserID string `json:"user_id"`
				}
				if json.Unmarshal([]byte(p), &job) != nil {
					continue
				}
				parts := strings.Split(job.Key, "/")
				if len(parts) != 4 || parts[1] != "assigned" {
					continue
				}
				if _, ok := tp.assigned[parts[0]]; !ok {
					tp.assigned[parts[0]] = seen
					tp.assignee[parts[0]] = job.UserID
				}
			}
		}
		tp.mu.Unlock()
	}
	return nil
}

// dispatchBenchResult is one report's story.
type dispatchBenchResult struct {
	slot      int
	scheduled time.Time // when the open-loop schedule said to send it
	sent      time.Time
	got201    time.Time
	post      time.Duration
	status    int
	err       string
	id        string
	final     string        // last status seen by the HTTP observer
	lo, hi    time.Duration // bracket of the HTTP-observed dispatch, from the 201
	seen      bool          // the HTTP observer saw it dispatched
	polls     int
}

type dispatchBenchDurations []time.Duration

// q is the nearest-rank quantile of sorted durations.
func (d dispatchBenchDurations) q(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func dispatchBenchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func dispatchBenchSummary(d dispatchBenchDurations) string {
	slices.Sort(d)
	if len(d) == 0 {
		return "n=0"
	}
	return fmt.Sprintf("n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f ms", len(d),
		dispatchBenchMS(d.q(0.50)), dispatchBenchMS(d.q(0.90)), dispatchBenchMS(d.q(0.99)), dispatchBenchMS(d[len(d)-1]))
}

func BenchmarkDispatchLatency(b *testing.B) {
	rate := dispatchBenchSetting("CGT_BENCH_DISPATCH_RATE", dispatchBenchRate)
	duration := time.Duration(dispatchBenchSetting("CGT_BENCH_DISPATCH_SECONDS", dispatchBenchDuration.Seconds()) * float64(time.Second))
	poll := time.Duration(dispatchBenchSetting("CGT_BENCH_DISPATCH_POLL_MS", float64(dispatchBenchPoll/time.Millisecond)) * float64(time.Millisecond))
	n := int(rate * duration.Seconds())
	if rate <= 0 || n < 1 {
		b.Fatalf("rate %v for %v sends no report", rate, duration)
	}
	if capacity := dispatchBenchCapacity(); n > capacity {
		b.Fatalf("%d reports do not fit the lattice of %d distinct (category, point) slots: shorten the run or add categories", n, capacity)
	}

	env := dispatchBenchEnv(b)
	serverStart := time.Now()
	c, logs, stopServer := startDispatchBenchServer(b, env)
	workers := dispatchBenchCity(b, c, dispatchBenchWorkers)
	workerByID := map[string]dispatchBenchWorker{}
	for _, w := range workers {
		workerByID[w.id] = w
	}

	h := &dispatchBenchHTTP{base: c.Base, c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 2 * time.Minute,
	}}}

	// Not measured: residents and one photo per report.
	residents := make([]string, dispatchBenchResidents)
	for i := range residents {
		residents[i], _ = c.Login(b, fmt.Sprintf("bench-dispatch-resident-%d", i))
	}
	jpeg := apitest.JPEGWithGPS(b, 160, 120, wgsLat, wgsLng, takenAt)
	photos := make([]string, n)
	{
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		prepStart := time.Now()
		for range 4 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					id, err := h.upload(residents[i%len(residents)], jpeg)
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
					photos[i] = id
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatalf("pre-upload: %v", err)
		}
		b.Logf("setup: %d workers, %d residents, %d photos uploaded in %v", len(workers), len(residents), n, time.Since(prepStart).Round(time.Millisecond))
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		cat, lat, lng, _ := dispatchBenchSlot(i)
		bodies[i], _ = json.Marshal(map[string]any{
			"category": cat, "description": fmt.Sprintf("压测反映%d：路口井盖松动，车辆经过时响声很大", i),
			"location": map[string]any{"lat": lat, "lng": lng, "coord_type": "wgs84"},
			"address":  "南京市鼓楼区幸福路" + strconv.Itoa(i%200+1) + "号", "photo_ids": []string{photos[i]},
		})
	}

	// The Redis tap.
	ro, err := redis.ParseURL(env["REDIS_URL"])
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(ro)
	defer rdb.Close()
	tap := &dispatchBenchTap{registered: map[string]time.Time{}, assigned: map[string]time.Time{}, assignee: map[string]string{}}
	tapCtx, stopTap := context.WithCancel(context.Background())
	tapErr := make(chan error, 1)
	prefix := env["REDIS_KEY_PREFIX"]
	go func() { tapErr <- tap.run(tapCtx, rdb, prefix+"{dispatch}:stream", prefix+"{notify}:stream") }()
	defer stopTap()

	// The load: report i is sent at start + i/rate, each from its own
	// goroutine, whatever the server's answers do.
	results := make([]dispatchBenchResult, n)
	var polls, pollErrs atomic.Int64
	pollSlots := make(chan struct{}, dispatchBenchPollConc)
	var wg sync.WaitGroup
	period := time.Duration(float64(time.Second) / rate)
	b.ResetTimer()
	start := time.Now().Add(20 * time.Millisecond)
	cpuMachine0, cpuSelf0, cpuOK := dispatchBenchCPU()
	stopDumps := dispatchBenchGoroutineDumps(b, os.Getenv("CGT_BENCH_DISPATCH_GOROUTINES"), start, duration)
	if path := os.Getenv("CGT_BENCH_DISPATCH_CPUPROFILE"); path != "" {
		// The whole process (client, server, FerretDB, SQLite) during the
		// load and as long again after it.
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		stopProfile := time.AfterFunc(2*duration, func() { pprof.StopCPUProfile(); _ = f.Close() })
		defer func() {
			if stopProfile.Stop() {
				pprof.StopCPUProfile()
				_ = f.Close()
			}
		}()
	}
	drainBy := start.Add(time.Duration(n)*period + dispatchBenchDrain)
	for i := range n {
		at := start.Add(time.Duration(i) * period)
		time.Sleep(time.Until(at))
		wg.Go(func() {
			r := &results[i]
			r.slot, r.scheduled, r.sent = i, at, time.Now()
			st, body, err := h.do("POST", "/api/v1/reports", residents[i%len(residents)], "application/json", bodies[i])
			r.got201 = time.Now()
			r.post, r.status = r.got201.Sub(r.sent), st
			var rep struct{ ID, Status string }
			switch {
			case err != nil:
				r.err = err.Error()
				return
			case st != 201 || json.Unmarshal(body, &rep) != nil || rep.ID == "":
				r.err = fmt.Sprintf("POST /reports: %d %.200s", st, body)
				return
			}
			r.id, r.final = rep.ID, rep.Status
			if poll <= 0 {
				return
			}
			// The HTTP observer: poll the report as its reporter until it
			// reads dispatched. The dispatch happened after the last poll
			// that read otherwise was sent, and before the one that read
			// dispatched came back. The interval grows with the wait (a
			// tenth of it, from poll up to a second) and at most
			// dispatchBenchPollConc polls are in flight, so that an
			// overloaded server is not buried under its observer's polls.
			prev := r.got201
			for time.Now().Before(drainBy) {
				time.Sleep(min(max(poll, time.Since(r.got201)/10), dispatchBenchMaxPoll))
				pollSlots <- struct{}{}
				sent := time.Now()
				st, body, err := h.do("GET", "/api/v1/reports/"+rep.ID, residents[i%len(residents)], "", nil)
				got := time.Now()
				<-pollSlots
				r.polls++
				polls.Add(1)
				if err != nil || st != 200 || json.Unmarshal(body, &rep) != nil {
					pollErrs.Add(1)
					continue
				}
				r.final = rep.Status
				switch rep.Status {
				case "submitted", "pending":
					prev = sent
					continue
				case "dispatched", "in_progress":
					r.seen, r.lo, r.hi = true, prev.Sub(r.got201), got.Sub(r.got201)
				}
				return
			}
		})
	}
	lastSend := time.Now()
	wg.Wait()
	stopDumps()
	// Give the tap until the drain deadline for tickets the HTTP observer
	// was not watching (or all of them when it is off).
	for time.Now().Before(drainBy) {
		tap.mu.Lock()
		missing := 0
		for i := range results {
			if results[i].id != "" {
				if _, ok := tap.assigned[results[i].id]; !ok {
					missing++
				}
			}
		}
		tap.mu.Unlock()
		if missing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // one more tap read
	stopTap()
	observedUntil := time.Now()
	cpuMachine1, cpuSelf1, cpuOK1 := dispatchBenchCPU()
	if err := <-tapErr; err != nil {
		b.Errorf("redis tap: %v", err)
	}
	b.StopTimer()

	// Confirm in /tasks: every worker's open tasks, paged through.
	inTasks := map[string][]string{} // ticket → workers listing it
	var taskPage dispatchBenchDurations
	for _, w := range workers {
		cursor := ""
		for {
			t0 := time.Now()
			st, body, err := h.do("GET", "/api/v1/tasks?limit=100&cursor="+cursor, w.token, "", nil)
			taskPage = append(taskPage, time.Since(t0))
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			if err != nil || st != 200 || json.Unmarshal(body, &page) != nil {
				b.Errorf("GET /tasks of %s: %d %v %.200s", w.name, st, err, body)
				break
			}
			for _, it := range page.Items {
				inTasks[it.ID] = append(inTasks[it.ID], w.id)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}

	// Tally.
	// best is each report's tightest upper bound of its latency (the tap or
	// the HTTP observer's, whichever is earlier); lower its lower bound (the
	// HTTP observer's, or 0 without one).
	var post, best, lower, tapLat, screenStage, routeStage, httpLo, httpHi, sendLag dispatchBenchDurations
	perWindow := map[int]dispatchBenchDurations{}
	created, failedPost, undispatched, wrongGrid, notListed, tapAfterHi := 0, 0, 0, 0, 0, 0
	finals, postErrs := map[string]int{}, map[string]int{}
	last201 := time.Time{}
	perWorker := map[string]int{}
	for i := range results {
		r := &results[i]
		sendLag = append(sendLag, r.sent.Sub(r.scheduled))
		if r.err != "" {
			failedPost++
			postErrs[strings.SplitN(r.err, " {", 2)[0]]++
			continue
		}
		created++
		post = append(post, r.post)
		if r.got201.After(last201) {
			last201 = r.got201
		}
		if r.seen {
			httpLo, httpHi = append(httpLo, r.lo), append(httpHi, r.hi)
		}
		w := int(r.scheduled.Sub(start) / dispatchBenchWindow)
		at, ok := tap.assigned[r.id]
		if !ok {
			// Never dispatched while observed: counted at the end of the
			// observation, a lower bound of its latency.
			undispatched++
			finals[r.final]++
			best, lower = append(best, observedUntil.Sub(r.got201)), append(lower, observedUntil.Sub(r.got201))
			perWindow[w] = append(perWindow[w], observedUntil.Sub(r.got201))
			continue
		}
		d := at.Sub(r.got201)
		tapLat = append(tapLat, d)
		if r.seen {
			best, lower = append(best, min(d, r.hi)), append(lower, r.lo)
		} else {
			best, lower = append(best, d), append(lower, 0)
		}
		perWindow[w] = append(perWindow[w], best[len(best)-1])
		if reg, ok := tap.registered[r.id]; ok {
			screenStage = append(screenStage, reg.Sub(r.got201))
			routeStage = append(routeStage, at.Sub(reg))
		}
		if r.seen && d > r.hi+2*time.Millisecond {
			tapAfterHi++
		}
		assignee := tap.assignee[r.id]
		perWorker[assignee]++
		_, _, _, grid := dispatchBenchSlot(r.slot)
		if workerByID[assignee].grid != grid {
			wrongGrid++
		}
		if l := inTasks[r.id]; len(l) != 1 || l[0] != assignee {
			notListed++
		}
	}
	sentSpan := lastSend.Sub(start)
	offered := float64(n) / max(sentSpan.Seconds(), 1e-9)
	achieved := 0.0
	if created > 0 {
		achieved = float64(created) / last201.Sub(start).Seconds()
	}

	b.Logf("load: %d reports at %.0f/s for %v, open loop, began %v after server start; sent over %v: offered %.1f/s; 201s %.1f/s; send lag %s",
		n, rate, duration, start.Sub(serverStart).Round(time.Second), sentSpan.Round(time.Millisecond), offered, achieved, dispatchBenchSummary(sendLag))
	if cpuOK && cpuOK1 {
		wall := observedUntil.Sub(start).Seconds()
		self, machine := (cpuSelf1 - cpuSelf0).Seconds(), (cpuMachine1 - cpuMachine0).Seconds()
		b.Logf("CPU from the load's start to the end of observation (%.0f s): this process and its children (redis-server) %.2f cores, other processes %.2f cores, of %d",
			wall, self/wall, max(0, machine-self)/wall, runtime.NumCPU())
	}
	b.Logf("POST /reports → 201:                  %s", dispatchBenchSummary(post))
	if failedPost > 0 {
		b.Logf("  %d POSTs failed: %v", failedPost, postErrs)
	}
	b.Logf("201 → in /tasks, upper bound:         %s", dispatchBenchSummary(best))
	if poll > 0 {
		b.Logf("201 → in /tasks, lower bound:         %s", dispatchBenchSummary(lower))
	}
	if undispatched > 0 {
		b.Logf("  %d of %d created reports were not dispatched within the %v drain (last statuses %v); they are counted at the end of observation, so these quantiles are lower bounds",
			undispatched, created, dispatchBenchDrain, finals)
	}
	b.Logf("  Redis tap alone:                    %s", dispatchBenchSummary(tapLat))
	b.Logf("  201 → registered (screening stage): %s", dispatchBenchSummary(screenStage))
	b.Logf("  registered → dispatched (routing):  %s", dispatchBenchSummary(routeStage))
	if poll > 0 {
		b.Logf("  HTTP observer alone, lower bound:   %s", dispatchBenchSummary(httpLo))
		b.Logf("                       upper bound:   %s", dispatchBenchSummary(httpHi))
		b.Logf("  %d polls (%.0f/s, %d failed); tap later than the HTTP upper bound + 2 ms: %d of %d",
			polls.Load(), float64(polls.Load())/observedUntil.Sub(start).Seconds(), pollErrs.Load(), tapAfterHi, len(httpHi))
	}
	windows := slices.Sorted(maps.Keys(perWindow))
	for _, w := range windows {
		b.Logf("  sent %3ds–%3ds: %s", w*int(dispatchBenchWindow/time.Second), (w+1)*int(dispatchBenchWindow/time.Second), dispatchBenchSummary(perWindow[w]))
	}
	b.Logf("confirmation: %d workers' /tasks paged through (%d requests, %s); tasks per worker %v",
		len(workers), len(taskPage), dispatchBenchSummary(taskPage), dispatchBenchPerWorker(workers, perWorker))
	if wrongGrid > 0 || notListed > 0 {
		b.Errorf("%d reports went to another grid's worker, %d are not listed in exactly their assignee's /tasks", wrongGrid, notListed)
	}
	if p99 := best.q(0.99); len(best) > 0 && p99 >= dispatchBenchTarget {
		b.Logf("p99 %.1f ms is over the %v target", dispatchBenchMS(p99), dispatchBenchTarget)
	}

	// What one query costs on this store now that the run's tickets are in
	// it, measured with the server stopped.
	if err := stopServer(); err != nil {
		b.Errorf("server stopped with %v", err)
	}
	dispatchBenchProbe(b, env, workers[0].id)
	if b.Failed() {
		b.Logf("server log (tail):\n%s", logs)
	}

	for _, d := range []dispatchBenchDurations{post, best, lower} {
		slices.Sort(d)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(offered, "offered-reports/s")
	b.ReportMetric(achieved, "created-reports/s")
	for _, m := range []struct {
		name string
		d    dispatchBenchDurations
	}{{"dispatch", best}, {"post", post}} {
		if len(m.d) == 0 {
			continue
		}
		b.ReportMetric(dispatchBenchMS(m.d.q(0.50)), m.name+"-p50-ms")
		b.ReportMetric(dispatchBenchMS(m.d.q(0.90)), m.name+"-p90-ms")
		b.ReportMetric(dispatchBenchMS(m.d.q(0.99)), m.name+"-p99-ms")
		b.ReportMetric(dispatchBenchMS(m.d[len(m.d)-1]), m.name+"-max-ms")
	}
	if poll > 0 && len(lower) > 0 {
		b.ReportMetric(dispatchBenchMS(lower.q(0.50)), "dispatch-p50-lo-ms")
		b.ReportMetric(dispatchBenchMS(lower.q(0.99)), "dispatch-p99-lo-ms")
	}
	b.ReportMetric(float64(failedPost), "post-errors")
	b.ReportMetric(float64(undispatched), "undispatched")
}

// dispatchBenchProbe times, on the run's database with the server stopped,
// the query shapes the pipeline repeats for every report: a lookup by _id
// alone; the apply step's {_id, version}; the routing's per-candidate count;
// the /tasks page; Photos.Many's {_id: {$in}}; an insert. The newest ticket
// and photo are the ones looked up, as in the pipeline.
func dispatchBenchProbe(tb testing.TB, env map[string]string, workerID string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// After an overload the store may still be working through queries
	// whose clients gave up: wait for it to answer.
	var m *mongodb.Mongo
	var err error
	for range 24 {
		if m, err = mongodb.OpenMongo(ctx, env["MONGODB_URI"], env["MONGODB_DATABASE"]); err == nil {
			break
		}
		time.Sleep(5 * time.Second)
	}
	if err != nil {
		tb.Logf("probe: %v", err)
		return
	}
	defer m.Close(ctx)
	db := m.Database()
	tickets, photos := db.Collection("tickets"), db.Collection("photos")
	newest := func(c *mongo.Collection) (bson.Raw, error) {
		return c.FindOne(ctx, bson.M{}, mongoopts.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Raw()
	}
	ticket, err := newest(tickets)
	if err != nil {
		tb.Logf("probe: no tickets (%v)", err)
		return
	}
	photo, err := newest(photos)
	if err != nil {
		tb.Logf("probe: no photos (%v)", err)
		return
	}
	count, _ := tickets.EstimatedDocumentCount(ctx)
	nPhotos, _ := photos.EstimatedDocumentCount(ctx)
	id, _ := ticket.Lookup("_id").StringValueOK()
	version := ticket.Lookup("version").AsInt64()
	photoID, _ := photo.Lookup("_id").StringValueOK()
	open := bson.M{"$in": bson.A{"dispatched", "in_progress"}}
	timeIt := func(f func() error) string {
		var ds dispatchBenchDurations
		for range 3 {
			t0 := time.Now()
			if err := f(); err != nil {
				return "error: " + err.Error()
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		return fmt.Sprintf("%.1f ms", dispatchBenchMS(ds.q(0.5)))
	}
	all := func(cur *mongo.Cursor, err error) error {
		if err != nil {
			return err
		}
		var docs []bson.Raw
		return cur.All(ctx, &docs)
	}
	byID := timeIt(func() error { return tickets.FindOne(ctx, bson.M{"_id": id}).Err() })
	byIDVersion := timeIt(func() error { return tickets.FindOne(ctx, bson.M{"_id": id, "version": version}).Err() })
	countOpen := timeIt(func() error {
		_, err := tickets.CountDocuments(ctx, bson.M{"assignee_id": workerID, "status": open})
		return err
	})
	taskPage := timeIt(func() error {
		return all(tickets.Find(ctx, bson.M{"assignee_id": workerID, "status": open},
			mongoopts.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(101)))
	})
	photosIn := timeIt(func() error { return all(photos.Find(ctx, bson.M{"_id": bson.M{"$in": bson.A{photoID}}})) })
	probeN := 0
	insert := timeIt(func() error {
		probeN++
		_, err := db.Collection("ticket_log").InsertOne(ctx, bson.M{"_id": fmt.Sprintf("probe/%d", probeN), "at": time.Now()})
		return err
	})
	tb.Logf("store probe (server stopped; %d tickets of %d bytes, %d photos), median of 3: tickets {_id} %s; {_id, version} %s; count {assignee_id, status} %s; the /tasks query %s; photos {_id: {$in: [id]}} %s; insert %s",
		count, len(ticket), nPhotos, byID, byIDVersion, countOpen, taskPage, photosIn, insert)
}

// dispatchBenchGoroutineDumps writes the in-process goroutine profile
// (server, stores and clients alike) to prefix-N.txt every quarter of the
// load: where the waiting happens, which a CPU profile does not show.
func dispatchBenchGoroutineDumps(tb testing.TB, prefix string, start time.Time, d time.Duration) (stop func()) {
	if prefix == "" {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i <= 4; i++ {
			select {
			case <-done:
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * d / 4))):
			}
			f, err := os.Create(fmt.Sprintf("%s-%d.txt", prefix, i))
			if err != nil {
				tb.Logf("goroutine dump: %v", err)
				return
			}
			_ = pprof.Lookup("goroutine").WriteTo(f, 1)
			_ = f.Close()
		}
	})
	return func() { close(done); wg.Wait() }
}

// dispatchBenchCPU reads, on Linux, the machine's busy CPU time and that of
// this process and its children (the server, its embedded FerretDB and the
// load generator are this process; redis-server is a child): the rest of
// the machine's busy time over the load is what other processes took.
func dispatchBenchCPU() (machine, self time.Duration, ok bool) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		machine += time.Duration(v) * tick
	}
	// /proc/PID/stat after the name: state(0) ppid(1) ... utime(11) stime(12).
	procTime := func(path string) (ppid int, t time.Duration, ok bool) {
		b, err := os.ReadFile(path)
		i := strings.LastIndexByte(string(b), ')')
		if err != nil || i < 0 {
			return 0, 0, false
		}
		o := strings.Fields(string(b[i+1:]))
		if len(o) < 13 {
			return 0, 0, false
		}
		ppid, _ = strconv.Atoi(o[1])
		ut, _ := strconv.ParseInt(o[11], 10, 64)
		st, _ := strconv.ParseInt(o[12], 10, 64)
		return ppid, time.Duration(ut+st) * tick, true
	}
	_, self, ok = procTime("/proc/self/stat")
	if !ok {
		return 0, 0, false
	}
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		if ppid, t, ok := procTime(p); ok && ppid == os.Getpid() {
			self += t
		}
	}
	return machine, self, true
}

func dispatchBenchPerWorker(workers []dispatchBenchWorker, counts map[string]int) []int {
	out := make([]int, len(workers))
	for i, w := range workers {
		out[i] = counts[w.id]
	}
	return out
}
