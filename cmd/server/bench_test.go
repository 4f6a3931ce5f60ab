package main

// Report intake throughput against the raw MongoDB insert ceiling of the
// same run; see docs/BENCHMARKS.md. Run it with
//
//	go test -run '^$' -bench BenchmarkReportIntake -benchtime 1x ./cmd/server/
//
// `go test ./cmd/server/` (no -bench) does not run it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
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
	benchResidents = 50   // residents who report, round robin
	benchReports   = 200 // reports per concurrency level (fixed, so the run is bounded)
	benchDrainWait = 90 * time.Second
)

// benchConcurrency are the numbers of concurrent clients measured.
var benchConcurrency = []int{8, 32}

// benchEnv is testEnv for benchmarks: the same production-mode environment
// (real redis-server via testenv, FerretDB or MONGODB_URI), with info logs
// as in production and limits that do not interfere.
func benchEnv(tb testing.TB) map[string]string {
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
		"ADMIN_USERNAME":     adminUser,
		"ADMIN_PASSWORD":     adminPass,
		"LOG_LEVEL":          "info",
		"UPLOADS_PER_MINUTE": "1000000",
		"REPORTS_PER_DAY":    "1000000",
	}
}

// tailBuffer keeps the last part of the server's log, for a failure report,
// without growing over a long run.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 256 << 10
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// startBenchServer is startServer for any testing.TB: it runs the real
// wiring in-process until tb ends, then drops the benchmark's database.
func startBenchServer(tb testing.TB, env map[string]string) (base string, logs *tailBuffer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	logs = &tailBuffer{}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, func(k string) string { return env[k] }, logs, options{onReady: func(a string) { addrc <- a }})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		tb.Fatalf("server did not start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatalf("server did not start in time\n%s", logs)
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("server stopped with %v", err)
		}
		if tb.Failed() {
			tb.Logf("server log (tail):\n%s", logs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := mongo.Connect(mongoopts.Client().ApplyURI(env["MONGODB_URI"])); err == nil {
			_ = c.Database(env["MONGODB_DATABASE"]).Drop(ctx)
			_ = c.Disconnect(ctx)
		}
	})
	return "http://" + addr, logs
}

// benchClient is an HTTP client for many concurrent requests to one host:
// the default transport keeps only 2 idle connections per host, which would
// make every further request open a new connection.
func benchClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * conns
	tr.MaxIdleConnsPerHost = 2 * conns
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func postJSON(c *http.Client, url, token string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(c, req)
}

func send(c *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// uploadOne sends one photo as wx.uploadFile does and returns its id.
func uploadOne(c *http.Client, base, token string, data []byte) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("scene", "report")
	fw, err := mw.CreateFormFile("file", "IMG_0001.jpg")
	if err != nil {
		return "", err
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/photos", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	status, b, err := send(c, req)
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("upload: %d %s", status, b)
	}
	var p struct{ ID string }
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" {
		return "", fmt.Errorf("upload: %d %s", status, b)
	}
	return p.ID, nil
}

