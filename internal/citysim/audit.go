package citysim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Audit is what the server says, after the load, about every report that
// got a 201 — found by asking it (as staff, and as each worker), not from
// what the load saw.
type Audit struct {
	Reports    int
	Dispatched int // reached a worker (dispatched, in progress, resolved or closed)
	Resolved   int // resolved or closed
	Merged     int // joined another open ticket as a duplicate
	Rejected   int
	// DispatchLatency is, for each ticket, from its reported event to its
	// first dispatched event (the server's clock).
	DispatchLatency []time.Duration
	// DispatchedAt is each dispatched ticket's first dispatched event.
	DispatchedAt map[string]time.Time
	// Counted is the statistics' reported and registered figures for the
	// day, less those before the load.
	CountedReported, CountedRegistered int64
	// Listed is, in the deadline mode (AuditOptions.ListedBy), when the
	// audit first found each report in place: in exactly one worker's
	// task list, in the staff's queue, resolved or merged. Times are the
	// start of the audit's round that found it (the client's clock).
	Listed map[string]time.Time
	// LastListed is the report found in place last, and when.
	LastListed   string
	LastListedAt time.Time
	// Problems lists every report lost, duplicated, left waiting, or
	// miscounted. Empty means nothing was.
	Problems []string
}

// OK reports whether the audit found no problem.
func (a *Audit) OK() bool { return len(a.Problems) == 0 }

type auditReport struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	DuplicateOf string `json:"duplicate_of"`
	Timeline    []struct {
		At   time.Time `json:"at"`
		Type string    `json:"type"`
	} `json:"timeline"`
}

// AuditOptions tune what the audit accepts.
type AuditOptions struct {
	// Wait bounds how long the audit waits for reports to leave
	// "submitted" and for the statistics to catch up; default 60 s.
	Wait time.Duration
	// AllowRejected accepts rejected reports (a risky verdict on purpose).
	AllowRejected bool
	// ListedBy, when set, is the deadline mode: the audit watches, in
	// rounds, until every report that got a 201 is in place — in exactly
	// one worker's task list while dispatched or in progress, in the
	// staff's queue (pending, or held for review), resolved and in no
	// list, or merged — and fails each report not found in place by its
	// deadline, without waiting longer. A report's deadline is ListedBy,
	// or its 201 plus ListedWithin if that is later (a report acknowledged
	// after the fault, on a retry or by a survivor, has ListedWithin of
	// its own). The audit then judges the whole as without ListedBy
	// (exactly once, counted once), waiting at most Wait for what is
	// still in flight.
	ListedBy time.Time
	// ListedWithin is how long after its 201 a report may take to be in
	// place, when that ends after ListedBy; default 10 s.
	ListedWithin time.Duration
	// LoadDone, in the deadline mode, is closed when the load has ended:
	// until then the audit also watches the reports that get their 201
	// meanwhile (so it may start while the load still runs). Nil: the
	// load has ended.
	LoadDone <-chan struct{}
}

