package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// A write that finds no room answers unavailable with the storage-full
// message and leaves nothing half-written: no ticket without its handoff,
// no state without its statistics. Writes resume once there is room. (The
// disk is simulated by max_page_count; the fault suite fills a real one.)
func TestFullDiskWritesNothingHalfway(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{Instance: "a", SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.Tickets()
	at := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	newT := func(i int) *model.Ticket {
		tk := &model.Ticket{ID: model.NewID(at), ReporterID: "r1", Category: "0101",
			Description: strings.Repeat("井盖破损，影响通行。", 20+i%7), Address: "鼓楼区中山路", Point: model.Point{Lat: 32, Lng: 118.8}}
		_ = tk.Report(model.Act{At: at.Add(time.Duration(i) * time.Second)})
		return tk
	}
	var kept []*model.Ticket
	for i := range 20 {
		tk := newT(i)
		if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, tk)
	}
	var pages int
	if err := db.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+2)); err != nil {
		t.Fatal(err)
	}
	// Commits and inserts until the disk is full.
	var full error
	var lost *model.Ticket
	for i := 0; i < 2000 && full == nil; i++ {
		k := kept[i%len(kept)]
		after := *k
		after.Timeline = append([]model.Event(nil), k.Timeline...)
		if err := after.Hold(model.Act{At: at.Add(time.Hour), Note: strings.Repeat("人工审核", 50)}); err != nil {
			after.Held = false // held already: release and hold again
			after.Timeline = append(after.Timeline, model.Event{At: at.Add(time.Hour), Type: model.EventUrged, Status: model.StatusSubmitted})
		}
		if err := s.Commit(ctx, k, &after); err != nil {
			full = err
			lost = k
			break
		}
		kept[i%len(kept)] = &after
		tk := newT(100 + i)
		if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
			full = err
			if _, err := s.Get(ctx, tk.ID); !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("an insert refused for lack of room left its ticket: %v", err)
			}
			break
		}
		kept = append(kept, tk)
	}
	if full == nil {
		t.Fatal("the store never filled up")
	}
	if !errors.Is(full, model.ErrUnavailable) || !strings.Contains(full.Error(), "存储空间已满") {
		t.Fatalf("a write on a full disk: %v, want unavailable saying storage is full", full)
	}
	if lost != nil {
		got, err := s.Get(ctx, lost.ID)
		if err != nil || got.Version != lost.Version {
			t.Fatalf("a commit refused for lack of room changed the ticket: v%d %v, want v%d", got.Version, err, lost.Version)
		}
	}
	// Every ticket stored has its handoff and counts as much as its state.
	hs, err := s.Unrelayed(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]model.Handoff{}
	for _, h := range hs {
		byID[h.TicketID] = h
	}
	var counted float64
	for _, k := range kept {
		got, err := s.Get(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := byID[k.ID]; !ok || h.Version != got.Version {
			t.Fatalf("ticket %s at v%d has handoff %+v", k.ID, got.Version, h)
		}
		if got.Version > 0 {
			counted++
		}
	}
	rows, err := db.Stats().Read(ctx, model.DimAll, []string{"y2026"})
	if err != nil || len(rows) != 1 || rows[0].Values[model.CounterReported] != counted {
		t.Fatalf("statistics %+v %v; want %v reported (the tickets past version 0)", rows, err, counted)
	}
	// Reads go on; writes resume with room.
	if _, err := s.ListStaff(ctx, model.TicketQuery{}, "", 10); err != nil {
		t.Fatalf("a read on a full disk: %v", err)
	}
	if _, err := db.w.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	tk := newT(5000)
	if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
		t.Fatalf("an insert once there is room: %v", err)
	}
	n, err := db.Stats().Rebuild(ctx)
	if err != nil || n != len(kept)+1 {
		t.Fatalf("rebuild read %d, %v; want %d", n, err, len(kept)+1)
	}
}
