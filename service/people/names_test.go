package people_test

import (
	"context"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// Names keeps a name it found for NameCacheTTL: a rename shows after it,
// not before; without a clock nothing is kept.
func TestNamesAreKeptForTheirTTL(t *testing.T) {
	ctx := context.Background()
	m := testenv.Mongo(t)
	clk := &clock{t: time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)}
	users, directory := mongodb.NewUsers(m, clk.now), mongodb.NewPeople(m, clk.now)
	u, err := users.UpsertWeChat(ctx, testenv.Name("openid-"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := directory.CreateWorker(ctx, model.Worker{Name: "张伟", Phone: "13900000009"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Bind(ctx, u.ID, model.RoleGridWorker, w.ID); err != nil {
		t.Fatal(err)
	}
	cached := &people.Names{Users: users, Workers: directory, Members: directory, Now: clk.now}
	uncached := &people.Names{Users: users, Workers: directory, Members: directory}
	if got := cached.Masked(ctx, u.ID, model.RoleGridWorker); got != model.MaskName("张伟") {
		t.Fatalf("masked %q", got)
	}
	if got := cached.Full(ctx, u.ID); got != "张伟" {
		t.Fatalf("full %q", got)
	}
	w.Name = "李娜"
	if err := directory.UpdateWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := uncached.Masked(ctx, u.ID, model.RoleGridWorker); got != model.MaskName("李娜") {
		t.Fatalf("without a clock: masked %q after the rename", got)
	}
	clk.t = clk.t.Add(people.NameCacheTTL - time.Second)
	if got := cached.Full(ctx, u.ID); got != "张伟" {
		t.Fatalf("within the TTL: full %q, want the name kept", got)
	}
	clk.t = clk.t.Add(time.Second)
	if got, want := cached.Masked(ctx, u.ID, model.RoleGridWorker), model.MaskName("李娜"); got != want {
		t.Fatalf("after the TTL: masked %q, want %q", got, want)
	}
	if got := cached.Full(ctx, u.ID); got != "李娜" {
		t.Fatalf("after the TTL: full %q", got)
	}
}
