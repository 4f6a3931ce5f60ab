package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func newTicket(now time.Time) *model.Ticket {
	t := &model.Ticket{
		ID: model.NewID(now), ReporterID: "r1", Category: "0101", Description: "垃圾",
		Location: model.Location{Lat: 32.04, Lng: 118.78, CoordType: model.CoordWGS84},
		Point:    model.Point{Lat: 32.04, Lng: 118.78}, PhotoIDs: []string{"p1"},
		CreatedAt: now,
	}
	_ = t.Report(model.Act{At: now, By: model.Actor{ID: "r1", Role: model.RoleResident}})
	return t
}

func TestSameVersionHasExactlyOneWinner(t *testing.T) {
	t.Parallel()
	tickets := mongodb.NewTickets(testenv.Mongo(t), "test", time.Now)
	ctx := context.Background()
	tk := newTicket(time.Now())
	if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
		t.Fatal(err)
	}
	// All writers hold version 0: exactly one may commit version 1.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := *tk
			mine.AssigneeID = fmt.Sprintf("w%d", i)
			if err := tickets.Commit(ctx, tk, &mine); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, model.ErrConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers committed version 1; want exactly 1", wins.Load())
	}
}

func TestCrashBetweenCommitAndApplyRollsForward(t *testing.T) {
	t.Parallel()
	m := testenv.Mongo(t)
	tickets := mongodb.NewTickets(m, "test", time.Now)
	ctx := context.Background()
	tk := newTicket(time.Now())
	if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
		t.Fatal(err)
	}
	// A writer committed version 1 (assigning w-crashed), then died.
	crashed := *tk
	crashed.AssigneeID = "w-crashed"
	if err := tickets.Commit(ctx, tk, &crashed); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Database().Collection("tickets").UpdateOne(ctx, bson.M{"_id": tk.ID},
		bson.M{"$set": bson.M{"version": 0, "assignee_id": ""}}); err != nil {
		t.Fatal(err)
	}
	// The next writer, on the old state, loses and repairs.
	late := *tk
	late.AssigneeID = "w-late"
	if err := tickets.Commit(ctx, tk, &late); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("writer on a stale version: %v, want conflict", err)
	}
	got, _ := tickets.Get(ctx, tk.ID)
	if got.Version != 1 || got.AssigneeID != "w-crashed" {
		t.Fatalf("after roll-forward: v%d assignee %q; want v1 w-crashed", got.Version, got.AssigneeID)
	}
	before := *got
	got.AssigneeID = "w-late"
	if err := tickets.Commit(ctx, &before, got); err != nil || got.Version != 2 {
		t.Fatalf("retry on the new state: %v (v%d)", err, got.Version)
	}
}
