package citysim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Load is how hard and how long to drive the city.
type Load struct {
	// Rate is reports per second; Duration how long new reports start.
	Rate     float64
	Duration time.Duration
	// With neither Rate nor Burst, no report is made: the workers (Handle
	// or AcceptOnly) work for Duration, or until ctx is done.
	//
	// Burst, when positive, replaces Rate and Duration: Burst reports
	// start at once, spread over the residents (report i is resident
	// i mod Residents's, who sends their reports one after another, as
	// one phone does). 16 residents and a Burst of 160 are 16 phones
	// sending 10 reports each, all at the same moment.
	Burst int
	// Photos per report (default 1), uploaded one per request.
	Photos int
	// Handle makes workers accept and resolve what they are given, the
	// residents rate it, and the party members check in to the activity.
	// Without it tickets stay dispatched, for the audit to find in lists.
	Handle bool
	// AcceptOnly makes the workers accept what they are given and go no
	// further (tickets stay in progress); it implies no resolving.
	AcceptOnly bool
	// RetryFor is how long a resident keeps trying a report the server
	// could not take (down, 503), with the same Idempotency-Key; default 90 s.
	RetryFor time.Duration
	// Poll is how often a worker looks at their task list; default 1 s.
	Poll time.Duration
	// Progress receives a progress line every second; nil for none.
	Progress io.Writer
}

// Run drives the city until Duration has passed and every report started
// has got its 201 or given up, then stops the workers. ctx cancels it.
func (c *City) Run(ctx context.Context, l Load) {
	if l.Photos <= 0 {
		l.Photos = 1
	}
	if l.RetryFor <= 0 {
		l.RetryFor = 90 * time.Second
	}
	if l.Poll <= 0 {
		l.Poll = time.Second
	}
	start := time.Now()
	var started, accepted, failed, inFlight atomic.Int64
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var bg sync.WaitGroup
	handled := &handledSet{seen: map[string]bool{}}
	if l.Handle || l.AcceptOnly {
		for _, w := range c.workers {
			bg.Go(func() { c.work(workCtx, w, l, handled) })
		}
		for _, m := range c.members {
			if l.AcceptOnly {
				break
			}
			bg.Go(func() {
				_, _ = c.call(workCtx, 0, "POST /activities/{id}/checkin", "POST", "/api/v1/activities/"+c.activity+"/checkin", m.token, nil, nil, http.StatusOK)
			})
		}
	}
	progressDone := make(chan struct{})
	if l.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-progressDone:
					fmt.Fprintln(l.Progress)
					return
				case <-t.C:
					fmt.Fprintf(l.Progress, "\r%5.0fs  reports started %d  201 %d  given up %d  in flight %d  handled %d   ",
						time.Since(start).Seconds(), started.Load(), accepted.Load(), failed.Load(), inFlight.Load(), handled.count())
				}
			}
		}()
	}

	var reports sync.WaitGroup
	report := func() {
		i := int(c.next.Add(1)) - 1 // numbers go on across runs: one Idempotency-Key per report
		started.Add(1)
		inFlight.Add(1)
		reports.Go(func() {
			defer inFlight.Add(-1)
			if err := c.reportOnce(ctx, i, l); err != nil {
				failed.Add(1)
				c.Stats.fail(err)
			} else {
				accepted.Add(1)
			}
		})
	}
	switch {
	case l.Burst > 0:
		for range l.Burst {
			report()
		}
	case l.Rate <= 0:
		select {
		case <-ctx.Done():
		case <-time.After(l.Duration):
		}
	default:
		interval := time.Duration(float64(time.Second) / l.Rate)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		end := time.After(l.Duration)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-end:
				break loop
			case <-tick.C:
				report()
			}
		}
	}
	reports.Wait()
	if l.Handle || l.AcceptOnly {
		// Let the workers pick up what was dispatched last.
		select {
		case <-ctx.Done():
		case <-time.After(3 * l.Poll):
		}
	}
	stopWork()
	bg.Wait()
	close(progressDone)
	if l.Progress != nil {
		time.Sleep(10 * time.Millisecond)
	}
	c.Stats.mu.Lock()
	c.Stats.elapsed += time.Since(start)
	c.Stats.mu.Unlock()
}

