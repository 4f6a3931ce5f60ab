package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runAccounts: WeChat users, staff accounts and invites.
func runAccounts(t *testing.T, open Open) {
	hasUsers := func(e Engine) bool { return e.Users != nil }
	hasInvites := func(e Engine) bool { return e.Invites != nil }
	runCases(t, open, hasUsers, []suiteCase{
		{"UpsertWeChatIsOneUserPerOpenID", testUpsertWeChat},
		{"BindUnbindAndDuty", testBindUnbindAndDuty},
		{"OnDuty", testOnDuty},
		{"StaffAccounts", testStaffAccounts},
	})
	runCases(t, open, hasInvites, []suiteCase{
		{"InviteRedeemIsSingleUse", testInviteRedeemIsSingleUse},
		{"InviteExpiresAndIsRevoked", testInviteExpiresAndIsRevoked},
	})
}

func testUpsertWeChat(t *testing.T, e Engine) {
	ctx := t.Context()
	// Many first logins of one person at once converge on one user.
	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, err := e.Users.UpsertWeChat(ctx, "openid-A")
			if errs[i] = err; err == nil {
				ids[i] = u.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		expectOK(t, errs[i], "upsert %d", i)
		if ids[i] != ids[0] {
			t.Fatalf("concurrent first logins made users %v, want one", ids)
		}
	}
	again, err := e.Users.UpsertWeChat(ctx, "openid-A")
	expectOK(t, err, "second login")
	if again.ID != ids[0] {
		t.Fatalf("a later login got user %s, want %s", again.ID, ids[0])
	}
	other, err := e.Users.UpsertWeChat(ctx, "openid-B")
	expectOK(t, err, "another openid")
	if other.ID == ids[0] {
		t.Fatal("two openids got one user")
	}
	got, err := e.Users.Get(ctx, ids[0])
	expectOK(t, err, "get")
	if got.ID != ids[0] || got.Kind != model.KindWeChat || got.OpenID != "openid-A" || !slices.Equal(got.Roles, []model.Role{model.RoleResident}) ||
		got.OnDuty || got.WorkerID != "" || got.PartyMemberID != "" || got.CreatedAt.IsZero() {
		t.Fatalf("new user = %+v, want a resident with openid-A", got)
	}
	_, err = e.Users.Get(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "Get(unknown)")
}

func testBindUnbindAndDuty(t *testing.T, e Engine) {
	ctx := t.Context()
	u, err := e.Users.UpsertWeChat(ctx, "o1")
	expectOK(t, err, "upsert")
	for i := range 2 { // idempotent
		b, err := e.Users.Bind(ctx, u.ID, model.RoleGridWorker, "w1")
		expectOK(t, err, "bind %d", i)
		if !slices.Equal(b.Roles, []model.Role{model.RoleResident, model.RoleGridWorker}) || b.WorkerID != "w1" {
			t.Fatalf("bind %d = %+v, want resident and grid worker of w1", i, b)
		}
	}
	b, err := e.Users.Bind(ctx, u.ID, model.RolePartyMember, "m1")
	expectOK(t, err, "bind party member")
	if !b.Has(model.RolePartyMember) || !b.Has(model.RoleGridWorker) || b.PartyMemberID != "m1" || b.WorkerID != "w1" {
		t.Fatalf("bound twice = %+v", b)
	}
	_, err = e.Users.Bind(ctx, u.ID, model.RoleStaff, "x")
	expectCode(t, err, model.CodeInvalidArgument, "Bind(staff)")
	_, err = e.Users.Bind(ctx, "nope", model.RoleGridWorker, "w1")
	expectCode(t, err, model.CodeNotFound, "Bind(unknown user)")

	d, err := e.Users.SetDuty(ctx, u.ID, true)
	expectOK(t, err, "set duty")
	if !d.OnDuty || !d.Has(model.RoleGridWorker) {
		t.Fatalf("SetDuty(true) = %+v", d)
	}
	// Unbinding takes the role; the link stays, so Bind gives it back.
	ub, err := e.Users.Unbind(ctx, u.ID, model.RoleGridWorker)
	expectOK(t, err, "unbind")
	if ub.Has(model.RoleGridWorker) || !ub.Has(model.RolePartyMember) || !ub.Has(model.RoleResident) || ub.WorkerID != "w1" {
		t.Fatalf("unbound = %+v, want the grid worker role gone and the link kept", ub)
	}
	got, err := e.Users.Get(ctx, u.ID)
	expectOK(t, err, "get")
	if got.Has(model.RoleGridWorker) || !got.OnDuty || got.PartyMemberID != "m1" {
		t.Fatalf("stored after unbind = %+v", got)
	}
	d, err = e.Users.SetDuty(ctx, u.ID, false)
	expectOK(t, err, "off duty")
	if d.OnDuty {
		t.Fatalf("SetDuty(false) = %+v", d)
	}
	_, err = e.Users.SetDuty(ctx, "nope", true)
	expectCode(t, err, model.CodeNotFound, "SetDuty(unknown)")
	_, err = e.Users.Unbind(ctx, "nope", model.RoleGridWorker)
	expectCode(t, err, model.CodeNotFound, "Unbind(unknown)")
}