// parallel runs n jobs on c workers and returns the first error.
func parallel(n, c int, job func(i int) error) error {
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
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// intakeJob is one report to submit: its resident and pre-uploaded photo.
type intakeJob struct {
	token, photoID string
	body           []byte
}

type benchRun struct {
	base    string
	http    *http.Client
	tokens  []string
	photo   []byte
	rng     *rand.Rand
	db      *mongo.Database
	tickets *mongo.Collection
	// template is a stored ticket, as Insert wrote it.
	template bson.Raw
	indexes  []mongo.IndexModel
	seq      atomic.Int64
}

func (r *benchRun) reportBody(photoID string) []byte {
	// Spread over Nanjing (about 30 × 30 km) so that screening finds few
	// duplicates, as with real reports of different problems.
	lat := 31.90 + r.rng.Float64()*0.28
	lng := 118.60 + r.rng.Float64()*0.35
	b, _ := json.Marshal(map[string]any{
		"category": "0102", "description": "小区门口堆了一大堆建筑垃圾，已经好几天没人清理",
		"location": map[string]any{"lat": lat, "lng": lng, "coord_type": "gcj02"},
		"address":  "南京市鼓楼区幸福路12号", "photo_ids": []string{photoID},
	})
	return b
}

// prepare uploads one small photo per report (not measured) and returns the
// jobs, resident i%benchResidents reporting job i.
func (r *benchRun) prepare(n int) ([]intakeJob, error) {
	jobs := make([]intakeJob, n)
	err := parallel(n, 8, func(i int) error {
		tok := r.tokens[i%len(r.tokens)]
		id, err := uploadOne(r.http, r.base, tok, r.photo)
		if err != nil {
			return err
		}
		jobs[i] = intakeJob{token: tok, photoID: id}
		return nil
	})
	for i := range jobs {
		jobs[i].body = r.reportBody(jobs[i].photoID)
	}
	return jobs, err
}

// submit sends one report with an Idempotency-Key, as the mini-program does
// so that a retry on a weak network makes no second ticket.
func (r *benchRun) submit(j intakeJob) (string, error) {
	key := fmt.Sprintf("bench-%d", r.seq.Add(1))
	status, b, err := postJSON(r.http, r.base+"/api/v1/reports", j.token, j.body, "Idempotency-Key", key)
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("submit: %d %s", status, b)
	}
	var rep struct{ ID string }
	if err := json.Unmarshal(b, &rep); err != nil || rep.ID == "" {
		return "", fmt.Errorf("submit: %d %s", status, b)
	}
	return rep.ID, nil
}

// latencies summarises per-operation durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timed runs n operations on c workers, each timed, and returns the
// operations per second and the latencies.
func timed(n, c int, op func(i int) error) (float64, latencies, error) {
	lat := make(latencies, n)
	start := time.Now()
	err := parallel(n, c, func(i int) error {
		t0 := time.Now()
		err := op(i)
		lat[i] = time.Since(t0)
		return err
	})
	elapsed := time.Since(start)
	return float64(n) / elapsed.Seconds(), lat, err
}