// reportOnce is one resident's report: log in if needed (on one
// instance), upload the photos one by one and submit (on the next),
// retrying what the server could not take with the same Idempotency-Key.
func (c *City) reportOnce(ctx context.Context, i int, l Load) error {
	r := c.residents[i%len(c.residents)]
	r.mu.Lock() // one phone does one thing at a time
	defer r.mu.Unlock()
	loginAt, at := i, i+1
	deadline := time.Now().Add(l.RetryFor)
	g := c.grids[i%len(c.grids)]
	lat, lng := g.point()
	key := fmt.Sprintf("sim-%s-report-%d", c.cfg.Seed, i)
	var photos []string
	for attempt := 0; ; attempt++ {
		err := c.tryReport(ctx, r, loginAt, at, l.Photos, &photos, key, categories[i%len(categories)], lat, lng, i)
		if err == nil {
			return nil
		}
		var he *HTTPError
		if errors.As(err, &he) && he.Status == http.StatusUnauthorized {
			r.token = "" // log in again
		} else if !Retryable(err) || time.Now().After(deadline) {
			return err
		}
		backoff := time.Duration(min(attempt+1, 8)) * 250 * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		loginAt++ // try other instances, as a load balancer would
		at++
	}
}

func (c *City) tryReport(ctx context.Context, r *actor, loginAt, at, nPhotos int, photos *[]string, key, category string, lat, lng float64, i int) error {
	if r.token == "" {
		if err := c.login(ctx, loginAt, r); err != nil {
			return err
		}
	}
	for len(*photos) < nPhotos {
		var p struct {
			ID string `json:"id"`
		}
		if _, err := c.call(ctx, at, "POST /photos", "POST", "/api/v1/photos", r.token, photoBody(), &p, http.StatusCreated); err != nil {
			return err
		}
		*photos = append(*photos, p.ID)
	}
	body := map[string]any{
		"category": category, "description": fmt.Sprintf("模拟反映第%d号：这里的问题需要处理，请尽快安排", i),
		"location": map[string]any{"lat": round6(lat), "lng": round6(lng), "coord_type": "wgs84"},
		"address":  fmt.Sprintf("模拟市模拟路%d号", i), "photo_ids": *photos,
	}
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.call(ctx, at, "POST /reports", "POST", "/api/v1/reports", r.token, body, &out, http.StatusCreated, "Idempotency-Key", key); err != nil {
		return err
	}
	c.mu.Lock()
	c.reports = append(c.reports, &Report{ID: out.ID, At: time.Now(), Resident: r, Target: at % len(c.cfg.Targets), LoginTarget: loginAt % len(c.cfg.Targets)})
	c.mu.Unlock()
	return nil
}

type handledSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (h *handledSet) add(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[id] {
		return false
	}
	h.seen[id] = true
	return true
}

func (h *handledSet) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen)
}

