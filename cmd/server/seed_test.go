package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSeedDemoFillsAnEmptyStoreAndTheStatisticsAgree seeds a small city,
// refuses to seed it twice, and checks through the API that the people,
// the tickets and the statistics counted from the transitions agree.
func TestSeedDemoFillsAnEmptyStoreAndTheStatisticsAgree(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	args := []string{"seed-demo", "-grids", "4", "-workers", "5", "-members", "3", "-tickets", "40", "-activities", "2", "-days", "5", "-seed", "7"}
	var out bytes.Buffer
	opt, err := subcommand(args, &out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := run(ctx, func(k string) string { return env[k] }, io.Discard, opt); err != nil {
		t.Fatalf("seed-demo: %v\n%s", err, out.String())
	}
	end := opt.now() // the clock stands at the month's end
	if !strings.Contains(out.String(), "个工单") {
		t.Fatalf("seed-demo said: %s", out.String())
	}
	var again bytes.Buffer
	opt2, _ := subcommand(args, &again)
	if err := run(ctx, func(k string) string { return env[k] }, io.Discard, opt2); err == nil || !strings.Contains(err.Error(), "已有") {
		t.Fatalf("a second seed-demo on a full store: %v", err)
	}

	s := startServer(t, env, options{now: func() time.Time { return end }})
	staff := s.LoginStaff(t, adminUser, adminPass)
	var page workerPage
	s.Do(t, "GET", "/api/v1/admin/workers", staff, nil).Decode(t, &page)
	if page.Total != 6 {
		t.Fatalf("workers: %d", page.Total)
	}
	bound := 0
	for _, w := range page.Items {
		if w.Bound {
			bound++
		}
	}
	if bound != 5 {
		t.Fatalf("bound workers: %d of %+v", bound, page.Items)
	}
	if r := s.Do(t, "GET", "/api/v1/admin/party-members?limit=1", staff, nil); r.JSON(t)["total"] != 3.0 {
		t.Fatalf("members: %s", r.Body)
	}

	// Every ticket, page by page, against the statistics of the month.
	type row struct {
		Escalated    bool    `json:"escalated"`
		DueAt        *string `json:"due_at"`
		Source       string  `json:"source"`
		Status       string  `json:"status"`
		RegisteredAt *string `json:"registered_at"`
		Reopens      int     `json:"reopens"`
		Category     string  `json:"category"`
	}
	// The server carries on with the city (its timers, its applier), so
	// the lists and the statistics are compared until they agree: once the
	// applier has counted every transition they must.
	cst := time.FixedZone("CST", 8*3600)
	q := fmt.Sprintf("from=%s&to=%s", end.AddDate(0, 0, -6).In(cst).Format(time.DateOnly), end.In(cst).Format(time.DateOnly))
	var tickets []row
	var registered, closed, reopened, overdue int
	var bySource, byCategory, statuses map[string]int
	for attempt := 0; ; attempt++ {
		tickets = nil
		cursor := ""
		for {
			var l struct {
				Items      []row  `json:"items"`
				NextCursor string `json:"next_cursor"`
				Total      int    `json:"total"`
			}
			s.Do(t, "GET", "/api/v1/admin/tickets?limit=100&cursor="+cursor, staff, nil).Decode(t, &l)
			tickets = append(tickets, l.Items...)
			if cursor = l.NextCursor; cursor == "" {
				if l.Total != len(tickets) {
					t.Fatalf("total %d, listed %d", l.Total, len(tickets))
				}
				break
			}
		}
		if len(tickets) < 40 {
			t.Fatalf("%d tickets", len(tickets))
		}
		registered, closed, reopened, overdue = 0, 0, 0, 0
		bySource, byCategory, statuses = map[string]int{}, map[string]int{}, map[string]int{}
		for _, x := range tickets {
			statuses[x.Status]++
			byCategory[x.Category]++
			if x.RegisteredAt != nil {
				registered++
			}
			if x.Status == "closed" {
				closed++
			}
			reopened += x.Reopens
			bySource[x.Source]++
			// overdue=true is open and past the deadline: escalated, and
			// not closed, rejected or merged (docs/openapi.yaml, overdue).
			final := x.Status == "closed" || x.Status == "rejected" || x.Status == "merged"
			if x.Escalated && !final {
				overdue++
			}
		}
		var sum struct {
			Reported, Registered, Closed, Reopened int
			Groups                                 []struct {
				Key      string
				Reported int
			}
		}
		r := s.Do(t, "GET", "/api/v1/stats/summary?group_by=category&"+q, staff, nil)
		r.Decode(t, &sum)
		agree := sum.Reported == len(tickets) && sum.Registered == registered && sum.Closed == closed && sum.Reopened == reopened
		for _, g := range sum.Groups {
			agree = agree && g.Reported == byCategory[g.Key]
		}
		if agree {
			break
		}
		if attempt == 30 {
			t.Fatalf("summary %s\ntickets: %d reported, %d registered, %d closed, %d reopened, by category %v",
				r.Body, len(tickets), registered, closed, reopened, byCategory)
		}
		time.Sleep(time.Second)
	}
	// The overdue and source filters agree with the tickets' own fields.
	for query, want := range map[string]int{"overdue=true": overdue, "overdue=false": len(tickets) - overdue,
		"source=wechat": bySource["wechat"], "source=hotline": bySource["hotline"], "source=patrol": bySource["patrol"]} {
		var l struct{ Total int }
		s.Do(t, "GET", "/api/v1/admin/tickets?limit=1&"+query, staff, nil).Decode(t, &l)
		if l.Total != want {
			t.Errorf("%s: total %d, the tickets say %d", query, l.Total, want)
		}
	}
	if statuses["closed"] == 0 || statuses["merged"]+statuses["rejected"]+statuses["pending"] == 0 {
		t.Fatalf("statuses: %v", statuses)
	}
	// Every order pages through every ticket once, in order: due_at
	// soonest first with the tickets without a deadline last.
	for _, sort := range []string{"due_at", "created_at", "-created_at"} {
		var keys []string
		seen := map[string]bool{}
		cursor := ""
		for {
			var l struct {
				Items []struct {
					ID        string  `json:"id"`
					DueAt     *string `json:"due_at"`
					CreatedAt string  `json:"created_at"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			r := s.Do(t, "GET", "/api/v1/admin/tickets?limit=7&sort="+sort+"&cursor="+cursor, staff, nil)
			if r.Status != 200 {
				t.Fatalf("sort=%s: %d %s", sort, r.Status, r.Body)
			}
			r.Decode(t, &l)
			for _, x := range l.Items {
				if seen[x.ID] {
					t.Fatalf("sort=%s lists %s twice", sort, x.ID)
				}
				seen[x.ID] = true
				key := x.CreatedAt
				if sort == "due_at" {
					key = "~" // no deadline: last
					if x.DueAt != nil {
						key = *x.DueAt
					}
				}
				keys = append(keys, key)
			}
			if cursor = l.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != len(tickets) {
			t.Fatalf("sort=%s listed %d of %d tickets", sort, len(seen), len(tickets))
		}
		for i := 1; i < len(keys); i++ {
			a, b := parseKey(keys[i-1]), parseKey(keys[i])
			if (sort == "-created_at" && a.Before(b)) || (sort != "-created_at" && b.Before(a)) {
				t.Fatalf("sort=%s out of order at %d: %s then %s", sort, i, keys[i-1], keys[i])
			}
		}
	}

	var pb struct {
		Activities             int `json:"activities"`
		ActivityParticipations int `json:"activity_participations"`
	}
	s.Do(t, "GET", "/api/v1/stats/party-building?"+q, staff, nil).Decode(t, &pb)
	if pb.Activities != 2 || pb.ActivityParticipations == 0 {
		t.Fatalf("party building: %+v", pb)
	}
}

// parseKey reads a listed time; "~" (no deadline) sorts after every time.
func parseKey(s string) time.Time {
	if s == "~" {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
