package stats_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/stats"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// The groups of a summary come most resolved first, ties by key, and add
// up across buckets — whatever order the buckets list their keys in.
func TestSummaryGroupsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	tickets := mongodb.NewTickets(m, "test", time.Now)
	store := mongodb.NewStats(m, mongodb.StatsDeps{Tickets: tickets, Lease: redis.NewLocks(testenv.Redis(t)), Owner: "test"})
	// n tickets of a grid resolved and closed on day (none: one reported
	// and still pending).
	var ts []*model.Ticket
	add := func(day time.Time, grid string, n int) {
		if n == 0 {
			tk := &model.Ticket{ID: model.NewID(day), Category: "0101", Status: model.StatusPending, GridCode: grid,
				CreatedAt: day, UpdatedAt: day, Version: 1}
			ts = append(ts, tk)
		}
		for range n {
			tk := &model.Ticket{ID: model.NewID(day), Category: "0101", Status: model.StatusClosed, GridCode: grid,
				CreatedAt: day, UpdatedAt: day, Version: 3, Resolution: &model.Resolution{ResolvedAt: day},
				Timeline: []model.Event{{At: day, Type: model.EventClosed, Status: model.StatusClosed}}}
			ts = append(ts, tk)
		}
	}
	april, may := time.Date(2026, 4, 10, 12, 0, 0, 0, model.ChinaTime()), time.Date(2026, 5, 1, 12, 0, 0, 0, model.ChinaTime())
	add(april, "g3", 5)
	add(april, "g1", 5)
	add(april, "g2", 7)
	add(april, "g0", 0)
	add(may, "g9", 4)
	add(may, "g0", 6)
	add(may, "g1", 1)
	if err := tickets.Load(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if err := store.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := stats.NewService(stats.ServiceDeps{
		Store: store, Categories: catalogue.NewCategories(mongodb.NewCategories(m, time.Now), time.Minute, time.Now),
		Grids: catalogue.NewGrids(mongodb.NewGrids(m, time.Now), 0, logger), Now: time.Now, Logger: logger,
	})
	for _, c := range []struct {
		to   time.Time
		want string
	}{
		{time.Date(2026, 4, 30, 0, 0, 0, 0, model.ChinaTime()), "g2:7 g1:5 g3:5 g0:0"},     // one bucket
		{time.Date(2026, 5, 1, 0, 0, 0, 0, model.ChinaTime()), "g2:7 g0:6 g1:6 g3:5 g9:4"}, // two
	} {
		s, err := svc.Summary(ctx, stats.Period{From: time.Date(2026, 4, 1, 0, 0, 0, 0, model.ChinaTime()), To: c.to}, stats.ByGrid)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range s.Groups {
			got = append(got, g.Key+":"+strconv.FormatInt(g.Resolved, 10))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("to %s: %s, want %s", c.to.Format("01-02"), strings.Join(got, " "), c.want)
		}
	}
}