// work is a grid worker's phone: look at the task list, accept what was
// dispatched, resolve what is in progress (with an "after" photo), and let
// the resident rate it. A request the instance did not answer (down, 502,
// 503) moves the phone to the next instance, as a load balancer would.
func (c *City) work(ctx context.Context, w *actor, l Load, handled *handledSet) {
	t := time.NewTicker(l.Poll)
	defer t.Stop()
	after := map[string]string{} // ticket → its "after" photo, uploaded once
	target := w.grid
	call := func(endpoint, method, path string, body, out any, want int) error {
		status, err := c.call(ctx, target, endpoint, method, path, w.token, body, out, want)
		if err != nil && (status == 0 || status == http.StatusBadGateway || status == http.StatusServiceUnavailable) {
			target++
		}
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var list struct {
			Items []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		if err := call("GET /tasks", "GET", "/api/v1/tasks?limit=100", nil, &list, http.StatusOK); err != nil {
			continue
		}
		for _, it := range list.Items {
			if ctx.Err() != nil {
				return
			}
			switch it.Status {
			case "dispatched":
				if call("POST /tasks/{id}/accept", "POST", "/api/v1/tasks/"+it.ID+"/accept", nil, nil, http.StatusOK) == nil {
					c.accepted.Add(1)
				}
			case "in_progress":
				if l.AcceptOnly {
					continue
				}
				if after[it.ID] == "" {
					var p struct {
						ID string `json:"id"`
					}
					if err := call("POST /photos", "POST", "/api/v1/photos", photoBody(), &p, http.StatusCreated); err != nil {
						continue // e.g. 429: the worker's uploads per minute; next look
					}
					after[it.ID] = p.ID
				}
				if err := call("POST /tasks/{id}/resolve", "POST", "/api/v1/tasks/"+it.ID+"/resolve",
					map[string]any{"note": "已到现场处理完毕", "photo_ids": []string{after[it.ID]}}, nil, http.StatusOK); err != nil {
					continue
				}
				c.resolved.Add(1)
				delete(after, it.ID)
				if handled.add(it.ID) {
					c.rate(ctx, it.ID)
				}
			}
		}
	}
}

// Progress counts what the workers did: tasks accepted and resolved (each
// a 200), so far, across runs. A test waits on it to strike at a stage.
func (c *City) Progress() (accepted, resolved int64) {
	return c.accepted.Load(), c.resolved.Load()
}

// rate is the resident's confirmation of a resolved report.
func (c *City) rate(ctx context.Context, id string) {
	var r *Report
	c.mu.Lock()
	for _, x := range c.reports {
		if x.ID == id {
			r = x
		}
	}
	c.mu.Unlock()
	if r == nil {
		return
	}
	r.Resident.mu.Lock()
	tok := r.Resident.token
	r.Resident.mu.Unlock()
	_, _ = c.call(ctx, r.Target, "POST /reports/{id}/feedback", "POST", "/api/v1/reports/"+id+"/feedback", tok,
		map[string]any{"satisfied": true, "rating": 5, "comment": "处理及时，谢谢"}, nil, http.StatusOK)
}

// Stats are the load's measurements per endpoint.
type Stats struct {
	mu        sync.Mutex
	endpoints map[string]*endpointStats
	failures  map[string]int // reports given up, by reason
	answers   map[Answer]int
	elapsed   time.Duration
}

// Answer is an answer other than the one a request wanted: its endpoint,
// status and error envelope.
type Answer struct {
	Endpoint, Code, Message string
	Status                  int
}

// Answers counts the answers other than the wanted one, by endpoint,
// status, code and message.
func (s *Stats) Answers() map[Answer]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Answer]int, len(s.answers))
	for k, v := range s.answers {
		out[k] = v
	}
	return out
}

func (s *Stats) answer(a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[a]++
}

type endpointStats struct {
	latencies []time.Duration
	statuses  map[int]int
}

func newStats() *Stats {
	return &Stats{endpoints: map[string]*endpointStats{}, failures: map[string]int{}, answers: map[Answer]int{}}
}

func (s *Stats) record(endpoint string, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoints[endpoint]
	if e == nil {
		e = &endpointStats{statuses: map[int]int{}}
		s.endpoints[endpoint] = e
	}
	e.latencies = append(e.latencies, d)
	e.statuses[status]++
}

func (s *Stats) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[err.Error()]++
}

// Failures returns the reports that were given up, by reason.
func (s *Stats) Failures() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.failures))
	for k, v := range s.failures {
		out[k] = v
	}
	return out
}

// Print writes throughput and latency percentiles per endpoint, and the
// answers that were not 2xx.
func (s *Stats) Print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.endpoints))
	for n := range s.endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	secs := s.elapsed.Seconds()
	fmt.Fprintf(w, "%-32s %7s %7s %9s %9s %9s %9s  %s\n", "endpoint", "count", "per s", "p50", "p95", "p99", "max", "not 2xx")
	for _, n := range names {
		e := s.endpoints[n]
		ls := append([]time.Duration(nil), e.latencies...)
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		rate := 0.0
		if secs > 0 {
			rate = float64(len(ls)) / secs
		}
		bad := ""
		codes := make([]int, 0, len(e.statuses))
		for code := range e.statuses {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			if code < 200 || code >= 300 {
				label := fmt.Sprint(code)
				if code == 0 {
					label = "no answer"
				}
				bad += fmt.Sprintf("%s×%d ", label, e.statuses[code])
			}
		}
		fmt.Fprintf(w, "%-32s %7d %7.1f %9s %9s %9s %9s  %s\n", n, len(ls), rate,
			pct(ls, 0.50), pct(ls, 0.95), pct(ls, 0.99), pct(ls, 1), bad)
	}
	for reason, n := range s.failures {
		fmt.Fprintf(w, "report given up ×%d: %s\n", n, reason)
	}
}

func pct(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i].Round(100 * time.Microsecond).String()
}
