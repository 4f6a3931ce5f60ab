package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestResidentStaffAndWorkerLogin(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})

	// A resident logs in with a wx.login code; the same code is the same user.
	tok, id := s.Login(t, "resident-code-1")
	_, again := s.Login(t, "resident-code-1")
	_, other := s.Login(t, "resident-code-2")
	if id != again || id == other {
		t.Fatalf("ids: %s, %s, %s; want the first two equal and the third different", id, again, other)
	}
	me := s.Do(t, http.MethodGet, "/api/v1/me", tok, nil).JSON(t)
	if me["id"] != id || !equalRoles(me["roles"], "resident") {
		t.Fatalf("/me = %v", me)
	}

	// Staff log in with the configured account.
	staff := s.LoginStaff(t, adminUser, adminPass)
	if r := s.Do(t, http.MethodPost, "/api/v1/auth/staff", "", map[string]string{"username": adminUser, "password": "wrong-password"}); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, http.MethodPost, "/api/v1/auth/staff", "", map[string]string{"username": "nobody", "password": "whatever"}); r.Status != 401 {
		t.Fatalf("unknown user: %d %s", r.Status, r.Body)
	}

	// A resident calling a staff route is refused.
	worker := map[string]any{"name": "李网格", "phone": "13912345678", "grid_codes": []string{gridA}}
	if r := s.Do(t, http.MethodPost, "/api/v1/admin/workers", tok, worker); r.Status != 403 || r.ErrorCode() != "permission_denied" {
		t.Fatalf("resident on staff route: %d %s", r.Status, r.Body)
	}
	// Staff upload the grids (a worker's grid codes and a member's
	// communities must name them), then create a worker; the invite binds a
	// WeChat user as grid worker.
	if r := s.Do(t, http.MethodPost, "/api/v1/admin/grids", staff, gridsGeoJSON); r.Status != 200 {
		t.Fatalf("grids: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, http.MethodPost, "/api/v1/admin/workers", staff, worker)
	if r.Status != 201 {
		t.Fatalf("create worker: %d %s", r.Status, r.Body)
	}
	invite := r.JSON(t)["invite_code"].(string)
	wtok, wid := s.Login(t, "worker-code")
	if r := s.Do(t, http.MethodPut, "/api/v1/me/duty", wtok, map[string]bool{"on_duty": true}); r.Status != 403 {
		t.Fatalf("duty before binding: %d %s", r.Status, r.Body)
	}
	// Typed the way people type codes: lower case with dashes.
	typed := strings.ToLower(invite[:4] + "-" + invite[4:8] + "-" + invite[8:])
	r = s.Do(t, http.MethodPost, "/api/v1/me/bind", wtok, map[string]string{"invite_code": typed})
	if r.Status != 200 || !equalRoles(r.JSON(t)["roles"], "resident", "grid_worker") {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	// Single use: another user cannot redeem it.
	if r := s.Do(t, http.MethodPost, "/api/v1/me/bind", tok, map[string]string{"invite_code": invite}); r.Status != 404 {
		t.Fatalf("second redemption: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, http.MethodPut, "/api/v1/me/duty", wtok, map[string]bool{"on_duty": true})
	if r.Status != 200 || r.JSON(t)["on_duty"] != true || r.JSON(t)["id"] != wid {
		t.Fatalf("duty: %d %s", r.Status, r.Body)
	}

	// Party members: a branch, a member, an invite.
	r = s.Do(t, http.MethodPost, "/api/v1/admin/branches", staff, map[string]string{"name": "城管局第一党支部"})
	if r.Status != 201 {
		t.Fatalf("branch: %d %s", r.Status, r.Body)
	}
	branch := r.JSON(t)["id"].(string)
	r = s.Do(t, http.MethodPost, "/api/v1/admin/party-members", staff, map[string]any{
		"name": "王党员", "phone": "13700001111", "branch_id": branch, "communities": []string{"幸福里社区"}})
	if r.Status != 201 {
		t.Fatalf("party member: %d %s", r.Status, r.Body)
	}
	ptok, _ := s.Login(t, "party-code")
	r = s.Do(t, http.MethodPost, "/api/v1/me/bind", ptok, map[string]string{"invite_code": r.JSON(t)["invite_code"].(string)})
	if r.Status != 200 || !equalRoles(r.JSON(t)["roles"], "resident", "party_member") {
		t.Fatalf("party bind: %d %s", r.Status, r.Body)
	}

	// Phone numbers and tokens never reach the log.
	logs := s.logs.String()
	for _, secret := range []string{"13912345678", "13700001111", tok, staff, adminPass, invite} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
	if !strings.Contains(logs, `"request_id"`) {
		t.Error("log lines carry no request_id")
	}
}

func TestBadTokensAndInputs(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := &now
	env := testEnv(t)
	env["TOKEN_TTL"] = "10m"
	s := startServer(t, env, options{now: func() time.Time { return *clock }})
	tok, _ := s.Login(t, "code-a")

	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, message             string
	}{
		{"no token", "GET", "/api/v1/me", "", nil, 401, "unauthenticated", "缺少 Authorization"},
		{"garbage token", "GET", "/api/v1/me", "abc.def.ghi", nil, 401, "unauthenticated", "登录凭证无效"},
		{"no code", "POST", "/api/v1/auth/wechat", "", map[string]string{}, 400, "invalid_argument", "code"},
		{"code wrong type", "POST", "/api/v1/auth/wechat", "", `{"code": 42}`, 400, "invalid_argument", "code 必须是字符串"},
		{"malformed json", "POST", "/api/v1/auth/wechat", "", `{"code":`, 400, "invalid_argument", "请求体不完整"},
		{"invalid wechat code", "POST", "/api/v1/auth/wechat", "", map[string]string{"code": "invalid-xyz"}, 401, "unauthenticated", "wx.login"},
		{"missing on_duty", "PUT", "/api/v1/me/duty", tok, map[string]string{}, 400, "invalid_argument", "on_duty"},
		{"empty invite", "POST", "/api/v1/me/bind", tok, map[string]string{"invite_code": " "}, 400, "invalid_argument", "invite_code"},
		{"unknown invite", "POST", "/api/v1/me/bind", tok, map[string]string{"invite_code": "ABCDEFGHJKMN"}, 404, "not_found", "邀请码"},
		{"unknown route", "GET", "/api/v1/nope", tok, nil, 404, "not_found", "没有这个接口"},
	}
	for _, tt := range tests {
		r := s.Do(t, tt.method, tt.path, tt.token, tt.body)
		if r.Status != tt.status || r.ErrorCode() != tt.code || !strings.Contains(string(r.Body), tt.message) {
			t.Errorf("%s: %d %s; want %d %s mentioning %q", tt.name, r.Status, r.Body, tt.status, tt.code, tt.message)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", tt.name)
		}
	}

	staff := s.LoginStaff(t, adminUser, adminPass)
	for name, body := range map[string]map[string]any{
		"no name":         {"phone": "13912345678", "grid_codes": []string{"g"}},
		"bad phone":       {"name": "张三", "phone": "12345", "grid_codes": []string{"g"}},
		"no grids":        {"name": "张三", "phone": "13912345678", "grid_codes": []string{}},
		"blank grid code": {"name": "张三", "phone": "13912345678", "grid_codes": []string{" "}},
	} {
		if r := s.Do(t, "POST", "/api/v1/admin/workers", staff, body); r.Status != 400 || r.ErrorCode() != "invalid_argument" {
			t.Errorf("worker %s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "POST", "/api/v1/admin/party-members", staff, map[string]any{
		"name": "王", "phone": "13912345678", "branch_id": "000000000000000000000000", "communities": []string{"c"}}); r.Status != 400 || !strings.Contains(string(r.Body), "branch_id") {
		t.Errorf("unknown branch: %d %s", r.Status, r.Body)
	}

	// The token expires.
	*clock = clock.Add(11 * time.Minute)
	r := s.Do(t, "GET", "/api/v1/me", tok, nil)
	if r.Status != 401 || !strings.Contains(string(r.Body), "登录已过期") {
		t.Fatalf("expired token: %d %s", r.Status, r.Body)
	}
}

func equalRoles(v any, want ...string) bool {
	got, ok := v.([]any)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
