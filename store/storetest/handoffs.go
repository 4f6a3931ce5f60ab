package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The handoffs group: Insert and Commit record a ticket's handoff in the
// same atomic write as the change; it names the committing instance, keeps
// the smallest From not relayed, and Relayed clears it unless a later
// commit recorded a newer one.

func runHandoffs(t *testing.T, open Open) {
	t.Parallel()
	eng := open(t)
	a, b := eng("instance-a").Tickets, eng("instance-b").Tickets
	handoffs := func() map[string]model.Handoff {
		t.Helper()
		hs, err := a.Unrelayed(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]model.Handoff{}
		for _, h := range hs {
			out[h.TicketID] = h
		}
		return out
	}
	x := mustInsert(t, a, report(base))
	y := mustInsert(t, b, report(base.Add(time.Minute)))
	hs := handoffs()
	if h := hs[x.ID]; h.Version != 0 || h.From != 0 || h.Owner != "instance-a" || h.At.IsZero() {
		t.Fatalf("x's intake handoff: %+v", h)
	}
	if h := hs[y.ID]; h.Version != 0 || h.From != 0 || h.Owner != "instance-b" {
		t.Fatalf("y's intake handoff: %+v", h)
	}
	if err := a.Relayed(ctx, x.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := handoffs()[x.ID]; ok {
		t.Fatal("x's handoff stays after Relayed")
	}

	// x commits twice without a relay: From stays at the first unrelayed
	// event; owner and version follow the last commit.
	x1 := step(t, a, x, register(base.Add(2*time.Minute)))
	if h := handoffs()[x.ID]; h.Version != 1 || h.From != len(x.Timeline) || h.Owner != "instance-a" {
		t.Fatalf("x's handoff after v1: %+v, want version 1 from %d", h, len(x.Timeline))
	}
	x2 := step(t, b, x1, route(base.Add(3*time.Minute), "g1", "c1", worker("w1"), false))
	if h := handoffs()[x.ID]; h.Version != 2 || h.From != len(x.Timeline) || h.Owner != "instance-b" {
		t.Fatalf("x's handoff after v2: %+v, want version 2 from %d by instance-b", h, len(x.Timeline))
	}
	// A relay of version 1 that finishes after version 2 was recorded
	// leaves version 2's handoff.
	if err := a.Relayed(ctx, x.ID, 1); err != nil {
		t.Fatal(err)
	}
	if h, ok := handoffs()[x.ID]; !ok || h.Version != 2 {
		t.Fatalf("relaying v1 cleared v2's handoff: %+v %v", h, ok)
	}
	if err := a.Relayed(ctx, x.ID, 2); err != nil {
		t.Fatal(err)
	}
	x3 := step(t, a, x2, accept(base.Add(4*time.Minute), worker("w1")))
	if h := handoffs()[x.ID]; h.Version != 3 || h.From != len(x2.Timeline) {
		t.Fatalf("x's handoff after a relay and v3: %+v, want from %d", h, len(x2.Timeline))
	}
	_ = x3
	// A failed commit records nothing.
	stale := clone(x1)
	if err := stale.Reject(act(base.Add(5*time.Minute), model.Actor{})); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, x1, stale); err == nil {
		t.Fatal("a stale commit succeeded")
	}
	if h := handoffs()[x.ID]; h.Version != 3 {
		t.Fatalf("a stale commit changed the handoff: %+v", h)
	}

	// Oldest first, and the limit.
	for i := range 5 {
		mustInsert(t, a, report(base.Add(time.Duration(10+i)*time.Minute)))
	}
	all, err := a.Unrelayed(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(all, func(p, q model.Handoff) int { return p.At.Compare(q.At) }) {
		t.Fatalf("handoffs not oldest first: %+v", all)
	}
	if some, _ := a.Unrelayed(ctx, 3); len(some) != 3 || some[0] != all[0] {
		t.Fatalf("Unrelayed(3) = %+v", some)
	}
	// Relayed of a ticket without a handoff is not an error.
	if err := a.Relayed(ctx, model.NewID(base), 7); err != nil {
		t.Fatal(err)
	}
}
