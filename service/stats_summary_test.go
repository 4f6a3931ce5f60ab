package service_test

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
	"github.com/citizen-city/chengguantong/service"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// The groups of a summary come most resolved first, ties by key, and add
// up across buckets — whatever order the buckets list their keys in.
func TestSummaryGroupsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	rollups := mongodb.NewRollups(m, testenv.Redis(t))
	res := func(period, key string, n float64) model.RollupRow {
		return model.RollupRow{Period: period, Dim: "grid", Key: key, Values: model.RollupValues{model.CounterResolved: n, model.CounterReported: 1}}
	}
	rows := []model.RollupRow{
		res("m202604", "g3", 5), res("m202604", "g1", 5), res("m202604", "g2", 7), res("m202604", "g0", 0),
		res("d20260501", "g9", 4), res("d20260501", "g0", 6), res("d20260501", "g1", 1),
	}
	if err := rollups.Replace(ctx, 1, rows); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stats := service.NewStats(service.StatsDeps{
		Rollups: rollups, Categories: service.NewCategories(mongodb.NewCategories(m, time.Now), time.Minute, time.Now),
		Grids: service.NewGrids(mongodb.NewGrids(m, time.Now), 0, logger), Now: time.Now, Logger: logger,
	})
	for _, c := range []struct {
		to   time.Time
		want string
	}{
		{time.Date(2026, 4, 30, 0, 0, 0, 0, shanghai()), "g2:7 g1:5 g3:5 g0:0"},     // one bucket
		{time.Date(2026, 5, 1, 0, 0, 0, 0, shanghai()), "g2:7 g0:6 g1:6 g3:5 g9:4"}, // two
	} {
		s, err := stats.Summary(ctx, service.Period{From: time.Date(2026, 4, 1, 0, 0, 0, 0, shanghai()), To: c.to}, service.ByGrid)
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
