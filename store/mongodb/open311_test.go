package mongodb_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func TestAPIKeysAndSubmitters(t *testing.T) {
	t.Parallel()
	m := testenv.Mongo(t)
	ctx := context.Background()
	keys := mongodb.NewAPIKeys(m)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	k := &model.APIKey{ID: model.NewID(now), Name: "热线", Hash: "h", CreatedBy: "staff", CreatedAt: now}
	if err := keys.Insert(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := keys.Insert(ctx, k); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("second insert: %v", err)
	}
	if err := keys.Revoke(ctx, k.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, k.ID, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := keys.Get(ctx, k.ID)
	if err != nil || !got.Revoked() || !got.RevokedAt.Equal(now.Add(time.Hour)) || got.Hash != "h" {
		t.Fatalf("revoked key %+v %v: the first revocation time is kept", got, err)
	}
	if err := keys.Revoke(ctx, "nope", now); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if l, err := keys.List(ctx); err != nil || len(l) != 1 {
		t.Fatalf("list: %v %v", l, err)
	}

	subs := mongodb.NewOpen311Submitters(m)
	s := &model.Open311Submitter{TicketID: "t1", KeyID: k.ID, KeyName: "热线", Email: "a@b.cn", Phone: "137", FirstName: "明",
		LastName: "王", DeviceID: "d", AccountID: "acc", MediaURL: "https://x/1.jpg", CreatedAt: now}
	if err := subs.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := subs.Save(ctx, s); err != nil {
		t.Fatalf("a retry replaces: %v", err)
	}
	back, err := subs.Get(ctx, "t1")
	if err != nil || *back != *s {
		t.Fatalf("submitter %+v %v, want %+v", back, err, s)
	}
	if _, err := subs.Get(ctx, "t2"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a ticket not filed through Open311: %v", err)
	}
}

func TestPublicTickets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tickets := mongodb.NewTickets(testenv.Mongo(t), "test", time.Now)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int, cat string, st model.Status) string {
		at := base.Add(time.Duration(i) * time.Hour)
		tk := &model.Ticket{ID: model.NewID(at), Category: cat, Status: st, CreatedAt: at, UpdatedAt: at,
			Point: model.Point{Lat: 32, Lng: 118}, Location: model.Location{Lat: 32, Lng: 118, CoordType: model.CoordWGS84}}
		if err := tickets.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	a := mk(0, "0101", model.StatusDispatched)
	b := mk(1, "0101", model.StatusClosed)
	c := mk(2, "1101", model.StatusPending)
	sub := mk(3, "0101", model.StatusSubmitted)
	rej := mk(4, "0101", model.StatusRejected)
	ids := func(ts []*model.Ticket, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}
	all := model.PublicQuery{From: base, To: base.Add(24 * time.Hour)}
	if got := ids(tickets.Public(ctx, all)); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("public, newest first: %v", got)
	}
	q := all
	q.Categories = []string{"0101"}
	if got := ids(tickets.Public(ctx, q)); !slices.Equal(got, []string{b, a}) {
		t.Fatalf("category: %v", got)
	}
	q = all
	q.Statuses = []model.Status{model.StatusClosed, model.StatusRejected}
	if got := ids(tickets.Public(ctx, q)); !slices.Equal(got, []string{b}) {
		t.Fatalf("closed (rejected is never public): %v", got)
	}
	q = all
	q.Offset, q.Limit = 1, 1
	if got := ids(tickets.Public(ctx, q)); !slices.Equal(got, []string{b}) {
		t.Fatalf("offset 1 limit 1: %v", got)
	}
	q = all
	q.To = base.Add(time.Hour) // both bounds included
	if got := ids(tickets.Public(ctx, q)); !slices.Equal(got, []string{b, a}) {
		t.Fatalf("to included: %v", got)
	}
	if got := ids(tickets.Public(ctx, model.PublicQuery{IDs: []string{rej, a, sub, "nope", c}})); !slices.Equal(got, []string{a, c}) {
		t.Fatalf("by id, in order, public only: %v", got)
	}
}
