package storetest

import (
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runOpen311: Open311 clients' api keys and the submitters of their
// requests. (Tickets.Public is in the Tickets group.)
func runOpen311(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.APIKeys != nil }, []suiteCase{
		{"APIKeys", testAPIKeys},
	})
	runCases(t, open, func(e Engine) bool { return e.Submitters != nil }, []suiteCase{
		{"Submitters", testSubmitters},
	})
}

func testAPIKeys(t *testing.T, e Engine) {
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if l, err := e.APIKeys.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("a new store's keys = %v, %v", l, err)
	}
	k := &model.APIKey{ID: model.NewID(now), Name: "热线", Hash: "h", CreatedBy: "staff", CreatedAt: now}
	expectOK(t, e.APIKeys.Insert(ctx, k), "insert")
	err := e.APIKeys.Insert(ctx, k)
	expectCode(t, err, model.CodeConflict, "a second insert")
	got, err := e.APIKeys.Get(ctx, k.ID)
	expectOK(t, err, "get")
	if *got != *k || got.Revoked() {
		t.Fatalf("Get = %+v, want %+v", got, k)
	}
	later := &model.APIKey{ID: model.NewID(now.Add(time.Hour)), Name: "网格平台", Hash: "h2", CreatedBy: "staff", CreatedAt: now.Add(time.Hour)}
	expectOK(t, e.APIKeys.Insert(ctx, later), "insert another")

	expectOK(t, e.APIKeys.Revoke(ctx, k.ID, now.Add(time.Hour)), "revoke")
	expectOK(t, e.APIKeys.Revoke(ctx, k.ID, now.Add(2*time.Hour)), "revoke again")
	got, err = e.APIKeys.Get(ctx, k.ID)
	if err != nil || !got.Revoked() || !got.RevokedAt.Equal(now.Add(time.Hour)) || got.Hash != "h" {
		t.Fatalf("revoked key %+v %v: the first revocation time is kept", got, err)
	}
	err = e.APIKeys.Revoke(ctx, "nope", now)
	expectCode(t, err, model.CodeNotFound, "revoke unknown")
	_, err = e.APIKeys.Get(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "get unknown")
	l, err := e.APIKeys.List(ctx)
	expectOK(t, err, "list")
	if len(l) != 2 || l[0].ID != later.ID || l[1].ID != k.ID || !l[1].Revoked() || l[0].Revoked() {
		t.Fatalf("List = %+v, want both, newest first", l)
	}
}

func testSubmitters(t *testing.T, e Engine) {
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	s := &model.Open311Submitter{TicketID: "t1", KeyID: "k1", KeyName: "热线", Email: "a@b.cn", Phone: "137", FirstName: "明",
		LastName: "王", DeviceID: "d", AccountID: "acc", MediaURL: "https://x/1.jpg", AddressID: "addr-9", CreatedAt: now}
	expectOK(t, e.Submitters.Save(ctx, s), "save")
	expectOK(t, e.Submitters.Save(ctx, s), "a retry replaces")
	back, err := e.Submitters.Get(ctx, "t1")
	if err != nil || *back != *s {
		t.Fatalf("submitter %+v %v, want %+v", back, err, s)
	}
	// A replacement with fewer fields keeps only what it says.
	bare := &model.Open311Submitter{TicketID: "t1", KeyID: "k1", KeyName: "热线", CreatedAt: now}
	expectOK(t, e.Submitters.Save(ctx, bare), "replace")
	back, err = e.Submitters.Get(ctx, "t1")
	if err != nil || *back != *bare {
		t.Fatalf("replaced submitter %+v %v, want %+v", back, err, bare)
	}
	_, err = e.Submitters.Get(ctx, "t2")
	expectCode(t, err, model.CodeNotFound, "a ticket not filed through Open311")
}
