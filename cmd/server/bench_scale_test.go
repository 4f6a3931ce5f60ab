package main

// Issue 16's targets, measured from outside: the real server binary on the
// embedded default (SQLite) with a history of 500,000 tickets from
// `server seed-history`, every call timed over HTTP. Run it with
//
//	go test -v -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 180m ./cmd/server/
//
// (-v: without it the testing package cuts a benchmark's log to ten lines).
// `go test ./cmd/server/` (no -bench) does not run it, and it asserts no
// time: it prints the numbers (docs/BENCHMARKS.md, "Issue 16's targets").
//
// What it does:
//
//  1. builds the server (`go build`) into a temporary directory;
//  2. builds once, and caches under $TMPDIR keyed by the schema version
//     (the store's migrations) and the size, a DATA_DIR with
//     `server seed-history -tickets N` (about ten minutes on a loaded
//     two-core machine), timing it;
//  3. copies the cached DATA_DIR for this run (file times kept, so the copy
//     is a store after a clean stop), so that runs do not disturb each
//     other or the cache;
//  4. then, in this order, the phases named in CGT_BENCH_SCALE_PHASES
//     (default all but seed, which alone builds the cache and stops): size (du of DATA_DIR without photos/ ÷ tickets);
//     rebuild (`server rebuild-stats`, timed, CPU); startup (start to
//     /readyz after a clean stop, three times); calls (each call of the
//     issue's list N times in a row, p50/p95/p99/max and the server's CPU
//     per call); rest (the server's CPU over a minute of idle, from
//     /proc/<pid>/stat); crash (kill -9, then start to /readyz, twice);
//     intake (photos uploaded first, then C clients report as fast as the
//     server answers; the rate of 201s and of reports screened, and the
//     server's CPU per report); dispatch (an open loop of reports at a fixed
//     rate, each polled as its reporter until dispatched: 201 → in the
//     assignee's /tasks).
//
// Knobs: CGT_BENCH_SCALE_TICKETS (500000), CGT_BENCH_SCALE_CALLS (calls per
// shape, 200), CGT_BENCH_SCALE_PHASES, CGT_BENCH_SCALE_REBUILD=1 (build the
// cached DATA_DIR again), CGT_BENCH_SCALE_REST_SECONDS (60),
// CGT_BENCH_SCALE_BINARY (a server binary to run instead of building this
// one: a commit to compare with; the cache is still keyed by this tree's
// schema), CGT_BENCH_SCALE_PROFILE=/tmp/prefix- (run the wiring in-process
// and write a CPU profile of each phase), CGT_BENCH_SCALE_INTAKE (reports, 3000), CGT_BENCH_SCALE_INTAKE_C (32),
// CGT_BENCH_SCALE_DISPATCH_RATE (25), CGT_BENCH_SCALE_DISPATCH_SECONDS
// (20), CGT_BENCH_SCALE_KEEP=1 (keep the run's DATA_DIR and log).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// scaleCacheFormat names the cached DATA_DIR's layout besides the schema:
// bump it when seed-history makes a different history.
const scaleCacheFormat = 1

