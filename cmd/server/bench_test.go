package main

// BenchmarkReportIntake: report intake throughput against the raw MongoDB
// insert ceiling of the same run; see docs/BENCHMARKS.md. Run it with
//
//	go test -run '^$' -bench '^BenchmarkReportIntake$' -benchtime 1x -v ./cmd/server/
//
// (-v prints the setup's and the levels' log lines);
// BenchmarkReportIntakeNoKey is the same at C=8 without Idempotency-Key, and
// CGT_BENCH_INTAKE_CPUPROFILE=/tmp/intake- profiles each level's timed
// intake. `go test ./cmd/server/` (no -bench) does not run them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
)

const (
	// intakeResidents report round robin, each report with a photo of its
	// own reporter.
	intakeResidents = 50
	// intakeReports is the fixed number of reports per concurrency level
	// (and per benchmark iteration), so that the run is bounded.
	intakeReports = 100
	// intakeDrainWait bounds each wait for the screening backlog between
	// phases, so that the run stays bounded.
	intakeDrainWait = 10 * time.Second
)

// intakeEnv is testEnv for this benchmark: the same production-mode
// environment (redis-server via testenv, embedded FerretDB or MONGODB_URI,
// the WeChat simulator) with production's info-level logs, a push token so
// that the simulator's media-check verdicts are accepted, and upload and
// report limits high enough not to interfere.
func intakeEnv(tb testing.TB) map[string]string {
	tb.Helper()
	return map[string]string{
		"HTTP_ADDR":          "127.0.0.1:0",
		"MONGODB_URI":        testenv.MongoURI(tb),
		"MONGODB_DATABASE":   testenv.Name("bench_"),
		"REDIS_URL":          testenv.RedisURL(tb),
		"REDIS_KEY_PREFIX":   testenv.Name("bench") + ":",
		"TOKEN_SECRET":       strings.Repeat("0123456789abcdef", 3),
		"WECHAT_SIMULATOR":   "true",
		"WECHAT_APPID":       testenv.Name("wxsim"),
		"WECHAT_PUSH_TOKEN":  "bench-push-token",
		"ADMIN_USERNAME":     adminUser,
		"ADMIN_PASSWORD":     adminPass,
		"LOG_LEVEL":          "info",
		"UPLOADS_PER_MINUTE": "1000000",
		"REPORTS_PER_DAY":    "1000000",
	}
}

// intakeLog keeps the tail of the server's log, for a failure report,
// without growing over a long run.
type intakeLog struct {
	mu sync.Mutex
	b  []byte
}

func (l *intakeLog) Write(p []byte) (int, error) {
	const keep = 256 << 10
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 2*keep {
		l.b = append(l.b[:0], l.b[len(l.b)-keep:]...)
	}
	return len(p), nil
}