// rawDoc is the template ticket with a fresh _id and idem of the same
// lengths, so that it has the template's BSON size exactly.
func (r *benchRun) rawDoc() (bson.Raw, error) {
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
// collection of the same database with c concurrent goroutines, with no
// secondary index or with the tickets collection's indexes.
func (r *benchRun) rawInserts(ctx context.Context, n, c int, withIndexes bool) (float64, latencies, error) {
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
	return timed(n, c, func(i int) error {
		_, err := col.InsertOne(ctx, docs[i])
		return err
	})
}

// waitScreened waits until no ticket is still being screened and returns
// how long that took.
func (r *benchRun) waitScreened(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		n, err := r.tickets.CountDocuments(ctx, bson.M{"status": "submitted", "held": false})
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > benchDrainWait {
			return time.Since(start), fmt.Errorf("%d tickets still submitted after %s", n, benchDrainWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ticketIndexes returns the tickets collection's secondary indexes, to build
// the same ones on a raw collection.
func ticketIndexes(ctx context.Context, tickets *mongo.Collection) ([]mongo.IndexModel, error) {
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

// BenchmarkReportIntake measures POST /api/v1/reports on the real wiring in
// production mode (redis-server, FerretDB/SQLite or MONGODB_URI): reports/s,
// p50 and p99 latency from C concurrent clients, against the raw InsertOne
// rate of documents of a stored ticket's BSON size into a fresh collection
// of the same database with the same concurrency, measured in the same run
// on the same (quiet) system. The screening workers (two per instance) run
// in the background as in production and compete for the CPU and the
// database; after each level the benchmark waits for them to drain the
// backlog so that the next measurement starts quiet.
func BenchmarkReportIntake(b *testing.B) {
	ctx := context.Background()
	env := benchEnv(b)
	base, _ := startBenchServer(b, env)
	setup := apitest.New(base)

	mc, err := mongo.Connect(mongoopts.Client().ApplyURI(env["MONGODB_URI"]))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	db := mc.Database(env["MONGODB_DATABASE"])
	r := &benchRun{
		base: base, http: benchClient(64), rng: rand.New(rand.NewPCG(7, 11)),
		photo: apitest.JPEGWithGPS(b, 320, 240, wgsLat, wgsLng, takenAt),
		db:    db, tickets: db.Collection("tickets"),
	}
	for i := range benchResidents {
		tok, _ := setup.Login(b, fmt.Sprintf("bench-resident-%03d", i))
		r.tokens = append(r.tokens, tok)
	}

	// Warm up (connections, caches) with one report per resident, and keep
	// the first ticket read back before screening changed it: the document
	// exactly as Insert wrote it.
	progress("logged in")
	warm, err := r.prepare(benchResidents)
	progress("warm prepared")
	if err != nil {
		b.Fatal(err)
	}
	for _, j := range warm {
		id, err := r.submit(j)
		if err != nil {
			b.Fatal(err)
		}
		if r.template != nil {
			continue
		}
		var raw bson.Raw
		if err := r.tickets.FindOne(ctx, bson.M{"_id": id}).Decode(&raw); err != nil {
			b.Fatal(err)
		}
		if v, _ := raw.Lookup("version").AsInt64OK(); v == 0 {
			r.template = raw
		}
	}
	if r.template == nil {
		b.Fatal("every warm-up ticket was screened before it could be read back")
	}
	if r.indexes, err = ticketIndexes(ctx, r.tickets); err != nil {
		b.Fatal(err)
	}
	if _, err := r.waitScreened(ctx); err != nil {
		b.Fatal(err)
	}
	progress("warm done")
	b.Logf("stored ticket (as inserted): %d bytes of BSON; tickets' secondary indexes: %d", len(r.template), len(r.indexes))

	for _, c := range benchConcurrency {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			b.StopTimer()
			jobs, err := r.prepare(benchReports)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			progress("C=%d prepared", c)

			// The ceiling, on a quiet system: raw inserts of the same size.
			rawRate, rawLat, err := r.rawInserts(ctx, benchReports, c, false)
			if err != nil {
				b.Fatal(err)
			}
			idxRate, idxLat, err := r.rawInserts(ctx, benchReports, c, true)
			if err != nil {
				b.Fatal(err)
			}

			progress("raw %.0f/s, indexed %.0f/s", rawRate, idxRate)
			// Intake, with screening running behind it.
			rate, lat, err := timed(benchReports, c, func(i int) error {
				_, err := r.submit(jobs[i])
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			progress("intake %.0f/s", rate)
			drain, err := r.waitScreened(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()

			b.ReportMetric(0, "ns/op")
			b.ReportMetric(rate, "reports/s")
			b.ReportMetric(ms(lat.quantile(0.50)), "p50-ms")
			b.ReportMetric(ms(lat.quantile(0.99)), "p99-ms")
			b.ReportMetric(rawRate, "raw-inserts/s")
			b.ReportMetric(100*rate/rawRate, "%-of-raw")
			b.ReportMetric(idxRate, "raw-indexed-inserts/s")
			b.ReportMetric(drain.Seconds(), "screen-drain-s")
			b.Logf("C=%d N=%d: intake %.0f reports/s (p50 %.1f ms, p99 %.1f ms); raw InsertOne of %d B: %.0f/s (p50 %.1f ms, p99 %.1f ms), %.0f %% of it reached; with the tickets' %d indexes: %.0f/s (p50 %.1f ms); screening backlog drained %.1f s after intake",
				c, benchReports, rate, ms(lat.quantile(0.5)), ms(lat.quantile(0.99)),
				len(r.template), rawRate, ms(rawLat.quantile(0.5)), ms(rawLat.quantile(0.99)), 100*rate/rawRate,
				len(r.indexes), idxRate, ms(idxLat.quantile(0.5)), drain.Seconds())
		})
	}
}

var progressStart = time.Now()

func progress(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "%7.1fs "+f+"\n", append([]any{time.Since(progressStart).Seconds()}, a...)...)
}