func testOnDuty(t *testing.T, e Engine) {
	ctx := t.Context()
	var ids []string
	for i := range 5 {
		u, err := e.Users.UpsertWeChat(ctx, fmt.Sprintf("duty-%d", i))
		expectOK(t, err, "upsert")
		ids = append(ids, u.ID)
		if i%2 == 0 {
			_, err := e.Users.SetDuty(ctx, u.ID, true)
			expectOK(t, err, "set duty")
		}
	}
	got, err := e.Users.OnDuty(ctx, []string{ids[4], ids[1], "nope", ids[0], ids[3], ids[2]})
	expectOK(t, err, "on duty")
	if want := []string{ids[4], ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("OnDuty = %v, want %v (on duty, in the order asked)", got, want)
	}
	if got, err := e.Users.OnDuty(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("OnDuty(none) = %v, %v", got, err)
	}
}

func testStaffAccounts(t *testing.T, e Engine) {
	ctx := t.Context()
	if ok, err := e.Users.StaffExists(ctx, "admin"); err != nil || ok {
		t.Fatalf("StaffExists before = %v, %v", ok, err)
	}
	a, err := e.Users.UpsertStaff(ctx, "admin", []byte("h1"))
	expectOK(t, err, "create staff")
	// An account made this way is the bootstrap account: admin and
	// dispatcher (the Staff resource makes the others).
	if a.ID == "" || a.Kind != model.KindStaff || a.Username != "admin" ||
		!slices.Equal(a.Roles, []model.Role{model.RoleStaff, model.RoleAdmin, model.RoleDispatcher}) {
		t.Fatalf("staff = %+v", a)
	}
	b, err := e.Users.UpsertStaff(ctx, "admin", []byte("h2"))
	expectOK(t, err, "second upsert")
	if b.ID != a.ID {
		t.Fatalf("second upsert made account %s, want the same %s", b.ID, a.ID)
	}
	u, hash, err := e.Users.StaffCredentials(ctx, "admin")
	expectOK(t, err, "credentials")
	if string(hash) != "h2" || u.ID != a.ID || u.Username != "admin" {
		t.Fatalf("credentials = %+v %q, want the new hash", u, hash)
	}
	// The same hash again changes nothing.
	c, err := e.Users.UpsertStaff(ctx, "admin", []byte("h2"))
	expectOK(t, err, "same hash")
	if c.ID != a.ID {
		t.Fatalf("same-hash upsert = %+v", c)
	}
	got, err := e.Users.GetStaff(ctx, a.ID)
	expectOK(t, err, "get staff")
	if got.ID != a.ID || got.Username != "admin" || got.Kind != model.KindStaff || !got.Has(model.RoleStaff) || got.CreatedAt.IsZero() {
		t.Fatalf("GetStaff = %+v", got)
	}
	if ok, err := e.Users.StaffExists(ctx, "admin"); err != nil || !ok {
		t.Fatalf("StaffExists after = %v, %v", ok, err)
	}
	_, _, err = e.Users.StaffCredentials(ctx, "ghost")
	expectCode(t, err, model.CodeNotFound, "StaffCredentials(unknown)")
	_, err = e.Users.GetStaff(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "GetStaff(unknown)")
	// A WeChat user's id is no staff account.
	w, err := e.Users.UpsertWeChat(ctx, "o-staff")
	expectOK(t, err, "wechat user")
	_, err = e.Users.GetStaff(ctx, w.ID)
	expectCode(t, err, model.CodeNotFound, "GetStaff(a WeChat user)")

	// Concurrent creations of one account make one.
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := e.Users.UpsertStaff(ctx, "clerk", fmt.Appendf(nil, "h%d", i))
			if err != nil {
				t.Errorf("upsert clerk %d: %v", i, err)
				return
			}
			ids[i] = s.ID
		})
	}
	wg.Wait()
	for i := range n {
		if ids[i] != ids[0] {
			t.Fatalf("concurrent creations made accounts %v, want one", ids)
		}
	}
}

