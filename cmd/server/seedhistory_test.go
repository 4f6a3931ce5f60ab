package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSeedHistoryAndRebuildAgree adds a history to an empty store (so it
// lays out the demo city first), then checks through the API that every
// ticket is listed and that the statistics counted as the tickets were
// loaded are what rebuild-stats gives. (A second history added to the
// first: TestHistoryStatisticsAgree in service/seed, on the embedded
// store.)
func TestSeedHistoryAndRebuildAgree(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	ctx := context.Background()
	command := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		opt, err := subcommand(args, &out)
		if err != nil {
			t.Fatal(err)
		}
		if err := run(ctx, func(k string) string { return env[k] }, io.Discard, opt); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	first := command("seed-history", "-tickets", "150", "-days", "20", "-residents", "40", "-batch", "60")
	if !strings.Contains(first, "先建了演示城市") || !strings.Contains(first, "150 个工单") {
		t.Fatalf("the first seed-history said:\n%s", first)
	}
	now := time.Now()
	cst := time.FixedZone("CST", 8*3600)
	q := fmt.Sprintf("from=%s&to=%s", now.AddDate(0, 0, -21).In(cst).Format(time.DateOnly), now.In(cst).Format(time.DateOnly))
	summaries := func() map[string]string {
		s := startServer(t, env, options{})
		defer s.stop()
		staff := s.LoginStaff(t, adminUser, adminPass)
		var l struct{ Total int }
		s.Do(t, "GET", "/api/v1/admin/tickets?limit=1", staff, nil).Decode(t, &l)
		if l.Total != 150 {
			t.Errorf("the staff list counts %d tickets, want 150", l.Total)
		}
		out := map[string]string{}
		for _, by := range []string{"", "category", "grid", "source", "community"} {
			var body map[string]any
			s.Do(t, "GET", "/api/v1/stats/summary?group_by="+by+"&"+q, staff, nil).Decode(t, &body)
			delete(body, "updated_at")
			b, _ := json.Marshal(body)
			out[by] = string(b)
		}
		return out
	}
	loaded := summaries()
	var all struct{ Reported, Closed int }
	if err := json.Unmarshal([]byte(loaded[""]), &all); err != nil || all.Reported < 140 || all.Closed < 70 {
		t.Fatalf("summary after loading (%v): %s", err, loaded[""])
	}
	command("rebuild-stats")
	rebuilt := summaries()
	for by, want := range loaded {
		if rebuilt[by] != want {
			t.Errorf("group_by=%s: loaded %s\nrebuilt %s", by, want, rebuilt[by])
		}
	}
}
