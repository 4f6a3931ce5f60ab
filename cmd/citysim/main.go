// Command citysim builds a city on a running server through its staff API —
// grids, grid workers, party members, residents — and drives it over HTTP as
// the mini-program does: residents log in, upload photos one per request and
// report; workers accept and resolve; residents rate; party members check
// in. It prints a progress line, then throughput and p50/p95/p99 per
// endpoint, the dispatch latency and the errors, and ends with an audit of
// every report that got a 201 (exists, dispatched exactly once, in exactly
// one worker's list, counted once). It exits 1 when the audit finds a
// problem.
//
//	go run ./cmd/server &                      # the embedded mode, in ./data
//	go run ./cmd/citysim -rate 5 -duration 60s # admin's password from ./data/admin-password
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/citizen-city/chengguantong/internal/citysim"
)

func main() {
	targets := flag.String("targets", "http://127.0.0.1:8080", "comma-separated base URLs of the server's instances")
	user := flag.String("staff-user", "admin", "staff username")
	pass := flag.String("staff-pass", "", "staff password (default: read from -staff-pass-file)")
	passFile := flag.String("staff-pass-file", "./data/admin-password", "file holding the staff password (the embedded mode's)")
	grids := flag.Int("grids", 4, "grids")
	workers := flag.Int("workers-per-grid", 2, "grid workers per grid")
	members := flag.Int("members", 4, "party members")
	residents := flag.Int("residents", 0, "residents (default: enough for 5 reports each)")
	rate := flag.Float64("rate", 2, "reports per second")
	duration := flag.Duration("duration", 30*time.Second, "how long reports keep coming")
	photos := flag.Int("photos", 1, "photos per report, uploaded one per request")
	handle := flag.Bool("handle", true, "workers accept and resolve, residents rate, party members check in")
	seed := flag.String("seed", "", "tells this city apart from earlier runs on the same server (default random)")
	wait := flag.Duration("audit-wait", 60*time.Second, "how long the audit waits for screening and statistics to catch up")
	flag.Parse()

	if *pass == "" {
		b, err := os.ReadFile(*passFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "citysim: no -staff-pass and %v\n", err)
			os.Exit(2)
		}
		*pass = strings.TrimSpace(string(b))
	}
	if *residents <= 0 {
		*residents = max(10, int(*rate*duration.Seconds()/5)+1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("building the city: %d grids × %d workers, %d party members, %d residents\n", *grids, *workers, *members, *residents)
	city, err := citysim.Build(ctx, citysim.Config{
		Targets: strings.Split(*targets, ","), StaffUser: *user, StaffPass: *pass, Seed: *seed,
		Grids: *grids, WorkersPerGrid: *workers, Members: *members, Residents: *residents,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "citysim: building the city: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("city %s built; driving %.1f reports/s for %s\n", city.Seed(), *rate, *duration)
	city.Run(ctx, citysim.Load{Rate: *rate, Duration: *duration, Photos: *photos, Handle: *handle, Progress: os.Stdout})
	city.Stats.Print(os.Stdout)
	a, err := city.Audit(ctx, citysim.AuditOptions{Wait: *wait})
	if err != nil {
		fmt.Fprintf(os.Stderr, "citysim: audit: %v\n", err)
		os.Exit(1)
	}
	a.Print(os.Stdout)
	if !a.OK() {
		os.Exit(1)
	}
}
