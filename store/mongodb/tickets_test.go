package mongodb_test

import (
	"context"
	"errors"
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

// A writer that dies between its commit (the log entry) and writing the
// ticket leaves a transition the next writer finds and applies (MongoDB's
// own path: SQLite commits both in one transaction).
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

// A ticket stored before case numbers and the search's n-grams gets them
// at the next start-up (EnsureIndexes), and is found by both.
func TestTicketsFromBeforeAreBackfilled(t *testing.T) {
	t.Parallel()
	m := testenv.Mongo(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 9, 0, 0, 0, model.ChinaTime())
	if _, err := m.Database().Collection("tickets").InsertOne(ctx, bson.M{"_id": "old1", "idem": "old1", "reporter_id": "r1",
		"category": "0101", "description": "路灯不亮", "address": "幸福路", "status": "pending", "version": int64(1),
		"created_at": at, "updated_at": at, "escalated": true, "timeline": bson.A{}}); err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	tickets := mongodb.NewTickets(m, "test", time.Now)
	got, err := tickets.GetByCaseNo(ctx, "20260304-0001")
	if err != nil || got.ID != "old1" {
		t.Fatalf("by case number: %v %v", got, err)
	}
	yes := true
	page, err := tickets.ListStaff(ctx, model.TicketQuery{Words: []string{"路灯"}, Overdue: &yes, Now: time.Now()}, "", 10)
	if err != nil || len(page.Items) != 1 || page.Total != 1 {
		t.Fatalf("search: %+v %v", page, err)
	}
}
