package people_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// A user read by Authenticate is trusted for UserCacheTTL: a change made
// elsewhere shows within it, a change made through this instance (or
// forgotten here) at once.
func TestAuthenticateCachesTheUserBriefly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	clk := &clock{t: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	users := mongodb.NewUsers(m, clk.now)
	tokens := people.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, clk.now)
	auth := people.NewAuth(people.AuthDeps{Users: users, Tokens: tokens, BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

	u, err := users.UpsertWeChat(ctx, "openid-cache")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Issue(model.Principal{UserID: u.ID, Kind: u.Kind})
	if err != nil {
		t.Fatal(err)
	}
	got, err := auth.Authenticate(ctx, tok)
	if err != nil || got.Has(model.RoleGridWorker) {
		t.Fatalf("first: %+v %v", got, err)
	}
	got.Roles = append(got.Roles, model.RoleStaff) // a caller's change stays its own

	// Bound by another instance: seen here once the cache entry is old.
	if _, err := users.Bind(ctx, u.ID, model.RoleGridWorker, "worker-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := auth.Authenticate(ctx, tok); err != nil || got.Has(model.RoleGridWorker) || got.Has(model.RoleStaff) {
		t.Fatalf("within the TTL: %+v %v; want the cached resident, unchanged by the caller", got, err)
	}
	clk.advance(people.UserCacheTTL)
	got, err = auth.Authenticate(ctx, tok)
	if err != nil || !got.Has(model.RoleGridWorker) {
		t.Fatalf("after the TTL: %+v %v; want the grid worker", got, err)
	}

	// Through this instance: at once.
	if _, err := auth.SetDuty(ctx, got, true); err != nil {
		t.Fatal(err)
	}
	if got, err := auth.Authenticate(ctx, tok); err != nil || !got.OnDuty {
		t.Fatalf("after SetDuty here: %+v %v", got, err)
	}
	if _, err := users.SetDuty(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	auth.ForgetUser(u.ID)
	if got, err := auth.Authenticate(ctx, tok); err != nil || got.OnDuty {
		t.Fatalf("after ForgetUser: %+v %v", got, err)
	}
}