func testInviteRedeemIsSingleUse(t *testing.T, e Engine) {
	ctx := t.Context()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	expectOK(t, e.Invites.Create(ctx, "h", model.Invite{Role: model.RoleGridWorker, ProfileID: "w1", ExpiresAt: exp}), "create")
	err := e.Invites.Create(ctx, "h", model.Invite{Role: model.RoleGridWorker, ProfileID: "w2", ExpiresAt: exp})
	expectCode(t, err, model.CodeConflict, "a second invite with one hash")

	// Users race for one code: exactly one wins.
	const n = 8
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, results[i] = e.Invites.Redeem(ctx, "h", fmt.Sprintf("u%d", i)) })
	}
	wg.Wait()
	winner := ""
	for i, err := range results {
		if err == nil {
			if winner != "" {
				t.Fatalf("redeem results = %v; want exactly one success", results)
			}
			winner = fmt.Sprintf("u%d", i)
			continue
		}
		expectCode(t, err, model.CodeNotFound, "losing redeem %d", i)
	}
	if winner == "" {
		t.Fatalf("redeem results = %v; want exactly one success", results)
	}
	got, err := e.Invites.Redeem(ctx, "h", winner) // a retry by the winner completes
	expectOK(t, err, "retry by the winner")
	if got.ProfileID != "w1" || got.Role != model.RoleGridWorker || got.UsedBy != winner || got.UsedAt.IsZero() || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("retry by winner = %+v", got)
	}
	_, err = e.Invites.Redeem(ctx, "h", "late")
	expectCode(t, err, model.CodeNotFound, "redeem after use")
	_, err = e.Invites.Redeem(ctx, "unknown", "u1")
	expectCode(t, err, model.CodeNotFound, "unknown code")
}

func testInviteExpiresAndIsRevoked(t *testing.T, e Engine) {
	ctx := t.Context()
	now := time.Now()
	expectOK(t, e.Invites.Create(ctx, "old", model.Invite{Role: model.RolePartyMember, ProfileID: "m0", ExpiresAt: now.Add(-time.Second)}), "create expired")
	_, err := e.Invites.Redeem(ctx, "old", "u3")
	expectCode(t, err, model.CodeNotFound, "expired invite")

	// Revoking a profile's unused invites: they stop working; a used one
	// still completes its user's retry; other profiles' stay; a new one
	// works.
	for _, h := range []string{"a1", "a2", "a3"} {
		expectOK(t, e.Invites.Create(ctx, h, model.Invite{Role: model.RoleGridWorker, ProfileID: "w1", ExpiresAt: now.Add(time.Hour)}), "create %s", h)
	}
	expectOK(t, e.Invites.Create(ctx, "other", model.Invite{Role: model.RoleGridWorker, ProfileID: "w2", ExpiresAt: now.Add(time.Hour)}), "create other")
	expectOK(t, e.Invites.Create(ctx, "member", model.Invite{Role: model.RolePartyMember, ProfileID: "w1", ExpiresAt: now.Add(time.Hour)}), "create member")
	_, err = e.Invites.Redeem(ctx, "a3", "u-used")
	expectOK(t, err, "redeem a3")
	expectOK(t, e.Invites.RevokeUnused(ctx, model.RoleGridWorker, "w1"), "revoke")
	for _, h := range []string{"a1", "a2"} {
		_, err := e.Invites.Redeem(ctx, h, "u1")
		expectCode(t, err, model.CodeNotFound, "revoked invite %s", h)
	}
	if _, err := e.Invites.Redeem(ctx, "a3", "u-used"); err != nil {
		t.Fatalf("a used invite's retry after a revocation: %v", err)
	}
	if _, err := e.Invites.Redeem(ctx, "other", "u2"); err != nil {
		t.Fatalf("another profile's invite after a revocation: %v", err)
	}
	if _, err := e.Invites.Redeem(ctx, "member", "u4"); err != nil {
		t.Fatalf("the same id's invite of another role after a revocation: %v", err)
	}
	expectOK(t, e.Invites.Create(ctx, "a4", model.Invite{Role: model.RoleGridWorker, ProfileID: "w1", ExpiresAt: now.Add(time.Hour)}), "create after revoke")
	if inv, err := e.Invites.Redeem(ctx, "a4", "u1"); err != nil || inv.ProfileID != "w1" {
		t.Fatalf("an invite made after the revocation: %+v, %v", inv, err)
	}
}
