package mongodb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

func TestUpsertWeChatIsOneUserPerOpenID(t *testing.T) {
	t.Parallel()
	users := mongodb.NewUsers(testenv.Mongo(t), time.Now)
	ctx := context.Background()

	// Many first logins of one person at once converge on one user.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := users.UpsertWeChat(ctx, "openid-A")
			errs[i] = err
			if err == nil {
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("upsert %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("user ids differ: %v", ids)
		}
	}
	other, err := users.UpsertWeChat(ctx, "openid-B")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == ids[0] {
		t.Fatal("two openids got one user")
	}
	got, err := users.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !got.Has(model.RoleResident) || got.Has(model.RoleGridWorker) || got.OpenID != "openid-A" {
		t.Fatalf("new user = %+v, want a resident with openid-A", got)
	}
	if _, err := users.Get(ctx, "nope"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want not_found", err)
	}
}

func TestBindAndDuty(t *testing.T) {
	t.Parallel()
	users := mongodb.NewUsers(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	u, _ := users.UpsertWeChat(ctx, "o1")
	for range 2 { // idempotent
		b, err := users.Bind(ctx, u.ID, model.RoleGridWorker, "w1")
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Roles) != 2 || !b.Has(model.RoleGridWorker) || b.WorkerID != "w1" {
			t.Fatalf("bound = %+v", b)
		}
	}
	d, err := users.SetDuty(ctx, u.ID, true)
	if err != nil || !d.OnDuty {
		t.Fatalf("SetDuty = %+v, %v", d, err)
	}
}

func TestStaffCredentials(t *testing.T) {
	t.Parallel()
	users := mongodb.NewUsers(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	a, err := users.UpsertStaff(ctx, "admin", []byte("h1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := users.UpsertStaff(ctx, "admin", []byte("h2"))
	if err != nil || b.ID != a.ID {
		t.Fatalf("second upsert = %+v, %v; want the same account", b, err)
	}
	_, hash, err := users.StaffCredentials(ctx, "admin")
	if err != nil || string(hash) != "h2" {
		t.Fatalf("hash = %q, %v; want the new one", hash, err)
	}
	if _, _, err := users.StaffCredentials(ctx, "ghost"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown staff: %v", err)
	}
}

func TestInviteRedeemIsSingleUse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	inv := mongodb.NewInvites(testenv.Mongo(t), clock)
	ctx := context.Background()
	if err := inv.Create(ctx, "h", model.Invite{Role: model.RoleGridWorker, ProfileID: "w1", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := inv.Create(ctx, "h", model.Invite{Role: model.RoleGridWorker, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("duplicate hash: %v, want conflict", err)
	}
	// Two users race for one code: exactly one wins.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i, user := range []string{"u1", "u2"} {
		wg.Add(1)
		go func() { defer wg.Done(); _, results[i] = inv.Redeem(ctx, "h", user) }()
	}
	wg.Wait()
	if (results[0] == nil) == (results[1] == nil) {
		t.Fatalf("redeem results = %v; want exactly one success", results)
	}
	winner := "u1"
	if results[0] != nil {
		winner = "u2"
	}
	got, err := inv.Redeem(ctx, "h", winner) // a retry by the winner completes
	if err != nil || got.ProfileID != "w1" || got.Role != model.RoleGridWorker {
		t.Fatalf("retry by winner = %+v, %v", got, err)
	}

	_ = inv.Create(ctx, "old", model.Invite{Role: model.RolePartyMember, ExpiresAt: now.Add(-time.Second)})
	if _, err := inv.Redeem(ctx, "old", "u3"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("expired invite: %v, want not_found", err)
	}
}

func TestLinkUserRefusesASecondUser(t *testing.T) {
	t.Parallel()
	people := mongodb.NewPeople(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	w, err := people.CreateWorker(ctx, model.Worker{Name: "张三", Phone: "13800138000", GridCodes: []string{"g1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := people.LinkUser(ctx, model.RoleGridWorker, w.ID, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := people.LinkUser(ctx, model.RoleGridWorker, w.ID, "u1"); err != nil {
		t.Fatalf("relink by same user: %v", err)
	}
	if err := people.LinkUser(ctx, model.RoleGridWorker, w.ID, "u2"); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("link by another user: %v, want conflict", err)
	}
}