func (l *intakeLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// startIntakeServer is startServer for any testing.TB: it runs the real
// wiring in-process until tb ends, then drops the benchmark's database.
func startIntakeServer(tb testing.TB, env map[string]string) string {
	tb.Helper()
	tb.Cleanup(func() { // registered first, so it runs after the server has stopped
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := mongo.Connect(mongoopts.Client().ApplyURI(env["MONGODB_URI"])); err == nil {
			_ = c.Database(env["MONGODB_DATABASE"]).Drop(ctx)
			_ = c.Disconnect(ctx)
		}
	})
	addr, _ := launch(tb, env, options{}, &intakeLog{})
	return "http://" + addr
}

// intakeHTTP is an HTTP client for many concurrent requests to one host
// (the default transport keeps only two idle connections per host, so
// every further request would open a new one).
func intakeHTTP(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * conns
	tr.MaxIdleConnsPerHost = 2 * conns
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func intakeSend(c *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// intakeParallel runs jobs 0..n-1 on c workers and returns the first error;
// the workers stop taking jobs after one fails.
func intakeParallel(n, c int, job func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := job(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// intakeTimed runs n operations on c workers, timing each, and returns the
// operations per second over the whole run and the latencies.
func intakeTimed(n, c int, op func(i int) error) (float64, intakeLatencies, error) {
	lat := make(intakeLatencies, n)
	start := time.Now()
	err := intakeParallel(n, c, func(i int) error {
		t0 := time.Now()
		err := op(i)
		lat[i] = time.Since(t0)
		return err
	})
	return float64(n) / time.Since(start).Seconds(), lat, err
}

// intakeLatencies are per-operation durations.
type intakeLatencies []time.Duration

// quantile is the nearest-rank quantile.
func (l intakeLatencies) quantile(q float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s))-1e-9)) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func intakeMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// intakeJob is one report to submit.
type intakeJob struct {
	token string
	body  []byte
}

// intakeRun is the state of one benchmark run.
type intakeRun struct {
	base    string
	http    *http.Client
	tokens  []string
	photo   []byte
	rng     *rand.Rand
	db      *mongo.Database
	tickets *mongo.Collection
	seq     atomic.Int64
	// template is a stored ticket exactly as Insert wrote it; indexes are
	// the tickets collection's secondary indexes.
	template bson.Raw
	indexes  []mongo.IndexModel
}

// upload sends one photo as wx.uploadFile does and returns its id.
func (r *intakeRun) upload(token string) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("scene", "report")
	fw, err := mw.CreateFormFile("file", "IMG_0001.jpg")
	if err != nil {
		return "", err
	}
	_, _ = fw.Write(r.photo)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, r.base+"/api/v1/photos", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	status, b, err := intakeSend(r.http, req)
	if err != nil {
		return "", err
	}
	var p struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(b, &p) != nil || p.ID == "" {
		return "", fmt.Errorf("upload: %d %s", status, b)
	}
	return p.ID, nil
}

// prepare uploads one small photo per report (not part of the measured
// intake) and returns the reports to submit, job i by resident i%residents.
func (r *intakeRun) prepare(n int) ([]intakeJob, error) {
	photos := make([]string, n)
	err := intakeParallel(n, 8, func(i int) error {
		id, err := r.upload(r.tokens[i%len(r.tokens)])
		photos[i] = id
		return err
	})
	if err != nil {
		return nil, err
	}
	jobs := make([]intakeJob, n)
	for i := range jobs {
		// Spread over Nanjing (about 30 × 30 km) so that screening finds
		// few duplicates, as with reports of different problems.
		lat, lng := 31.90+r.rng.Float64()*0.28, 118.60+r.rng.Float64()*0.35
		body, _ := json.Marshal(map[string]any{
			"category": "0102", "description": "小区门口堆了一大堆建筑垃圾，已经好几天没人清理",
			"location": map[string]any{"lat": lat, "lng": lng, "coord_type": "gcj02"},
			"address":  "南京市鼓楼区幸福路12号", "photo_ids": []string{photos[i]},
		})
		jobs[i] = intakeJob{token: r.tokens[i%len(r.tokens)], body: body}
	}
	return jobs, nil
}

// submit sends one report, with an Idempotency-Key if key is set.
func (r *intakeRun) submit(j intakeJob, key bool) (string, error) {
	req, err := http.NewRequest(http.MethodPost, r.base+"/api/v1/reports", bytes.NewReader(j.body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+j.token)
	if key {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", r.seq.Add(1)))
	}
	status, b, err := intakeSend(r.http, req)
	if err != nil {
		return "", err
	}
	var rep struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(b, &rep) != nil || rep.ID == "" {
		return "", fmt.Errorf("submit: %d %s", status, b)
	}
	return rep.ID, nil
}

// rawDoc is the template ticket with a fresh _id and idem of the same
// lengths: the same fields, the same BSON size.
func (r *intakeRun) rawDoc() (bson.Raw, error) {
	var d bson.D
	if err := bson.Unmarshal(r.template, &d); err != nil {
		return nil, err
	}
	id := model.NewID(time.Now())
	for i := range d {
		switch d[i].Key {
		case "_id":
			d[i].Value = id
		case "idem":
			old, _ := d[i].Value.(string)
			if len(old) >= len(id) {
				d[i].Value = old[:len(old)-len(id)] + id
			} else {
				d[i].Value = id[len(id)-len(old):]
			}
		}
	}
	raw, err := bson.Marshal(d)
	if err != nil {
		return nil, err
	}
	if len(raw) != len(r.template) {
		return nil, fmt.Errorf("raw document is %d bytes, the ticket %d", len(raw), len(r.template))
	}
	return raw, nil
}

// rawInserts inserts n documents of the stored ticket's size into a fresh
// collection of the same database with c concurrent InsertOne calls;
// withIndexes gives the collection the tickets collection's indexes first.
func (r *intakeRun) rawInserts(ctx context.Context, n, c int, withIndexes bool) (float64, intakeLatencies, error) {
	col := r.db.Collection(testenv.Name("bench_raw_"))
	defer func() { _ = col.Drop(context.WithoutCancel(ctx)) }()
	if withIndexes && len(r.indexes) > 0 {
		if _, err := col.Indexes().CreateMany(ctx, r.indexes); err != nil {
			return 0, nil, err
		}
	}
	docs := make([]bson.Raw, n)
	for i := range docs {
		d, err := r.rawDoc()
		if err != nil {
			return 0, nil, err
		}
		docs[i] = d
	}
	return intakeTimed(n, c, func(i int) error {
		_, err := col.InsertOne(ctx, docs[i])
		return err
	})
}

// backlog counts the tickets still being screened.
func (r *intakeRun) backlog(ctx context.Context) (int64, error) {
	return r.tickets.CountDocuments(ctx, bson.M{"status": "submitted", "held": false})
}

// drain waits up to limit for screening to catch up and returns how long it
// waited, the rate at which screening worked meanwhile (tickets/s) and what
// is left.
func (r *intakeRun) drain(ctx context.Context, limit time.Duration) (time.Duration, float64, int64, error) {
	start := time.Now()
	first, err := r.backlog(ctx)
	n := first
	for err == nil && n > 0 && time.Since(start) < limit {
		// On FerretDB a count scans the collection: poll gently.
		time.Sleep(500 * time.Millisecond)
		n, err = r.backlog(ctx)
	}
	waited := time.Since(start)
	return waited, float64(first-n) / waited.Seconds(), n, err
}

// intakeTicketIndexes returns the tickets collection's secondary indexes.
func intakeTicketIndexes(ctx context.Context, tickets *mongo.Collection) ([]mongo.IndexModel, error) {
	cur, err := tickets.Indexes().List(ctx)
	if err != nil {
		return nil, err
	}
	var specs []struct {
		Name   string `bson:"name"`
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, err
	}
	var out []mongo.IndexModel
	for _, s := range specs {
		if s.Name == "_id_" {
			continue
		}
		o := mongoopts.Index().SetName(s.Name)
		if s.Unique {
			o.SetUnique(true)
		}
		out = append(out, mongo.IndexModel{Keys: s.Key, Options: o})
	}
	return out, nil
}

// intakeLookups times n sequential FindOne calls with the filter made by f.
func intakeLookups(ctx context.Context, col *mongo.Collection, n int, f func(i int) bson.M) (time.Duration, error) {
	start := time.Now()
	for i := range n {
		if err := col.FindOne(ctx, f(i)).Err(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

type intakeRaw struct {
	rate, indexedRate float64
	lat, indexedLat   intakeLatencies
}

// intakeLevel is one measured level: concurrent clients, and whether each
// report carries an Idempotency-Key (the mini-program sends one, so that a
// retry on a weak network makes no second ticket).
type intakeLevel struct {
	clients int
	key     bool
}

// BenchmarkReportIntake measures POST /api/v1/reports on the real wiring in
// production mode (redis-server; the embedded FerretDB/SQLite, or
// MONGODB_URI): reports/s and p50/p99 latency from C concurrent clients,
// against the raw InsertOne rate, with the same concurrency, of documents
// of a stored ticket's exact BSON size into a fresh collection of the same
// database in the same run, measured first on the quiet system. The
// screening workers and the dispatch and statistics jobs run in the
// background as in production and compete for the CPU and the database.
// One iteration is intakeReports reports per level; -benchtime 1x runs one.
func BenchmarkReportIntake(b *testing.B) {
	intakeBench(b, []intakeLevel{{8, true}, {32, true}})
}

// BenchmarkReportIntakeNoKey is the same without Idempotency-Key, to show
// what the key costs.
func BenchmarkReportIntakeNoKey(b *testing.B) {
	intakeBench(b, []intakeLevel{{8, false}})
}

func intakeBench(b *testing.B, levels []intakeLevel) {
	began := time.Now()
	ctx := context.Background()
	env := intakeEnv(b)
	base := startIntakeServer(b, env)

	mc, err := mongo.Connect(mongoopts.Client().ApplyURI(env["MONGODB_URI"]))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	db := mc.Database(env["MONGODB_DATABASE"])
	r := &intakeRun{
		base: base, http: intakeHTTP(64), rng: rand.New(rand.NewPCG(7, 11)),
		photo: apitest.JPEGWithGPS(b, 320, 240, wgsLat, wgsLng, takenAt),
		db:    db, tickets: db.Collection("tickets"),
	}
	setup := apitest.New(base)
	for i := range intakeResidents {
		tok, _ := setup.Login(b, fmt.Sprintf("bench-resident-%03d", i))
		r.tokens = append(r.tokens, tok)
	}

	// One report, read back before screening changes it: a stored ticket
	// exactly as Insert wrote it, the template of the raw inserts.
	for r.template == nil {
		jobs, err := r.prepare(1)
		if err != nil {
			b.Fatal(err)
		}
		id, err := r.submit(jobs[0], true)
		if err != nil {
			b.Fatal(err)
		}
		var raw bson.Raw
		if err := r.tickets.FindOne(ctx, bson.M{"_id": id}).Decode(&raw); err != nil {
			b.Fatal(err)
		}
		if v, ok := raw.Lookup("version").AsInt64OK(); ok && v == 0 {
			r.template = raw
		}
	}
	if r.indexes, err = intakeTicketIndexes(ctx, r.tickets); err != nil {
		b.Fatal(err)
	}
	if _, _, left, err := r.drain(ctx, intakeDrainWait); err != nil || left > 0 {
		b.Fatalf("screening the first report: %d left, %v", left, err)
	}
	b.Logf("machine: %d CPUs, 1-minute load average %.2f (other processes running skew every number)", runtime.NumCPU(), intakeLoadAverage())
	b.Logf("a stored ticket is %d bytes of BSON; the tickets collection has %d secondary indexes", len(r.template), len(r.indexes))

	// The ceiling, on the quiet system.
	raw := map[int]intakeRaw{}
	for _, l := range levels {
		c := l.clients
		if _, ok := raw[c]; ok {
			continue
		}
		var res intakeRaw
		if res.rate, res.lat, err = r.rawInserts(ctx, intakeReports, c, false); err != nil {
			b.Fatal(err)
		}
		if res.indexedRate, res.indexedLat, err = r.rawInserts(ctx, intakeReports, c, true); err != nil {
			b.Fatal(err)
		}
		raw[c] = res
	}

	// Warm up connections and caches with one report per resident.
	warm, err := r.prepare(intakeResidents)
	if err != nil {
		b.Fatal(err)
	}
	if err := intakeParallel(len(warm), 8, func(i int) error { _, err := r.submit(warm[i], true); return err }); err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := r.drain(ctx, intakeDrainWait); err != nil {
		b.Fatal(err)
	}

	for _, level := range levels {
		c := level.clients
		name := fmt.Sprintf("C=%d", c)
		if !level.key {
			name += ",no-key"
		}
		b.Run(name, func(b *testing.B) {
			var lat intakeLatencies
			var busy time.Duration
			var before, left int64
			var screenRate float64
			load := intakeLoadAverage()
			for range b.N {
				b.StopTimer()
				jobs, err := r.prepare(intakeReports)
				if err != nil {
					b.Fatal(err)
				}
				if before, err = r.backlog(ctx); err != nil {
					b.Fatal(err)
				}
				stopProfile := intakeProfile(b, name)
				b.StartTimer()
				start := time.Now()
				_, l, err := intakeTimed(len(jobs), c, func(i int) error {
					_, err := r.submit(jobs[i], level.key)
					return err
				})
				busy += time.Since(start)
				stopProfile()
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, l...)
				b.StopTimer()
				if _, screenRate, left, err = r.drain(ctx, intakeDrainWait); err != nil {
					b.Fatal(err)
				}
			}
			load = max(load, intakeLoadAverage())
			rate := float64(len(lat)) / busy.Seconds()
			rr := raw[c]
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(rate, "reports/s")
			b.ReportMetric(intakeMS(lat.quantile(0.50)), "p50-ms")
			b.ReportMetric(intakeMS(lat.quantile(0.99)), "p99-ms")
			b.ReportMetric(rr.rate, "raw-inserts/s")
			b.ReportMetric(100*rate/rr.rate, "%-of-raw")
			b.ReportMetric(rr.indexedRate, "indexed-inserts/s")
			b.ReportMetric(screenRate, "screened/s")
			b.ReportMetric(load, "load1")
			b.Logf("%s, %d reports: intake %.1f reports/s, p50 %.0f ms, p99 %.0f ms = %.1f %% of raw InsertOne of %d B (%.0f/s, p50 %.1f ms, p99 %.1f ms); into a collection with the tickets' %d indexes %.0f/s (p50 %.1f ms)",
				name, len(lat), rate, intakeMS(lat.quantile(0.5)), intakeMS(lat.quantile(0.99)), 100*rate/rr.rate,
				len(r.template), rr.rate, intakeMS(rr.lat.quantile(0.5)), intakeMS(rr.lat.quantile(0.99)),
				len(r.indexes), rr.indexedRate, intakeMS(rr.indexedLat.quantile(0.5)))
			b.Logf("%s: %d tickets were still being screened when it started; after it, screening alone ran at %.1f tickets/s and left %d after %s; peak 1-minute load average %.2f",
				name, before, screenRate, left, intakeDrainWait, load)
		})
	}

	// Where a request's database time goes on this server: a lookup by _id
	// against lookups by another field, at the collections' final sizes.
	var sample struct {
		ID   string `bson:"_id"`
		Idem string `bson:"idem"`
	}
	if err := r.tickets.FindOne(ctx, bson.M{}).Decode(&sample); err != nil {
		b.Fatal(err)
	}
	nTickets, _ := r.tickets.EstimatedDocumentCount(ctx)
	nPhotos, _ := db.Collection("photos").EstimatedDocumentCount(ctx)
	byID, err := intakeLookups(ctx, r.tickets, 20, func(int) bson.M { return bson.M{"_id": sample.ID} })
	if err != nil {
		b.Fatal(err)
	}
	byIdem, err := intakeLookups(ctx, r.tickets, 20, func(int) bson.M { return bson.M{"idem": sample.Idem} })
	if err != nil {
		b.Fatal(err)
	}
	byIn, err := intakeLookups(ctx, r.tickets, 20, func(int) bson.M { return bson.M{"_id": bson.M{"$in": []string{sample.ID}}} })
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("after the levels: %d tickets, %d photos; one FindOne on tickets by _id %.2f ms, by idem %.2f ms, by _id $in [one id] %.2f ms (screening still running behind)",
		nTickets, nPhotos, intakeMS(byID), intakeMS(byIdem), intakeMS(byIn))
	b.Logf("whole benchmark: %s", time.Since(began).Round(time.Second))
}

// intakeLoadAverage is the machine's 1-minute load average (Linux), or -1: the
// benchmark reports it because other processes running on the machine
// skew every number.
func intakeLoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return -1
	}
	return l
}

// intakeProfile starts a CPU profile of the whole process (client, server,
// FerretDB) for the timed intake of one level when
// CGT_BENCH_INTAKE_CPUPROFILE names a file prefix: <prefix><level>.prof,
// without the setup and the uploads that -cpuprofile would include. It
// returns the function that stops it.
func intakeProfile(b *testing.B, level string) func() {
	prefix := os.Getenv("CGT_BENCH_INTAKE_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	name := prefix + strings.NewReplacer("=", "", ",", "-").Replace(level) + ".prof"
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		b.Fatalf("%v (run without -cpuprofile to profile one level)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		b.Logf("CPU profile of this level's intake: %s", name)
	}
}
