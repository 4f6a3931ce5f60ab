package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseEvent is one Server-Sent Event as a console reads it.
type sseEvent struct {
	ID, Type string
	Data     struct {
		ID         string `json:"id"`
		CaseNo     string `json:"case_no"`
		Status     string `json:"status"`
		Held       bool   `json:"held"`
		Overdue    bool   `json:"overdue"`
		AssigneeID string `json:"assignee_id"`
	}
}

// subscribe opens the live events of s as staff, resuming after lastID
// when set, and returns them as they come; the stream closes when the test
// ends or stop is called.
func subscribe(t *testing.T, s *testServer, staff, lastID string) (events <-chan sseEvent, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.Base+"/api/v1/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+staff)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	out := make(chan sseEvent, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.Type != "" {
					out <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.Data)
			}
		}
	}()
	t.Cleanup(cancel)
	return out, cancel
}

// next returns the next event for which ok is true, failing after patience.
func next(t *testing.T, events <-chan sseEvent, what string, ok func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case e, open := <-events:
			if !open {
				t.Fatalf("the stream ended before %s", what)
			}
			if ok(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s", what)
		}
	}
}

// TestLiveEventsAcrossInstances: a report filed on one instance shows up on
// a console connected to another (production mode: the events come from
// Redis), with its case number and the assignee by directory id; a
// reconnect with Last-Event-ID resumes without a gap, and one too old is
// told to start afresh.
func TestLiveEventsAcrossInstances(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	sim := newSimulator(t, env["WECHAT_APPID"])
	a := startServer(t, env, options{simulator: sim})
	b := startServer(t, env, options{simulator: sim})
	c := newCity(t, a, map[string]string{"郑网格": gridA}, nil)
	worker := directory(t, a, c.staff)["郑网格"]

	events, stop := subscribe(t, b, c.staff, "")
	_, id := c.report(t, "live-resident-1", "1101", nil)
	created := next(t, events, "ticket.created of the report", func(e sseEvent) bool { return e.Type == "ticket.created" && e.Data.ID == id })
	if !caseNoPattern.MatchString(created.Data.CaseNo) || created.ID == "" {
		t.Fatalf("ticket.created: %+v", created)
	}
	dispatched := next(t, events, "ticket.changed to dispatched", func(e sseEvent) bool {
		return e.Type == "ticket.changed" && e.Data.ID == id && e.Data.Status == "dispatched"
	})
	if dispatched.Data.AssigneeID != worker {
		t.Fatalf("assignee_id %q, want the directory's id %q", dispatched.Data.AssigneeID, worker)
	}
	stop()

	// While the console is away: another report. It resumes after the
	// last event it showed, missing nothing and repeating nothing.
	_, id2 := c.report(t, "live-resident-2", "1102", nil)
	waitTask(t, a, c.workers["郑网格"].token, "/api/v1/tasks", id2)
	resumed, stop := subscribe(t, b, c.staff, dispatched.ID)
	first := next(t, resumed, "an event after the last one shown", func(sseEvent) bool { return true })
	if !streamAfter(first.ID, dispatched.ID) {
		t.Fatalf("resumed at %s, not after %s", first.ID, dispatched.ID)
	}
	seen := map[string]bool{first.ID: true}
	got := first
	for !(got.Type == "ticket.created" && got.Data.ID == id2) {
		got = next(t, resumed, "ticket.created of the report filed while away", func(sseEvent) bool { return true })
		if seen[got.ID] || !streamAfter(got.ID, dispatched.ID) {
			t.Fatalf("event %s shown twice or from before the resume point", got.ID)
		}
		seen[got.ID] = true
	}
	stop()

	// Too old to resume: the console is told to reload.
	old, _ := subscribe(t, b, c.staff, "1-0")
	if e := next(t, old, "event: reset", func(sseEvent) bool { return true }); e.Type != "reset" {
		t.Fatalf("a resume from 1-0 began with %+v, want reset", e)
	}
}

// streamAfter reports whether Redis stream id a ("ms-seq") is after b.
func streamAfter(a, b string) bool {
	var am, as, bm, bs int64
	if _, err := fmt.Sscanf(a, "%d-%d", &am, &as); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%d-%d", &bm, &bs); err != nil {
		return false
	}
	return am > bm || am == bm && as > bs
}