func scaleSetting(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scaleLoad is the 1-minute load average, as /proc/loadavg says.
func scaleLoad() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

// scaleLoadRange is "a–b" of the load averages seen.
func scaleLoadRange(ls ...float64) string {
	lo, hi := slices.Min(ls), slices.Max(ls)
	if fmt.Sprintf("%.1f", lo) == fmt.Sprintf("%.1f", hi) {
		return fmt.Sprintf("%.1f", lo)
	}
	return fmt.Sprintf("%.1f–%.1f", lo, hi)
}

// scaleEnv is the server's environment for the embedded mode on dataDir;
// seed-history and the server share it (the simulated WeChat's openids
// depend on it).
func scaleEnv(dataDir, addr string) []string {
	env := map[string]string{
		"DATA_DIR":                 dataDir,
		"HTTP_ADDR":                addr,
		"METRICS_ADDR":             "off",
		"ADMIN_USERNAME":           adminUser,
		"ADMIN_PASSWORD":           adminPass,
		"WECHAT_PUSH_TOKEN":        "bench-push-token",
		"LOG_LEVEL":                "warn",
		"UPLOADS_PER_MINUTE":       "1000000",
		"REPORTS_PER_DAY":          "1000000",
		"LOGIN_RATE_PER_IP":        "1000000",
		"LOGIN_RATE_PER_ACCOUNT":   "1000000",
		"OPEN311_LISTS_PER_MINUTE": "1000000",
	}
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// scaleBuild builds the server binary (go build of this package).
func scaleBuild(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("CGT_BENCH_SCALE_BINARY"); bin != "" {
		return bin // another build (a commit to compare with)
	}
	bin := filepath.Join(tb.TempDir(), "server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// scaleSchemaKey names the schema: the newest migration's number and a hash
// of every migration.
func scaleSchemaKey(tb testing.TB) string {
	tb.Helper()
	names, err := filepath.Glob("../../store/sqlite/migrations/*.sql")
	if err != nil || len(names) == 0 {
		tb.Fatalf("migrations: %v (%d)", err, len(names))
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(n), len(b))
		h.Write(b)
	}
	last, _, _ := strings.Cut(filepath.Base(names[len(names)-1]), "_")
	return fmt.Sprintf("s%s-%s-f%d", last, hex.EncodeToString(h.Sum(nil))[:8], scaleCacheFormat)
}

// scaleMeta is what the cache remembers of its build.
type scaleMeta struct {
	Tickets int       `json:"tickets"`
	Built   time.Time `json:"built"`
	Wall    float64   `json:"wall_s"`
	CPU     float64   `json:"cpu_s"`
	Load    string    `json:"load"`
	Output  string    `json:"output"`
}

// scaleCache returns the cached DATA_DIR of n tickets, building it with
// bin's seed-history if it is not there.
func scaleCache(tb testing.TB, bin string, n int) (string, scaleMeta) {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("chengguantong-scale-%s-%d", scaleSchemaKey(tb), n))
	metaPath := dir + ".json"
	var meta scaleMeta
	if b, err := os.ReadFile(metaPath); err == nil && json.Unmarshal(b, &meta) == nil && os.Getenv("CGT_BENCH_SCALE_REBUILD") == "" {
		if _, err := os.Stat(dir); err == nil {
			tb.Logf("cached DATA_DIR %s: %d tickets, seeded %s in %.0f s (%.0f s of CPU, load %s)", dir, meta.Tickets,
				meta.Built.Format(time.RFC3339), meta.Wall, meta.CPU, meta.Load)
			return dir, meta
		}
	}
	tmp := dir + ".building"
	_ = os.RemoveAll(tmp)
	_ = os.RemoveAll(dir)
	_ = os.Remove(metaPath)
	tb.Logf("building %s: seed-history -tickets %d (minutes) …", dir, n)
	var out bytes.Buffer
	cmd := exec.Command(bin, "seed-history", "-tickets", strconv.Itoa(n))
	cmd.Env = scaleEnv(tmp, "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &out, &out
	l0, t0 := scaleLoad(), time.Now()
	if err := cmd.Run(); err != nil {
		tb.Fatalf("seed-history: %v\n%s", err, out.String())
	}
	meta = scaleMeta{Tickets: n, Built: time.Now(), Wall: time.Since(t0).Seconds(),
		CPU:  (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(),
		Load: scaleLoadRange(l0, scaleLoad()), Output: out.String()}
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	b, _ := json.MarshalIndent(meta, "", "  ")
	if err := os.WriteFile(metaPath, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seed-history of %d tickets: %.0f s (%.0f tickets/s), %.0f s of CPU, load %s\n%s", n, meta.Wall,
		float64(n)/meta.Wall, meta.CPU, meta.Load, meta.Output)
	return dir, meta
}

// scaleCopy copies the directory tree src to dst, keeping modes and file
// times (the store's clean-shutdown mark names the database file's time).
func scaleCopy(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Chtimes(to, info.ModTime(), info.ModTime())
	})
}

// scaleDiskUsage is the disk space (allocated blocks) of the files under
// dir, not counting the subdirectory skip.
func scaleDiskUsage(dir, skip string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == skip && p != dir {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

// scaleServer is the server binary running on a DATA_DIR — or, in-process
// (CGT_BENCH_SCALE_PROFILE), the same wiring run by this test process, so
// that a CPU profile sees the server.
type scaleServer struct {
	bin, dir, addr, base string
	logPath              string
	cmd                  *exec.Cmd
	done                 chan struct{}
	inProcess            bool
	stopInProcess        func() error
}

func newScaleServer(tb testing.TB, bin, dir string) *scaleServer {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return &scaleServer{bin: bin, dir: dir, addr: addr, base: "http://" + addr, logPath: dir + ".log"}
}

// start starts the server and returns how long it took to answer /readyz
// with 200.
func (s *scaleServer) start(tb testing.TB) time.Duration {
	tb.Helper()
	if s.inProcess {
		env := map[string]string{}
		for _, kv := range scaleEnv(s.dir, "127.0.0.1:0") {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		t0 := time.Now()
		addr, stop := launch(tb, env, options{}, &dispatchBenchLog{})
		s.base, s.stopInProcess = "http://"+addr, stop
		c := &http.Client{Timeout: time.Second}
		for {
			if resp, err := c.Get(s.base + "/readyz"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(t0)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	s.cmd = exec.Command(s.bin)
	s.cmd.Env = scaleEnv(s.dir, s.addr)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); _ = logf.Close(); close(s.done) }()
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.done:
			tail, _ := os.ReadFile(s.logPath)
			tb.Fatalf("server exited before ready: %s\n%s", s.cmd.ProcessState, scaleTail(tail, 4000))
		default:
		}
		if resp, err := c.Get(s.base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0)
			}
		}
		if time.Since(t0) > 5*time.Minute {
			tb.Fatalf("not ready after 5 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scaleTail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// stop stops the server with SIGTERM and returns how long it took to exit.
func (s *scaleServer) stop(tb testing.TB) time.Duration {
	tb.Helper()
	if s.stopInProcess != nil {
		t0 := time.Now()
		if err := s.stopInProcess(); err != nil {
			tb.Errorf("server stopped with %v", err)
		}
		s.stopInProcess = nil
		return time.Since(t0)
	}
	if s.cmd == nil {
		return 0
	}
	t0 := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		tb.Errorf("server did not stop within 2 minutes of SIGTERM")
	}
	s.cmd = nil
	return time.Since(t0)
}

// kill kills the server with SIGKILL.
func (s *scaleServer) kill() {
	if s.stopInProcess != nil {
		_ = s.stopInProcess()
		s.stopInProcess = nil
	}
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// cpu is the CPU time (user + system) the server has used, from
// /proc/<pid>/stat (clock ticks of 10 ms).
func (s *scaleServer) cpu() time.Duration {
	if s.inProcess {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if s.cmd == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the whole line
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// scaleClient calls the server sequentially over one kept-alive connection
// (or a few, for concurrent work).
type scaleClient struct {
	base string
	c    *http.Client
}

func newScaleClient(base string, conns int) *scaleClient {
	return &scaleClient{base: base, c: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 5 * time.Minute, DisableCompression: true}}}
}

func (c *scaleClient) do(method, path, token, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// get reads path as token into out (when not nil); a status other than
// 200 is an error.
func (c *scaleClient) get(path, token string, out any) error {
	st, b, err := c.do("GET", path, token, "", nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.300s", path, st, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *scaleClient) login(code string) (token, userID string, err error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	st, b, err := c.do("POST", "/api/v1/auth/wechat", "", "application/json", body)
	if err != nil {
		return "", "", err
	}
	var s struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if st != 200 || json.Unmarshal(b, &s) != nil {
		return "", "", fmt.Errorf("login %s: %d %.300s", code, st, b)
	}
	return s.Token, s.User.ID, nil
}

func (c *scaleClient) upload(token string, jpeg []byte) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "IMG_0001.jpg")
	if err != nil {
		return "", err
	}
	_, _ = fw.Write(jpeg)
	_ = mw.Close()
	st, b, err := c.do("POST", "/api/v1/photos", token, mw.FormDataContentType(), body.Bytes())
	if err != nil {
		return "", err
	}
	var p struct{ ID string }
	if st != 201 || json.Unmarshal(b, &p) != nil || p.ID == "" {
		return "", fmt.Errorf("upload: %d %.300s", st, b)
	}
	return p.ID, nil
}

// scaleDurations are latencies, sorted by q.
type scaleDurations []time.Duration

// q is the nearest-rank quantile.
func (d scaleDurations) q(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func scaleMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.2f", ms)
}

// scaleReport collects the table's rows.
type scaleReport struct {
	mu   sync.Mutex
	rows []string
}

func (r *scaleReport) add(tb testing.TB, format string, args ...any) {
	tb.Helper()
	line := fmt.Sprintf(format, args...)
	tb.Log(line)
	r.mu.Lock()
	r.rows = append(r.rows, line)
	r.mu.Unlock()
}

// scaleCity is what the benchmark found in the seeded store to call with.
type scaleCity struct {
	staff       string
	grids       []scaleGrid
	categories  []scaleCategory
	ids, cases  []string // tickets spread over the history
	open        []string // open tickets (candidates)
	resident    string   // token of a resident with many reports
	residentN   int      // their reports
	worker      string   // token of the worker with the most open tasks
	workerName  string
	workerTasks int
	day         time.Time // the history's last day (China time)
	slots       int       // report slots used (scaleSlot)
}

type scaleGrid struct {
	code                   string
	minLat, minLng, maxLat float64
	maxLng                 float64
	onDuty                 int
}

type scaleCategory struct {
	Code             string `json:"code"`
	DuplicateRadiusM int    `json:"duplicate_radius_m"`
}

type scaleTicket struct {
	ID       string `json:"id"`
	CaseNo   string `json:"case_no"`
	Status   string `json:"status"`
	Location struct {
		Lat float64 `json:"lat"`
		Lng float64 `json:"lng"`
	} `json:"location"`
}

type scalePage struct {
	Items       []scaleTicket `json:"items"`
	NextCursor  string        `json:"next_cursor"`
	Total       int           `json:"total"`
	TotalCapped bool          `json:"total_capped"`
}

var scaleShanghai = time.FixedZone("CST", 8*3600)

// discover signs in and finds what to call with: grids, categories, ids
// and case numbers spread over the history, open tickets, the busiest
// worker and a resident with many reports.
func scaleDiscover(tb testing.TB, c *scaleClient, built time.Time) *scaleCity {
	tb.Helper()
	api := apitest.New(c.base)
	city := &scaleCity{staff: api.LoginStaff(tb, adminUser, adminPass)}
	y, m, d := built.In(scaleShanghai).Date()
	city.day = time.Date(y, m, d, 0, 0, 0, 0, scaleShanghai)

	var grids struct {
		Items []struct {
			Code     string `json:"code"`
			Geometry struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"items"`
	}
	if err := c.get("/api/v1/admin/grids", city.staff, &grids); err != nil {
		tb.Fatal(err)
	}
	for _, g := range grids.Items {
		sg := scaleGrid{code: g.Code, minLat: 90, minLng: 180, maxLat: -90, maxLng: -180}
		var coords any
		if err := json.Unmarshal(g.Geometry.Coordinates, &coords); err != nil {
			tb.Fatalf("grid %s: %v", g.Code, err)
		}
		scalePositions(coords, func(lng, lat float64) {
			sg.minLng, sg.maxLng = min(sg.minLng, lng), max(sg.maxLng, lng)
			sg.minLat, sg.maxLat = min(sg.minLat, lat), max(sg.maxLat, lat)
		})
		city.grids = append(city.grids, sg)
	}
	var cats struct {
		Items []scaleCategory `json:"items"`
	}
	if err := c.get("/api/v1/categories", "", &cats); err != nil {
		tb.Fatal(err)
	}
	city.categories = cats.Items

	// Tickets: the first page of 30 days spread over the year, and of each
	// open status.
	seen := map[string]bool{}
	for k := range 30 {
		day := city.day.AddDate(0, 0, -k*12)
		var p scalePage
		q := url.Values{"from": {day.Format(time.DateOnly)}, "to": {day.Format(time.DateOnly)}, "limit": {"100"}}
		if err := c.get("/api/v1/admin/tickets?"+q.Encode(), city.staff, &p); err != nil {
			tb.Fatal(err)
		}
		for _, t := range p.Items {
			if !seen[t.ID] {
				seen[t.ID] = true
				city.ids = append(city.ids, t.ID)
				if t.CaseNo != "" {
					city.cases = append(city.cases, t.CaseNo)
				}
			}
		}
	}
	for _, st := range []string{"pending", "dispatched", "in_progress", "deferred"} {
		var p scalePage
		if err := c.get("/api/v1/admin/tickets?limit=100&status="+st, city.staff, &p); err != nil {
			tb.Fatal(err)
		}
		for _, t := range p.Items {
			city.open = append(city.open, t.ID)
		}
	}
	if len(city.ids) == 0 || len(city.open) == 0 {
		tb.Fatalf("no tickets found (%d, %d open)", len(city.ids), len(city.open))
	}

	// The worker with the most open tasks (seed's login code is
	// seed-worker-<i>, their phone 139 and 10000+i in 8 digits).
	var workers struct {
		Items []struct {
			Name      string   `json:"name"`
			Phone     string   `json:"phone"`
			OnDuty    bool     `json:"on_duty"`
			OpenTasks int      `json:"open_tasks"`
			GridCodes []string `json:"grid_codes"`
		} `json:"items"`
	}
	if err := c.get("/api/v1/admin/workers?limit=100", city.staff, &workers); err != nil {
		tb.Fatal(err)
	}
	best := -1
	for i, w := range workers.Items {
		if best < 0 || w.OpenTasks > workers.Items[best].OpenTasks {
			best = i
		}
		if w.OnDuty {
			for _, code := range w.GridCodes {
				for j := range city.grids {
					if city.grids[j].code == code {
						city.grids[j].onDuty++
					}
				}
			}
		}
	}
	if best < 0 {
		tb.Fatal("no workers")
	}
	w := workers.Items[best]
	num, err := strconv.Atoi(strings.TrimPrefix(w.Phone, "139"))
	if err != nil {
		tb.Fatalf("worker phone %q", w.Phone)
	}
	if city.worker, _, err = c.login(fmt.Sprintf("seed-worker-%d", num-10000)); err != nil {
		tb.Fatal(err)
	}
	city.workerName, city.workerTasks = w.Name, w.OpenTasks

	// The resident who reports most: seed-history's reporters are skewed
	// toward the first residents. Count a few residents' reports.
	for i := range 3 {
		tok, _, err := c.login(fmt.Sprintf("seed-resident-%d", i))
		if err != nil {
			tb.Fatal(err)
		}
		n, cursor := 0, ""
		for {
			var p scalePage
			if err := c.get("/api/v1/reports/mine?limit=100&cursor="+url.QueryEscape(cursor), tok, &p); err != nil {
				tb.Fatal(err)
			}
			n += len(p.Items)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if n > city.residentN {
			city.resident, city.residentN = tok, n
		}
	}
	return city
}

// scalePositions calls fn with every [lng, lat] of GeoJSON coordinates
// (a Polygon's or a MultiPolygon's).
func scalePositions(v any, fn func(lng, lat float64)) {
	xs, ok := v.([]any)
	if !ok {
		return
	}
	if len(xs) >= 2 {
		lng, ok1 := xs[0].(float64)
		lat, ok2 := xs[1].(float64)
		if ok1 && ok2 {
			fn(lng, lat)
			return
		}
	}
	for _, x := range xs {
		scalePositions(x, fn)
	}
}

// scaleShape is one call of the list: its name and the request of
// its i-th call.
type scaleShape struct {
	name string
	call func(i int) (path, token string)
}

// measure runs shape n times in a row (after 3 calls not counted) and adds
// its row: p50/p95/p99/max, the server's CPU per call, the load average.
func scaleMeasure(tb testing.TB, rep *scaleReport, c *scaleClient, srv *scaleServer, sh scaleShape, n int) scaleDurations {
	tb.Helper()
	for i := range 3 {
		p, tok := sh.call(n + i)
		if err := c.get(p, tok, nil); err != nil {
			tb.Fatalf("%s: %v", sh.name, err)
		}
	}
	l0, cpu0 := scaleLoad(), srv.cpu()
	ds := make(scaleDurations, 0, n)
	bytesRead := 0
	for i := range n {
		p, tok := sh.call(i)
		t0 := time.Now()
		st, b, err := c.do("GET", p, tok, "", nil)
		ds = append(ds, time.Since(t0))
		if err != nil || st != 200 {
			tb.Fatalf("%s: GET %s: %d %v %.300s", sh.name, p, st, err, b)
		}
		bytesRead += len(b)
	}
	cpu := srv.cpu() - cpu0
	rep.add(tb, "| %s | %d | %s | %s | **%s** | %s | %.2f | %d | %s |", sh.name, n, scaleMS(ds.q(0.5)), scaleMS(ds.q(0.95)),
		scaleMS(ds.q(0.99)), scaleMS(ds.q(1)), float64(cpu)/float64(time.Millisecond)/float64(n), bytesRead/n,
		scaleLoadRange(l0, scaleLoad()))
	return ds
}

// allPages reads every page of a staff list (100 a page, as the console's
// map does) up to limit tickets, timing each page.
func scaleAllPages(c *scaleClient, token string, q url.Values, limit int, pages *scaleDurations, mu *sync.Mutex) (int, error) {
	n, cursor := 0, ""
	for {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("limit", "100")
		if cursor != "" {
			qq.Set("cursor", cursor)
		}
		var p scalePage
		t0 := time.Now()
		err := c.get("/api/v1/admin/tickets?"+qq.Encode(), token, &p)
		d := time.Since(t0)
		if err != nil {
			return n, err
		}
		mu.Lock()
		*pages = append(*pages, d)
		mu.Unlock()
		n += len(p.Items)
		if cursor = p.NextCursor; cursor == "" || n >= limit {
			return n, nil
		}
	}
}

func BenchmarkScale(b *testing.B) {
	n := scaleSetting("CGT_BENCH_SCALE_TICKETS", 500000)
	calls := scaleSetting("CGT_BENCH_SCALE_CALLS", 200)
	phases := map[string]bool{}
	for _, p := range strings.Split(os.Getenv("CGT_BENCH_SCALE_PHASES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			phases[p] = true
		}
	}
	want := func(p string) bool { return len(phases) == 0 || phases[p] }
	rep := &scaleReport{}
	defer func() {
		b.Logf("the table (load average = 1-minute load of the 2-core machine while the row ran):\n%s", strings.Join(rep.rows, "\n"))
	}()

	b.Logf("load average at the start: %.2f", scaleLoad())
	bin := scaleBuild(b)
	cache, meta := scaleCache(b, bin, n)
	rep.add(b, "seed-history -tickets %d: %.0f s, %.0f tickets/s, %.0f s of CPU (%.0f µs a ticket), load %s", n, meta.Wall,
		float64(n)/meta.Wall, meta.CPU, meta.CPU/float64(n)*1e6, meta.Load)
	if len(phases) == 1 && phases["seed"] {
		return // the cache alone
	}

	runDir := filepath.Join(os.TempDir(), fmt.Sprintf("cgt-scale-run-%d", os.Getpid()))
	_ = os.RemoveAll(runDir)
	t0 := time.Now()
	if err := scaleCopy(cache, runDir); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied the cached DATA_DIR in %v", time.Since(t0).Round(time.Millisecond))
	if os.Getenv("CGT_BENCH_SCALE_KEEP") == "" {
		defer os.RemoveAll(runDir)
		defer os.Remove(runDir + ".log")
	} else {
		b.Logf("keeping %s and %s.log", runDir, runDir)
	}
	srv := newScaleServer(b, bin, runDir)
	defer srv.kill()
	profile := os.Getenv("CGT_BENCH_SCALE_PROFILE")
	if srv.inProcess = profile != ""; srv.inProcess {
		b.Logf("in-process: CPU profiles of the whole test process (server and client) to %s<phase>.prof; no kill -9", profile)
		delete(phases, "crash")
		if len(phases) == 0 {
			for _, p := range []string{"calls", "intake", "dispatch"} {
				phases[p] = true
			}
		}
	}
	// profiled starts the phase's CPU profile (in-process only) and
	// returns what stops it.
	profiled := func(name string) (stop func()) {
		if profile == "" {
			return func() {}
		}
		f, err := os.Create(profile + name + ".prof")
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		return sync.OnceFunc(func() { pprof.StopCPUProfile(); _ = f.Close() })
	}

	if want("size") {
		all, err := scaleDiskUsage(runDir, "")
		if err != nil {
			b.Fatal(err)
		}
		noPhotos, err := scaleDiskUsage(runDir, "photos")
		if err != nil {
			b.Fatal(err)
		}
		rep.add(b, "size: DATA_DIR %.0f MB, without photos/ %.0f MB = **%.0f B a ticket** (%d tickets)", float64(all)/1e6,
			float64(noPhotos)/1e6, float64(noPhotos)/float64(n), n)
	}
	if want("rebuild") {
		cmd := exec.Command(bin, "rebuild-stats")
		cmd.Env = scaleEnv(runDir, "127.0.0.1:0")
		l0, t0 := scaleLoad(), time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("rebuild-stats: %v\n%s", err, out)
		}
		wall := time.Since(t0)
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		maxRSS := int64(0)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = ru.Maxrss
		}
		rep.add(b, "rebuild-stats: **%.1f s**, %.1f s of CPU, max RSS %d MB, load %s", wall.Seconds(), cpu.Seconds(), maxRSS/1024,
			scaleLoadRange(l0, scaleLoad()))
		b.Logf("rebuild-stats said: %s", scaleTail(out, 600))
	}

	// Start-up after a clean stop (the copy is one: seed-history or
	// rebuild-stats closed it), three times.
	{
		var ups []string
		var loads []float64
		for k := range 3 {
			loads = append(loads, scaleLoad())
			up := srv.start(b)
			ups = append(ups, fmt.Sprintf("%.2f s", up.Seconds()))
			if k < 2 && want("startup") {
				down := srv.stop(b)
				b.Logf("stopped in %v", down.Round(time.Millisecond))
				continue
			}
			break
		}
		rep.add(b, "start-up to ready after a clean stop: **%s**, load %s", strings.Join(ups, ", "), scaleLoadRange(append(loads, scaleLoad())...))
	}

	c := newScaleClient(srv.base, 4)
	city := scaleDiscover(b, c, meta.Built)
	b.Logf("found %d grids, %d categories, %d tickets, %d open; resident with %d reports; worker %s with %d open tasks",
		len(city.grids), len(city.categories), len(city.ids), len(city.open), city.residentN, city.workerName, city.workerTasks)

	if want("calls") {
		stop := profiled("calls")
		scaleCalls(b, rep, c, srv, city, calls)
		stop()
	}
	if want("rest") {
		secs := scaleSetting("CGT_BENCH_SCALE_REST_SECONDS", 60)
		time.Sleep(10 * time.Second) // the calls' aftermath
		stop := profiled("rest")
		l0, cpu0 := scaleLoad(), srv.cpu()
		time.Sleep(time.Duration(secs) * time.Second)
		cpu := srv.cpu() - cpu0
		stop()
		rep.add(b, "at rest: **%.2f %% of a core** (%v of CPU in %d s), load %s", 100*cpu.Seconds()/float64(secs), cpu, secs,
			scaleLoadRange(l0, scaleLoad()))
	}
	if want("crash") {
		var ups []string
		var loads []float64
		for range 2 {
			srv.kill()
			loads = append(loads, scaleLoad())
			up := srv.start(b)
			ups = append(ups, fmt.Sprintf("%.2f s", up.Seconds()))
		}
		rep.add(b, "start-up to ready after kill -9: **%s**, load %s", strings.Join(ups, ", "), scaleLoadRange(append(loads, scaleLoad())...))
	}
	if want("intake") {
		scaleIntake(b, rep, srv, city, scaleSetting("CGT_BENCH_SCALE_INTAKE", 3000), scaleSetting("CGT_BENCH_SCALE_INTAKE_C", 32),
			func() func() { return profiled("intake") })
	}
	if want("dispatch") {
		scaleDispatch(b, rep, srv, city, scaleSetting("CGT_BENCH_SCALE_DISPATCH_RATE", 25), scaleSetting("CGT_BENCH_SCALE_DISPATCH_SECONDS", 20),
			func() func() { return profiled("dispatch") })
	}
	down := srv.stop(b)
	b.Logf("stopped in %v", down.Round(time.Millisecond))
}

// scaleCalls measures every call of the list.
func scaleCalls(b *testing.B, rep *scaleReport, c *scaleClient, srv *scaleServer, city *scaleCity, n int) {
	r := rand.New(rand.NewPCG(16, 500000))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	staff := city.staff
	list := func(q url.Values) string { return "/api/v1/admin/tickets?" + q.Encode() }
	statuses := []string{"submitted", "pending", "dispatched", "in_progress", "deferred", "resolved", "closed", "rejected", "merged"}
	words1 := []string{"灯", "井", "坑", "树", "车", "桶"}
	words2 := []string{"井盖", "路灯", "垃圾", "广告", "噪音", "渣土"}
	words3 := []string{"虎踞路", "共享单车", "全都不亮", "小区南门", "消防通道", "渣土车撒落"}
	rep.add(b, "| call | n | p50 ms | p95 ms | p99 ms | max ms | server CPU ms/call | bytes/call | load |")
	rep.add(b, "|---|---|---|---|---|---|---|---|---|")
	shapes := []scaleShape{
		{"staff list, default", func(int) (string, string) { return "/api/v1/admin/tickets", staff }},
		{"… by status", func(i int) (string, string) { return list(url.Values{"status": {statuses[i%len(statuses)]}}), staff }},
		{"… open statuses (the map's filter)", func(int) (string, string) {
			return list(url.Values{"status": {"submitted,pending,dispatched,in_progress,deferred"}}), staff
		}},
		{"… by grid", func(i int) (string, string) {
			return list(url.Values{"grid": {city.grids[i%len(city.grids)].code}}), staff
		}},
		{"… overdue=true", func(int) (string, string) { return list(url.Values{"overdue": {"true"}}), staff }},
		{"… sort=due_at", func(int) (string, string) { return list(url.Values{"sort": {"due_at"}}), staff }},
		{"… grid + open, sort=due_at", func(i int) (string, string) {
			return list(url.Values{"grid": {city.grids[i%len(city.grids)].code}, "status": {"pending,dispatched,in_progress"}, "sort": {"due_at"}}), staff
		}},
		{"… q, 1 character (灯 井 坑 树 车 桶)", func(i int) (string, string) { return list(url.Values{"q": {words1[i%len(words1)]}}), staff }},
		{"… q, 2 characters (井盖 路灯 垃圾 …)", func(i int) (string, string) { return list(url.Values{"q": {words2[i%len(words2)]}}), staff }},
		{"… q, 3+ characters (虎踞路 共享单车 …)", func(i int) (string, string) { return list(url.Values{"q": {words3[i%len(words3)]}}), staff }},
		{"… q = a case number", func(int) (string, string) { return list(url.Values{"q": {pick(city.cases)}}), staff }},
		{"ticket detail by id", func(int) (string, string) { return "/api/v1/admin/tickets/" + pick(city.ids), staff }},
		{"ticket detail by case number", func(int) (string, string) { return "/api/v1/admin/tickets/" + pick(city.cases), staff }},
		{"candidates of an open ticket", func(int) (string, string) { return "/api/v1/admin/tickets/" + pick(city.open) + "/candidates", staff }},
		{"grids (the map's outlines)", func(int) (string, string) { return "/api/v1/admin/grids", staff }},
		{"a resident's reports (/reports/mine)", func(int) (string, string) { return "/api/v1/reports/mine", city.resident }},
		{"a worker's tasks (/tasks)", func(int) (string, string) { return "/api/v1/tasks", city.worker }},
		{"reports nearby (500 m)", func(i int) (string, string) {
			g := city.grids[i%len(city.grids)]
			return fmt.Sprintf("/api/v1/reports/nearby?lat=%.6f&lng=%.6f&coord_type=wgs84", (g.minLat+g.maxLat)/2, (g.minLng+g.maxLng)/2), city.resident
		}},
		{"/stats/summary (this year)", func(int) (string, string) { return "/api/v1/stats/summary", staff }},
		{"/stats/summary?group_by=grid", func(int) (string, string) { return "/api/v1/stats/summary?group_by=grid", staff }},
		{"/stats/summary?group_by=category", func(int) (string, string) { return "/api/v1/stats/summary?group_by=category", staff }},
		{"/stats/summary, 30 days by day", func(int) (string, string) {
			return "/api/v1/stats/summary?group_by=day&from=" + city.day.AddDate(0, 0, -29).Format(time.DateOnly) + "&to=" + city.day.Format(time.DateOnly), staff
		}},
		{"Open311 requests.json", func(int) (string, string) { return "/open311/v2/requests.json", "" }},
		{"Open311 requests.json?status=open", func(int) (string, string) { return "/open311/v2/requests.json?status=open", "" }},
	}
	for _, sh := range shapes {
		if len(city.cases) == 0 && strings.Contains(sh.name, "case number") {
			rep.add(b, "| %s | — | not served: this server's lists carry no case_no | | | | | | |", sh.name)
			continue
		}
		scaleMeasure(b, rep, c, srv, sh, n)
	}

	// The map (console 地图). The console before i19c: the five open
	// statuses, each read 100 a page up to 2,000, the five at once; the
	// console now (handler/console/tabs/map.js): one list of the five
	// statuses, up to 5,000; the heat view: the last 30 days up to 5,000.
	// Each page is timed, and each whole load.
	last30 := url.Values{"from": {city.day.AddDate(0, 0, -29).Format(time.DateOnly)}, "to": {city.day.Format(time.DateOnly)}}
	maps := []struct {
		name  string
		lists []url.Values
		limit int
	}{
		{"map, open tickets (the console before i19c: 5 lists at once, 100 a page, ≤ 2,000 each)", []url.Values{{"status": {"submitted"}}, {"status": {"pending"}},
			{"status": {"dispatched"}}, {"status": {"in_progress"}}, {"status": {"deferred"}}}, 2000},
		{"map, open tickets (the console: one list, 100 a page, ≤ 5,000)", []url.Values{{"status": {"submitted,pending,dispatched,in_progress,deferred"}}}, 5000},
		{"heat view, last 30 days (100 a page, ≤ 5,000)", []url.Values{last30}, 5000},
	}
	mc := newScaleClient(srv.base, 8)
	loads := max(3, n/40)
	for _, m := range maps {
		var pages scaleDurations
		var mu sync.Mutex
		var whole scaleDurations
		got := 0
		l0, cpu0 := scaleLoad(), srv.cpu()
		for range loads {
			t0 := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, len(m.lists))
			counts := make([]int, len(m.lists))
			for k, q := range m.lists {
				wg.Go(func() { counts[k], errs[k] = scaleAllPages(mc, staff, q, m.limit, &pages, &mu) })
			}
			wg.Wait()
			whole = append(whole, time.Since(t0))
			if err := errors.Join(errs...); err != nil {
				b.Fatalf("%s: %v", m.name, err)
			}
			got = 0
			for _, k := range counts {
				got += k
			}
		}
		cpu := srv.cpu() - cpu0
		rep.add(b, "| %s: each page | %d | %s | %s | **%s** | %s | %.2f | — | %s |", m.name, len(pages), scaleMS(pages.q(0.5)),
			scaleMS(pages.q(0.95)), scaleMS(pages.q(0.99)), scaleMS(pages.q(1)), float64(cpu)/float64(time.Millisecond)/float64(len(pages)),
			scaleLoadRange(l0, scaleLoad()))
		rep.add(b, "| … the whole load (%d tickets) | %d | %s | %s | %s | %s | %.0f | — | %s |", got, len(whole), scaleMS(whole.q(0.5)),
			scaleMS(whole.q(0.95)), scaleMS(whole.q(0.99)), scaleMS(whole.q(1)), float64(cpu)/float64(time.Millisecond)/float64(len(whole)),
			scaleLoadRange(l0, scaleLoad()))
	}

	// Exports: ~15,000 rows (11 days) and a calendar month (the last whole
	// one), a few times each; the rows counted in the workbook once.
	prev := time.Date(city.day.Year(), city.day.Month(), 1, 0, 0, 0, 0, scaleShanghai).AddDate(0, -1, 0)
	exports := []struct {
		name     string
		from, to time.Time
	}{
		{"export .xlsx, 11 days", city.day.AddDate(0, 0, -17), city.day.AddDate(0, 0, -7)},
		{"export .xlsx, " + prev.Format("2006-01"), prev, prev.AddDate(0, 1, -1)},
	}
	for _, e := range exports {
		path := "/api/v1/admin/tickets/export.xlsx?from=" + e.from.Format(time.DateOnly) + "&to=" + e.to.Format(time.DateOnly)
		st, body, err := c.do("GET", path, staff, "", nil)
		if err != nil || st != 200 {
			b.Fatalf("%s: %d %v %.300s", e.name, st, err, body)
		}
		rows := -1
		if f, err := excelize.OpenReader(bytes.NewReader(body)); err == nil {
			if sheets := f.GetSheetList(); len(sheets) > 0 {
				if rr, err := f.GetRows(sheets[0]); err == nil {
					rows = len(rr) - 1
				}
			}
			_ = f.Close()
		}
		sh := scaleShape{fmt.Sprintf("%s (%d rows, %.1f MB)", e.name, rows, float64(len(body))/1e6),
			func(int) (string, string) { return path, staff }}
		scaleMeasure(b, rep, c, srv, sh, 5)
	}
}

// scaleSlot is report i's category and place: categories with a
// duplicate radius of at most 50 m in turn, each at a point of a lattice
// of 60 m inside the grids with a worker on duty, so that the benchmark's
// reports are not duplicates of one another (they may be of the history's
// open tickets).
func scaleSlot(city *scaleCity, i int) (category string, lat, lng float64) {
	var cats []string
	for _, c := range city.categories {
		if c.DuplicateRadiusM <= 50 {
			cats = append(cats, c.Code)
		}
	}
	var gs []scaleGrid
	for _, g := range city.grids {
		if g.onDuty > 0 {
			gs = append(gs, g)
		}
	}
	if len(gs) == 0 {
		gs = city.grids
	}
	category = cats[i%len(cats)]
	k := i / len(cats) // the point: every category once at each
	g := gs[k%len(gs)]
	k /= len(gs)
	const step = 0.0006 // 60 m of latitude, 51 m of longitude here
	cols := max(1, int((g.maxLng-g.minLng)/step)-1)
	rows := max(1, int((g.maxLat-g.minLat)/step)-1)
	k %= cols * rows
	return category, g.minLat + step + float64(k/cols)*step, g.minLng + step + float64(k%cols)*step
}

// scaleReportBodies makes n reports' bodies with their photos uploaded
// (the uploads are not timed), in the slots from first on; the reporters
// are fresh residents.
func scaleReportBodies(tb testing.TB, c *scaleClient, city *scaleCity, tag string, first, n, residents int) (bodies [][]byte, tokens []string) {
	tb.Helper()
	tokens = make([]string, residents)
	for i := range tokens {
		var err error
		if tokens[i], _, err = c.login(fmt.Sprintf("bench-scale-%s-resident-%d", tag, i)); err != nil {
			tb.Fatal(err)
		}
	}
	g := city.grids[0]
	jpeg := apitest.JPEGWithGPS(tb, 160, 120, (g.minLat+g.maxLat)/2, (g.minLng+g.maxLng)/2, "2026:05:01 09:30:00")
	photos := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	t0 := time.Now()
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || firstErr.Load() != nil {
					return
				}
				id, err := c.upload(tokens[i%len(tokens)], jpeg)
				if err != nil {
					firstErr.Store(err)
					return
				}
				photos[i] = id
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		tb.Fatalf("upload: %v", err)
	}
	tb.Logf("%s: %d photos uploaded in %v", tag, n, time.Since(t0).Round(time.Millisecond))
	bodies = make([][]byte, n)
	for i := range bodies {
		cat, lat, lng := scaleSlot(city, first+i)
		bodies[i], _ = json.Marshal(map[string]any{
			"category":    cat,
			"description": fmt.Sprintf("压测%s批次第%d件：路口井盖松动，车辆经过时响声很大", tag, i),
			"location":    map[string]any{"lat": lat, "lng": lng, "coord_type": "wgs84"},
			"address":     "南京市鼓楼区幸福路" + strconv.Itoa(i%200+1) + "号", "photo_ids": []string{photos[i]},
		})
	}
	return bodies, tokens
}

// scaleIntake: C clients report n times as fast as the server answers;
// then the benchmark waits for screening to have handled every report.
func scaleIntake(b *testing.B, rep *scaleReport, srv *scaleServer, city *scaleCity, n, conc int, profile func() func()) {
	c := newScaleClient(srv.base, conc+4)
	tag := fmt.Sprintf("i%d", time.Now().Unix()%100000)
	bodies, tokens := scaleReportBodies(b, c, city, tag, city.slots, n, 100)
	city.slots += n
	time.Sleep(5 * time.Second) // the uploads' aftermath
	ids := make([]string, n)
	posts := make(scaleDurations, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	stopProfile := profile()
	defer stopProfile()
	l0, cpu0, t0 := scaleLoad(), srv.cpu(), time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				s0 := time.Now()
				st, body, err := c.do("POST", "/api/v1/reports", tokens[i%len(tokens)], "application/json", bodies[i])
				posts[i] = time.Since(s0)
				var r struct{ ID string }
				if err != nil || st != 201 || json.Unmarshal(body, &r) != nil {
					if failed.Add(1) <= 3 {
						b.Logf("POST /reports: %d %v %.200s", st, err, body)
					}
					continue
				}
				ids[i] = r.ID
			}
		})
	}
	wg.Wait()
	posted := time.Since(t0)
	cpuPosted := srv.cpu() - cpu0
	// Screened: none of the batch is still submitted; routed: none is
	// pending either, or the pending stay so for 5 s (routed to a queue
	// with no one on duty). The search for the batch's tag counts them.
	count := func(status string) int {
		var p scalePage
		q := url.Values{"q": {"压测" + tag + "批次"}, "status": {status}, "limit": {"1"}}
		if err := c.get("/api/v1/admin/tickets?"+q.Encode(), city.staff, &p); err != nil {
			b.Fatal(err)
		}
		return p.Total
	}
	var screened, routed time.Duration
	var cpuRouted time.Duration
	lastPending, pendingSince := -1, time.Now()
	for routed == 0 {
		if time.Since(t0) > 10*time.Minute {
			b.Fatalf("intake: not screened and routed after 10 minutes")
		}
		time.Sleep(100 * time.Millisecond)
		if screened == 0 {
			if count("submitted") > 0 {
				continue
			}
			screened = time.Since(t0)
		}
		switch p := count("pending"); {
		case p == 0:
			routed, cpuRouted = time.Since(t0), srv.cpu()-cpu0
		case p != lastPending:
			lastPending, pendingSince = p, time.Now()
		case time.Since(pendingSince) > 5*time.Second:
			routed, cpuRouted = pendingSince.Sub(t0), srv.cpu()-cpu0
		}
	}
	stopProfile()
	ok := n - int(failed.Load())
	outcome := map[string]int{}
	for _, st := range []string{"pending", "dispatched", "merged", "rejected"} {
		outcome[st] = count(st)
	}
	rep.add(b, "intake, %d reports by %d clients: **%.0f reports/s** answered 201 (%d failed; POST p50 %s ms, p99 %s ms); all screened after %.1f s, routed after %.1f s = **%.0f reports/s end to end** (%v); server CPU **%.2f ms a report** to routed (%.2f ms while posting); load %s",
		n, conc, float64(ok)/posted.Seconds(), failed.Load(), scaleMS(posts.q(0.5)), scaleMS(posts.q(0.99)), screened.Seconds(),
		routed.Seconds(), float64(ok)/routed.Seconds(), outcome, float64(cpuRouted)/float64(time.Millisecond)/float64(ok),
		float64(cpuPosted)/float64(time.Millisecond)/float64(ok), scaleLoadRange(l0, scaleLoad()))
}

// scaleDispatch: an open loop of reports at rate a second for secs
// seconds, each polled as its reporter (GET /reports/{id}) until it reads
// dispatched: the interval [last poll that read otherwise was sent, the
// poll that read dispatched came back] holds the moment it entered the
// assignee's /tasks (the same commit).
func scaleDispatch(b *testing.B, rep *scaleReport, srv *scaleServer, city *scaleCity, rate, secs int, profile func() func()) {
	n := rate * secs
	c := newScaleClient(srv.base, 64)
	tag := fmt.Sprintf("d%d", time.Now().Unix()%100000)
	bodies, tokens := scaleReportBodies(b, c, city, tag, city.slots, n, 50)
	city.slots += n
	time.Sleep(5 * time.Second)
	type result struct {
		post, lo, hi time.Duration
		final        string
		err          string
	}
	results := make([]result, n)
	period := time.Second / time.Duration(rate)
	start := time.Now().Add(20 * time.Millisecond)
	drainBy := start.Add(time.Duration(n)*period + 60*time.Second)
	stopProfile := profile()
	defer stopProfile()
	l0, cpu0 := scaleLoad(), srv.cpu()
	pollSlots := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		wg.Go(func() {
			r := &results[i]
			tok := tokens[i%len(tokens)]
			s0 := time.Now()
			st, body, err := c.do("POST", "/api/v1/reports", tok, "application/json", bodies[i])
			got201 := time.Now()
			r.post = got201.Sub(s0)
			var t struct{ ID, Status string }
			if err != nil || st != 201 || json.Unmarshal(body, &t) != nil {
				r.err = fmt.Sprintf("%d %v %.200s", st, err, body)
				return
			}
			prev := got201
			for time.Now().Before(drainBy) {
				time.Sleep(min(max(5*time.Millisecond, time.Since(got201)/10), time.Second))
				pollSlots <- struct{}{}
				sent := time.Now()
				st, body, err := c.do("GET", "/api/v1/reports/"+t.ID, tok, "", nil)
				back := time.Now()
				<-pollSlots
				if err != nil || st != 200 || json.Unmarshal(body, &t) != nil {
					continue
				}
				r.final = t.Status
				switch t.Status {
				case "submitted", "pending":
					prev = sent
					continue
				case "dispatched", "in_progress":
					r.lo, r.hi = prev.Sub(got201), back.Sub(got201)
				}
				return
			}
		})
	}
	wg.Wait()
	cpu := srv.cpu() - cpu0
	stopProfile()
	var his, los, posts scaleDurations
	finals := map[string]int{}
	errs := 0
	for _, r := range results {
		if r.err != "" {
			errs++
			continue
		}
		posts = append(posts, r.post)
		finals[r.final]++
		if r.hi > 0 {
			his, los = append(his, r.hi), append(los, r.lo)
		}
	}
	rep.add(b, "dispatch at %d reports/s for %d s: %d POSTs (%d failed; p50 %s ms, p99 %s ms); 201 → in the assignee's /tasks, upper bound p50 %s, p90 %s, **p99 %s ms**, max %s; lower bound p50 %s, p99 %s ms (%d dispatched; outcomes %v); server CPU %.2f ms a report; load %s",
		rate, secs, n, errs, scaleMS(posts.q(0.5)), scaleMS(posts.q(0.99)), scaleMS(his.q(0.5)), scaleMS(his.q(0.9)), scaleMS(his.q(0.99)),
		scaleMS(his.q(1)), scaleMS(los.q(0.5)), scaleMS(los.q(0.99)), len(his), finals,
		float64(cpu)/float64(time.Millisecond)/float64(max(1, n-errs)), scaleLoadRange(l0, scaleLoad()))
}