// Audit checks every report that got a 201: it exists; it was screened
// (not left submitted); unless merged into another ticket or rejected, it
// was dispatched exactly once and — while dispatched or in progress — is in
// exactly one worker's task list, and in none once resolved; and the day's
// statistics count each report and each registered ticket once.
func (c *City) Audit(ctx context.Context, o AuditOptions) (*Audit, error) {
	if o.Wait <= 0 {
		o.Wait = 60 * time.Second
	}
	a := &Audit{DispatchedAt: map[string]time.Time{}, Listed: map[string]time.Time{}}
	if !o.ListedBy.IsZero() {
		if err := c.watchListed(ctx, o, a); err != nil {
			return nil, err
		}
	}
	reports := c.Reports()
	a.Reports = len(reports)
	deadline := time.Now().Add(o.Wait)
	got := map[string]*auditReport{}
	for {
		waiting := 0
		for _, r := range reports {
			if x := got[r.ID]; x != nil && x.Status != "submitted" {
				continue
			}
			var x auditReport
			status, err := c.ask(ctx, "audit GET /reports/{id}", "GET", "/api/v1/reports/"+url.PathEscape(r.ID), c.staff, nil, &x, http.StatusOK)
			if status == http.StatusNotFound {
				got[r.ID] = nil
				continue
			}
			if err != nil {
				return nil, err
			}
			got[r.ID] = &x
			if x.Status == "submitted" {
				waiting++
			}
		}
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}

	lists, err := c.workerLists(ctx)
	if err != nil {
		return nil, err
	}
	registered := int64(0)
	for _, r := range reports {
		x := got[r.ID]
		if x == nil {
			a.Problems = append(a.Problems, fmt.Sprintf("%s: got a 201 and does not exist (404)", r.ID))
			continue
		}
		n := map[string]int{}
		var reportedAt, dispatchedAt time.Time
		for _, e := range x.Timeline {
			n[e.Type]++
			if e.Type == "reported" && reportedAt.IsZero() {
				reportedAt = e.At
			}
			if e.Type == "dispatched" && dispatchedAt.IsZero() {
				dispatchedAt = e.At
			}
		}
		if n["registered"]+n["dispatched"]+n["queued"] > 0 {
			registered++
		}
		holders := lists[r.ID]
		switch x.Status {
		case "submitted":
			a.Problems = append(a.Problems, fmt.Sprintf("%s: still submitted (screening never finished; held=%v)", r.ID, n["held"] > 0))
		case "merged":
			a.Merged++
			if x.DuplicateOf == "" {
				a.Problems = append(a.Problems, fmt.Sprintf("%s: merged into nothing", r.ID))
			}
		case "rejected":
			a.Rejected++
			if !o.AllowRejected {
				a.Problems = append(a.Problems, fmt.Sprintf("%s: rejected", r.ID))
			}
		case "pending":
			a.Problems = append(a.Problems, fmt.Sprintf("%s: pending for staff although its grid has workers on duty", r.ID))
		case "dispatched", "in_progress", "resolved", "closed":
			a.Dispatched++
			if n["dispatched"] != 1 {
				a.Problems = append(a.Problems, fmt.Sprintf("%s: dispatched %d times", r.ID, n["dispatched"]))
			}
			if !dispatchedAt.IsZero() {
				a.DispatchedAt[r.ID] = dispatchedAt
			}
			if !dispatchedAt.IsZero() && !reportedAt.IsZero() {
				a.DispatchLatency = append(a.DispatchLatency, dispatchedAt.Sub(reportedAt))
			}
			open := x.Status == "dispatched" || x.Status == "in_progress"
			if open && len(holders) != 1 {
				a.Problems = append(a.Problems, fmt.Sprintf("%s: %s and in %d workers' task lists %v", r.ID, x.Status, len(holders), holders))
			}
			if !open {
				a.Resolved++
				if len(holders) != 0 {
					a.Problems = append(a.Problems, fmt.Sprintf("%s: %s but still in task lists %v", r.ID, x.Status, holders))
				}
			}
		default:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: unexpected status %s", r.ID, x.Status))
		}
	}
	sort.Slice(a.DispatchLatency, func(i, j int) bool { return a.DispatchLatency[i] < a.DispatchLatency[j] })

	// The statistics are applied a few seconds after each transition.
	want := summary{Reported: int64(len(reports)), Registered: registered}
	for {
		s, err := c.summary(ctx)
		if err != nil {
			return nil, err
		}
		a.CountedReported, a.CountedRegistered = s.Reported-c.base.Reported, s.Registered-c.base.Registered
		if (a.CountedReported == want.Reported && a.CountedRegistered == want.Registered) || time.Now().After(deadline.Add(30*time.Second)) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if a.CountedReported != want.Reported {
		a.Problems = append(a.Problems, fmt.Sprintf("statistics count %d reports; %d got a 201", a.CountedReported, want.Reported))
	}
	if a.CountedRegistered != want.Registered {
		a.Problems = append(a.Problems, fmt.Sprintf("statistics count %d registered; %d were", a.CountedRegistered, want.Registered))
	}
	return a, nil
}

// watchListed is the deadline mode of Audit (AuditOptions.ListedBy): it
// looks in rounds until every report is in place or past its deadline and
// the load has ended, and notes in a.Problems each report not found in
// place by its deadline.
func (c *City) watchListed(ctx context.Context, o AuditOptions, a *Audit) error {
	within := o.ListedWithin
	if within <= 0 {
		within = 10 * time.Second
	}
	deadline := func(r *Report) time.Time {
		if d := r.At.Add(within); d.After(o.ListedBy) {
			return d
		}
		return o.ListedBy
	}
	loadDone := func() bool {
		if o.LoadDone == nil {
			return true
		}
		select {
		case <-o.LoadDone:
			return true
		default:
			return false
		}
	}
	late := map[string]string{}    // report → what the last round before its deadline saw
	lastSaw := map[string]string{} // report → what the last round saw
	for {
		done := loadDone() // before the round: a report of the load is in Reports by then
		round := time.Now()
		var open []*Report
		for _, r := range c.Reports() {
			if _, ok := a.Listed[r.ID]; ok {
				continue
			}
			if _, ok := late[r.ID]; ok {
				continue
			}
			if !round.Before(deadline(r)) {
				// No round that started before its deadline found it in place.
				late[r.ID] = lastSaw[r.ID]
				if late[r.ID] == "" {
					late[r.ID] = "not looked at before its deadline"
				}
				continue
			}
			open = append(open, r)
		}
		if len(open) == 0 && done {
			break
		}
		if len(open) > 0 {
			seen, err := c.placed(ctx, open, o.AllowRejected)
			if err != nil {
				return err
			}
			for _, r := range open {
				if why := seen[r.ID]; why != "" {
					lastSaw[r.ID] = why
					continue
				}
				a.Listed[r.ID] = round
				if round.After(a.LastListedAt) {
					a.LastListed, a.LastListedAt = r.ID, round
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	ids := make([]string, 0, len(late))
	for id := range late {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var r *Report
		for _, x := range c.Reports() {
			if x.ID == id {
				r = x
			}
		}
		a.Problems = append(a.Problems, fmt.Sprintf("%s: not in place by its deadline %s (201 at %s): %s",
			id, deadline(r).Format("15:04:05.000"), r.At.Format("15:04:05.000"), late[id]))
	}
	return nil
}

// placed looks once where each report is: it reads each report's status
// (by id), then — only if one needs them — every worker's task list and
// the staff's queue, so that a report dispatched by the time its status
// was read is in a list by the time the lists are, and one resolved is in
// none. It answers for each report "" (in place: in exactly one worker's
// list while dispatched or in progress, in the staff's queue while pending
// or held, resolved or closed and in no list, merged, or rejected when
// allowed) or what is wrong.
func (c *City) placed(ctx context.Context, reports []*Report, allowRejected bool) (map[string]string, error) {
	out := map[string]string{}
	statuses := map[string]*auditReport{}
	needLists := false
	for _, r := range reports {
		var x auditReport
		status, err := c.ask(ctx, "audit GET /reports/{id}", "GET", "/api/v1/reports/"+url.PathEscape(r.ID), c.staff, nil, &x, http.StatusOK)
		if status == http.StatusNotFound {
			out[r.ID] = "got a 201 and does not exist (404)"
			continue
		}
		if err != nil {
			return nil, err
		}
		statuses[r.ID] = &x
		switch x.Status {
		case "dispatched", "in_progress", "resolved", "closed":
			needLists = true
		}
	}
	var lists map[string][]string
	var queue map[string]bool
	var err error
	if needLists {
		if lists, err = c.workerLists(ctx); err != nil {
			return nil, err
		}
	}
	for id, x := range statuses {
		held := false
		for _, e := range x.Timeline {
			held = held || e.Type == "held"
		}
		holders := lists[id]
		switch {
		case x.Status == "dispatched", x.Status == "in_progress":
			if len(holders) == 1 {
				out[id] = ""
			} else {
				out[id] = fmt.Sprintf("%s and in %d workers' task lists %v", x.Status, len(holders), holders)
			}
		case x.Status == "resolved", x.Status == "closed":
			if len(holders) == 0 {
				out[id] = ""
			} else {
				out[id] = fmt.Sprintf("%s and still in task lists %v", x.Status, holders)
			}
		case x.Status == "merged" && x.DuplicateOf != "":
			out[id] = ""
		case x.Status == "rejected" && allowRejected:
			out[id] = ""
		case x.Status == "pending", x.Status == "submitted" && held:
			if queue == nil {
				if queue, err = c.staffQueue(ctx); err != nil {
					return nil, err
				}
			}
			if queue[id] {
				out[id] = ""
			} else {
				out[id] = x.Status + " and not in the staff's queue"
			}
		default:
			out[id] = x.Status + " (not yet in any worker's task list)"
		}
	}
	return out, nil
}

// staffQueue is the set of tickets in the staff's queue: pending (no
// worker could take it) or held for review.
func (c *City) staffQueue(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	for _, filter := range []string{"status=pending", "held=true"} {
		cursor := ""
		for {
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				Next string `json:"next_cursor"`
			}
			path := "/api/v1/admin/tickets?limit=100&" + filter
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			if _, err := c.ask(ctx, "audit GET /admin/tickets", "GET", path, c.staff, nil, &page, http.StatusOK); err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				out[it.ID] = true
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	return out, nil
}

// workerLists maps each ticket to the workers whose task list shows it.
func (c *City) workerLists(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, w := range c.workers {
		cursor := ""
		for {
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				Next string `json:"next_cursor"`
			}
			path := "/api/v1/tasks?limit=100"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			if _, err := c.ask(ctx, "audit GET /tasks", "GET", path, w.token, nil, &page, http.StatusOK); err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				out[it.ID] = append(out[it.ID], w.code)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	return out, nil
}

// Print writes the audit's figures and its problems.
func (a *Audit) Print(w io.Writer) {
	fmt.Fprintf(w, "audit: %d reports got a 201: %d dispatched (%d resolved), %d merged, %d rejected; counted %d reported, %d registered\n",
		a.Reports, a.Dispatched, a.Resolved, a.Merged, a.Rejected, a.CountedReported, a.CountedRegistered)
	if l := a.DispatchLatency; len(l) > 0 {
		fmt.Fprintf(w, "dispatch latency (reported → dispatched, server clock): p50 %s  p95 %s  p99 %s  max %s\n",
			pct(l, 0.5), pct(l, 0.95), pct(l, 0.99), pct(l, 1))
	}
	if len(a.Listed) > 0 {
		fmt.Fprintf(w, "deadline: %d of %d reports found in place in time; the last (%s) at %s\n",
			len(a.Listed), a.Reports, a.LastListed, a.LastListedAt.Format("15:04:05.000"))
	}
	if a.OK() {
		fmt.Fprintln(w, "audit: nothing lost, nothing duplicated, nothing left waiting, everything counted once")
		return
	}
	fmt.Fprintf(w, "audit: %d problems\n  %s\n", len(a.Problems), strings.Join(a.Problems, "\n  "))
}

// ReleaseHeld dispatches every report held for staff review to a worker of
// its grid, as a clerk would from the staff's queue. It returns how many.
func (c *City) ReleaseHeld(ctx context.Context) (int, error) {
	n := 0
	for _, r := range c.Reports() {
		var x struct {
			Status string `json:"status"`
			GridID string `json:"grid_id"`
			Held   bool
		}
		if _, err := c.ask(ctx, "audit GET /reports/{id}", "GET", "/api/v1/reports/"+url.PathEscape(r.ID), c.staff, nil, &x, http.StatusOK); err != nil {
			return n, err
		}
		if x.Status != "submitted" {
			continue
		}
		worker := c.workers[0]
		for _, w := range c.workers {
			if c.grids[w.grid].code == x.GridID {
				worker = w
				break
			}
		}
		if _, err := c.ask(ctx, "POST /admin/tickets/{id}/dispatch", "POST", "/api/v1/admin/tickets/"+url.PathEscape(r.ID)+"/dispatch", c.staff,
			map[string]string{"assignee_id": worker.userID}, nil, http.StatusOK); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// State is a report's status as staff see it, and whether it has been held
// for staff review.
type State struct {
	Status string
	Held   bool
}

// States returns the state of every report that got a 201.
func (c *City) States(ctx context.Context) (map[string]State, error) {
	out := map[string]State{}
	for _, r := range c.Reports() {
		var x auditReport
		if _, err := c.ask(ctx, "audit GET /reports/{id}", "GET", "/api/v1/reports/"+url.PathEscape(r.ID), c.staff, nil, &x, http.StatusOK); err != nil {
			return nil, err
		}
		st := State{Status: x.Status}
		for _, e := range x.Timeline {
			st.Held = st.Held || e.Type == "held"
		}
		out[r.ID] = st
	}
	return out, nil
}

// Reads makes the reads of a day's work, as staff and as each worker: the
// staff's ticket list, every report of the city, each worker's task list
// and the day's statistics. It returns the first that failed.
func (c *City) Reads(ctx context.Context) error {
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if _, err := c.ask(ctx, "GET /admin/tickets", "GET", "/api/v1/admin/tickets?limit=100", c.staff, nil, &page, http.StatusOK); err != nil {
		return err
	}
	for _, r := range c.Reports() {
		if _, err := c.ask(ctx, "GET /reports/{id}", "GET", "/api/v1/reports/"+url.PathEscape(r.ID), c.staff, nil, nil, http.StatusOK); err != nil {
			return err
		}
	}
	if _, err := c.workerLists(ctx); err != nil {
		return err
	}
	_, err := c.summary(ctx)
	return err
}

// On returns the city as seen through another server — a store restored
// from a backup, started with the same TOKEN_SECRET, so that every token
// of the city holds there: the same people, reports and baseline, new
// measurements.
func (c *City) On(base string) *City {
	cfg := c.cfg
	cfg.Targets = []string{base}
	o := &City{cfg: cfg, staff: c.staff, grids: c.grids, workers: c.workers, members: c.members, residents: c.residents,
		activity: c.activity, day: c.day, base: c.base, Stats: newStats()}
	o.reports = c.Reports()
	return o
}

// Snapshot is what a server says of the city at one moment: the staff's
// ticket list (id and status, in the list's order), each worker's task
// list, and the day's statistics with every grouping (updated_at left
// out), as raw JSON values.
type Snapshot struct {
	Tickets []string
	Tasks   map[string][]string
	Stats   map[string]json.RawMessage
}

// Snapshot reads the city's Snapshot from its first target.
func (c *City) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{Tasks: map[string][]string{}, Stats: map[string]json.RawMessage{}}
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"items"`
			Next string `json:"next_cursor"`
		}
		path := "/api/v1/admin/tickets?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if _, err := c.ask(ctx, "snapshot GET /admin/tickets", "GET", path, c.staff, nil, &page, http.StatusOK); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			s.Tickets = append(s.Tickets, it.ID+" "+it.Status)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	lists, err := c.workerLists(ctx)
	if err != nil {
		return nil, err
	}
	for id, workers := range lists {
		for _, w := range workers {
			s.Tasks[w] = append(s.Tasks[w], id)
		}
	}
	for _, ids := range s.Tasks {
		sort.Strings(ids)
	}
	for _, group := range []string{"", "category", "grid", "community", "worker", "source", "day"} {
		path := "/api/v1/stats/summary?from=" + c.day + "&to=" + c.day
		if group != "" {
			path += "&group_by=" + group
		}
		var m map[string]json.RawMessage
		if _, err := c.ask(ctx, "snapshot GET /stats/summary", "GET", path, c.staff, nil, &m, http.StatusOK); err != nil {
			return nil, err
		}
		delete(m, "updated_at")
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		s.Stats["group_by="+group] = raw
	}
	return s, nil
}

// Diff lists how s and o differ; empty when they agree.
func (s *Snapshot) Diff(o *Snapshot) []string {
	var out []string
	if a, b := strings.Join(s.Tickets, ","), strings.Join(o.Tickets, ","); a != b {
		out = append(out, fmt.Sprintf("staff's list: %d tickets vs %d: %v vs %v", len(s.Tickets), len(o.Tickets), s.Tickets, o.Tickets))
	}
	for w, ids := range s.Tasks {
		if strings.Join(ids, ",") != strings.Join(o.Tasks[w], ",") {
			out = append(out, fmt.Sprintf("worker %s's tasks: %v vs %v", w, ids, o.Tasks[w]))
		}
	}
	for w, ids := range o.Tasks {
		if _, ok := s.Tasks[w]; !ok {
			out = append(out, fmt.Sprintf("worker %s's tasks: none vs %v", w, ids))
		}
	}
	for k, v := range s.Stats {
		if string(v) != string(o.Stats[k]) {
			out = append(out, fmt.Sprintf("statistics %s: %s vs %s", k, v, o.Stats[k]))
		}
	}
	sort.Strings(out)
	return out
}

// Unplaced is how many of the reports that got a 201 are not in place
// now (see AuditOptions.ListedBy): a test waits on it to strike once the
// pipeline has drained all but what a victim holds.
func (c *City) Unplaced(ctx context.Context) (int, error) {
	seen, err := c.placed(ctx, c.Reports(), false)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, why := range seen {
		if why != "" {
			n++
		}
	}
	return n, nil
}
