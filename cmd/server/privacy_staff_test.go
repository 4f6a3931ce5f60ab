package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// staffAccount creates a staff account with roles through the admin
// token and logs it in.
func staffAccount(t *testing.T, s *testServer, admin, username string, roles ...string) (id, token string) {
	t.Helper()
	r := s.Do(t, "POST", "/api/v1/admin/staff", admin, map[string]any{"username": username, "name": "员工" + username,
		"roles": roles, "password": "Staff-Pass-2026"})
	if r.Status != 201 {
		t.Fatalf("staff account %s: %d %s", username, r.Status, r.Body)
	}
	return r.JSON(t)["id"].(string), s.LoginStaff(t, username, "Staff-Pass-2026")
}

type trailEntry struct {
	At    time.Time `json:"at"`
	Actor struct {
		ID, Name string
	} `json:"actor"`
	Action, Target, Detail, IP string
}

// trail reads the access trail as an auditor, with query (actor=…).
func trail(t *testing.T, s *testServer, auditor, query string) []trailEntry {
	t.Helper()
	var out []trailEntry
	cursor := ""
	for range 50 {
		path := "/api/v1/admin/audit?limit=100&" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := s.Do(t, "GET", path, auditor, nil)
		if r.Status != 200 {
			t.Fatalf("audit %s: %d %s", query, r.Status, r.Body)
		}
		var page struct {
			Items      []trailEntry `json:"items"`
			NextCursor string       `json:"next_cursor"`
		}
		r.Decode(t, &page)
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return out
}

// TestStaffRolesAndTheTrail: a leader reads the figures and the lists but
// no phone and no full name; a dispatcher reveals a caller, and the auditor
// — and only the auditor — can answer who saw that caller's phone, when and
// from where (the address behind the trusted proxy); every listed action
// is in the trail.
func TestStaffRolesAndTheTrail(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["TRUSTED_PROXIES"] = "127.0.0.1/32, ::1"
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"张网格": gridA}, nil)
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	dispID, disp := staffAccount(t, s, c.staff, "dispatcher1", "dispatcher")
	_, leader := staffAccount(t, s, c.staff, "leader1", "leader")
	_, auditor := staffAccount(t, s, c.staff, "auditor1", "auditor")

	// A hotline case: the caller is masked for everyone until a reveal.
	r := s.Do(t, "POST", "/api/v1/admin/tickets", disp, map[string]any{"category": "1102", "description": "来电：楼下路灯不亮，联系 138 1234 5678",
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"}, "address": "幸福路8号", "source": "hotline",
		"caller_name": "钱多多", "caller_phone": "13812345678"})
	if r.Status != 201 {
		t.Fatalf("hotline: %d %s", r.Status, r.Body)
	}
	call := r.JSON(t)["id"].(string)
	waitTask(t, s, c.workers["张网格"].token, "/api/v1/tasks", call)
	for role, tok := range map[string]string{"dispatcher": disp, "leader": leader} {
		body := string(s.Do(t, "GET", "/api/v1/admin/tickets/"+call, tok, nil).Body)
		if strings.Contains(body, "13812345678") || strings.Contains(body, "钱多多") {
			t.Errorf("the %s's view shows the caller: %s", role, body)
		}
	}
	// A leader: no phone anywhere, not even one typed into the text, and
	// the worker by masked name; the figures and the lists are open.
	lv := s.Do(t, "GET", "/api/v1/admin/tickets/"+call, leader, nil)
	if body := string(lv.Body); strings.Contains(body, "1234 5678") || strings.Contains(body, "张网格") || strings.Contains(body, "original_url") ||
		strings.Contains(body, `"phone":"139`) {
		t.Errorf("the leader's view: %s", body)
	}
	if dv := string(s.Do(t, "GET", "/api/v1/admin/tickets/"+call, disp, nil).Body); !strings.Contains(dv, "138 1234 5678") {
		t.Errorf("the dispatcher's view lacks the text as written: %s", dv)
	}
	for _, path := range []string{"/api/v1/stats/summary", "/api/v1/admin/tickets", "/api/v1/admin/grids"} {
		if r := s.Do(t, "GET", path, leader, nil); r.Status != 200 {
			t.Errorf("leader %s: %d", path, r.Status)
		}
	}
	for _, path := range []string{"/api/v1/admin/workers", "/api/v1/admin/audit", "/api/v1/admin/staff"} {
		if r := s.Do(t, "GET", path, leader, nil); r.Status != 403 {
			t.Errorf("leader %s: %d, want 403", path, r.Status)
		}
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+call+"/reveal", leader, nil); r.Status != 403 {
		t.Errorf("a leader's reveal: %d", r.Status)
	}
	// The leader's export has the texts scrubbed.
	if r := s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx", leader, nil); r.Status != 200 || bytesContain(r.Body, "1234 5678") {
		t.Errorf("the leader's export: %d", r.Status)
	}

	// The reveal, from a client behind the trusted proxy.
	rv := s.Do(t, "POST", "/api/v1/admin/tickets/"+call+"/reveal", disp, nil, from("198.51.100.23")...)
	if rv.Status != 200 || !strings.Contains(string(rv.Body), `"caller":{"name":"钱多多","phone":"13812345678"}`) {
		t.Fatalf("reveal: %d %s", rv.Status, rv.Body)
	}
	caseNo, _ := rv.JSON(t)["case_no"].(string)
	if len(caseNo) != 13 || caseNo[8] != '-' {
		t.Fatalf("the reveal names case %q", caseNo)
	}

	// Every listed action, once each.
	wr := s.Do(t, "POST", "/api/v1/admin/workers", c.staff, map[string]any{"name": "孙网格", "phone": "13900009999", "grid_codes": []string{gridA}}, from("198.51.100.1")...)
	if wr.Status != 201 {
		t.Fatalf("worker: %d %s", wr.Status, wr.Body)
	}
	if r := s.Do(t, "PUT", "/api/v1/admin/categories/0101", c.staff, map[string]any{"name": "暴露垃圾", "sla_hours": 12, "volunteer_suitable": true},
		from("198.51.100.1")...); r.Status != 200 {
		t.Fatalf("category: %d %s", r.Status, r.Body)
	}
	key := s.Do(t, "POST", "/api/v1/admin/open311/keys", c.staff, map[string]string{"name": "区12345平台"}, from("198.51.100.1")...)
	keyID := key.JSON(t)["id"].(string)
	if r := s.Do(t, "DELETE", "/api/v1/admin/open311/keys/"+keyID, c.staff, nil, from("198.51.100.1")...); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := s.Do(t, "PATCH", "/api/v1/admin/staff/"+dispID, c.staff, map[string]any{"roles": []string{"dispatcher", "leader"}}, from("198.51.100.1")...); r.Status != 200 {
		t.Fatalf("patch staff: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx?source=hotline", disp, nil, from("198.51.100.23")...); r.Status != 200 {
		t.Fatalf("export: %d", r.Status)
	}
	var rep report
	s.Do(t, "GET", "/api/v1/reports/"+c.reportOf(t), c.staff, nil).Decode(t, &rep)
	if r := s.Do(t, "POST", "/api/v1/admin/photos/"+rep.Photos[0].ID+"/redact", disp, map[string]any{"rects": []map[string]float64{{"x": 0.1, "y": 0.1, "w": 0.3, "h": 0.3}}},
		from("198.51.100.23")...); r.Status != 200 {
		t.Fatalf("redact: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/auth/staff", "", map[string]string{"username": "leader1", "password": "not-it"}, from("203.0.113.5")...); r.Status != 401 {
		t.Fatalf("a wrong password: %d", r.Status)
	}

	// Only the auditor reads the trail.
	for role, tok := range map[string]string{"admin": c.staff, "dispatcher": disp, "leader": leader} {
		if r := s.Do(t, "GET", "/api/v1/admin/audit", tok, nil); r.Status != 403 {
			t.Errorf("%s reads the trail: %d", role, r.Status)
		}
	}
	// Who saw this caller's phone, and when?
	seen := trail(t, s, auditor, "action=identity.reveal&target="+caseNo)
	if len(seen) != 1 || seen[0].Actor.ID != dispID || seen[0].Actor.Name != "员工dispatcher1" || seen[0].IP != "198.51.100.23" ||
		!strings.Contains(seen[0].Detail, "来电人") || time.Since(seen[0].At) > time.Hour {
		t.Fatalf("who saw the caller: %+v", seen)
	}
	all := trail(t, s, auditor, "")
	got := map[string]trailEntry{}
	for _, e := range all { // newest first: the latest of each action
		if _, ok := got[e.Action]; !ok {
			got[e.Action] = e
		}
	}
	for action, ip := range map[string]string{"identity.reveal": "198.51.100.23", "export": "198.51.100.23", "people.change": "198.51.100.1",
		"staff.change": "198.51.100.1", "key.issue": "198.51.100.1", "key.revoke": "198.51.100.1", "photo.redact": "198.51.100.23",
		"settings.change": "198.51.100.1", "login.failed": "203.0.113.5"} {
		e, ok := got[action]
		if !ok {
			t.Errorf("no %s in the trail", action)
			continue
		}
		if e.IP != ip || e.Detail == "" {
			t.Errorf("%s: %+v, want from %s", action, e, ip)
		}
	}
	if e := got["login.failed"]; e.Target != "leader1" {
		t.Errorf("login.failed names %q", e.Target)
	}
	if e := got["export"]; !strings.Contains(e.Detail, "来源 hotline") || !strings.Contains(e.Detail, "1 件") {
		t.Errorf("the export's entry says %q: want its filter and row count", e.Detail)
	}
	// Filters combine; the export is the auditor's too, and recorded.
	if mine := trail(t, s, auditor, "actor="+dispID+"&action=export"); len(mine) != 1 {
		t.Errorf("actor+action: %+v", mine)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if none := trail(t, s, auditor, "from=2020-01-01&to=2020-12-31"); len(none) != 0 {
		t.Errorf("an old range: %+v", none)
	}
	if r := s.Do(t, "GET", "/api/v1/admin/audit?from="+today+"&to="+today, auditor, nil); r.Status != 200 || !strings.Contains(string(r.Body), "identity.reveal") {
		t.Errorf("today's range: %d", r.Status)
	}
	if r := s.Do(t, "GET", "/api/v1/admin/audit?action=bogus", auditor, nil); r.Status != 400 {
		t.Errorf("an unknown action: %d", r.Status)
	}
	x := s.Do(t, "GET", "/api/v1/admin/audit/export.xlsx?action=identity.reveal", auditor, nil)
	if x.Status != 200 || !strings.HasPrefix(x.Header.Get("Content-Type"), "application/vnd.openxmlformats") {
		t.Fatalf("audit export: %d %s", x.Status, x.Header)
	}
	if exports := trail(t, s, auditor, "action=export&target="+url.QueryEscape("访问留痕")); len(exports) != 1 {
		t.Errorf("the trail's own export is not recorded: %+v", exports)
	}
	// The trail cannot be changed through the API: no route writes it.
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if r := s.Do(t, m, "/api/v1/admin/audit", auditor, "{}"); r.Status != 404 && r.Status != 405 {
			t.Errorf("%s /admin/audit: %d", m, r.Status)
		}
	}
}

func bytesContain(b []byte, s string) bool { return strings.Contains(string(b), s) }

// reportOf files a resident's report in grid A and returns its id.
func (c *city) reportOf(t *testing.T) string {
	t.Helper()
	_, id := c.report(t, fmt.Sprintf("resident-%d", time.Now().UnixNano()), "0101", nil)
	return id
}

// TestStaffAccounts: admins make, change, disable and reset accounts;
// passwords have a minimum strength; a member of staff changes their own;
// the last admin cannot be demoted; a disabled account cannot log in and
// its token stops working.
func TestStaffAccounts(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	admin := s.LoginStaff(t, adminUser, adminPass)
	me := s.Do(t, "GET", "/api/v1/me", admin, nil).JSON(t)
	if !equalRoles(me["roles"], "staff", "admin", "dispatcher") {
		t.Fatalf("the first account's roles: %v", me["roles"])
	}
	for name, c := range map[string]struct {
		body  map[string]any
		field string
		msg   string
	}{
		"short":       {map[string]any{"username": "li", "name": "李", "roles": []string{"leader"}, "password": "Short1!"}, "username", "用户名"},
		"weak":        {map[string]any{"username": "lisi", "name": "李四", "roles": []string{"leader"}, "password": "alllowercase"}, "password", "至少三类"},
		"too short":   {map[string]any{"username": "lisi", "name": "李四", "roles": []string{"leader"}, "password": "Ab1!"}, "password", "至少 10 个字符"},
		"no roles":    {map[string]any{"username": "lisi", "name": "李四", "roles": []string{}, "password": "Tiger-Lily-2026"}, "roles", "至少选择一个角色"},
		"bad role":    {map[string]any{"username": "lisi", "name": "李四", "roles": []string{"root"}, "password": "Tiger-Lily-2026"}, "roles[0]", "不是工作人员角色"},
		"name":        {map[string]any{"username": "lisi", "name": "", "roles": []string{"leader"}, "password": "Tiger-Lily-2026"}, "name", "姓名"},
		"username in": {map[string]any{"username": "lisi", "name": "李四", "roles": []string{"leader"}, "password": "Lisi-2026-ok!"}, "password", "用户名"},
	} {
		r := s.Do(t, "POST", "/api/v1/admin/staff", admin, c.body)
		var e struct {
			Error struct{ Code, Field, Message string } `json:"error"`
		}
		r.Decode(t, &e)
		if r.Status != 400 || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.msg) {
			t.Errorf("%s: %d %s; want field %s saying %q", name, r.Status, r.Body, c.field, c.msg)
		}
	}
	id, tok := staffAccount(t, s, admin, "lisi", "leader", "auditor")
	if r := s.Do(t, "POST", "/api/v1/admin/staff", admin, map[string]any{"username": "lisi", "name": "又一个", "roles": []string{"leader"},
		"password": "Tiger-Lily-2026"}); r.Status != 409 {
		t.Errorf("a taken username: %d", r.Status)
	}
	var list struct {
		Items []struct {
			ID, Username string
			Roles        []string
			Active       bool
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/staff", admin, nil).Decode(t, &list)
	if len(list.Items) != 2 || list.Items[1].Username != "lisi" || fmt.Sprint(list.Items[1].Roles) != "[staff leader auditor]" || !list.Items[1].Active {
		t.Fatalf("staff list: %+v", list)
	}

	// Their own password: the old one right, the new one strong; the
	// answer is a new session, the old one ends.
	if r := s.Do(t, "PUT", "/api/v1/me/password", tok, map[string]string{"old": "wrong", "new": "Tiger-Lily-2026"}); r.Status != 400 || !strings.Contains(string(r.Body), `"field":"old"`) {
		t.Errorf("a wrong old password: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "PUT", "/api/v1/me/password", tok, map[string]string{"old": "Staff-Pass-2026", "new": "Tiger-Lily-2026"})
	if r.Status != 200 || r.JSON(t)["token"] == "" {
		t.Fatalf("own password: %d %s", r.Status, r.Body)
	}
	fresh := r.JSON(t)["token"].(string)
	if r := s.Do(t, "GET", "/api/v1/me", tok, nil); r.Status != 401 {
		t.Errorf("the token from before the new password: %d", r.Status)
	}
	if r := s.Do(t, "GET", "/api/v1/me", fresh, nil); r.Status != 200 {
		t.Errorf("the new session: %d", r.Status)
	}
	s.LoginStaff(t, "lisi", "Tiger-Lily-2026")
	if r := s.Do(t, "PUT", "/api/v1/me/password", residentToken(t, s), map[string]string{"old": "x", "new": "y"}); r.Status != 403 {
		t.Errorf("a resident's password change: %d", r.Status)
	}

	// An admin resets it: the account's sessions end.
	if r := s.Do(t, "POST", "/api/v1/admin/staff/"+id+"/password", admin, map[string]string{"password": "Reset-By-Admin-1"}); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/me", fresh, nil); r.Status != 401 {
		t.Errorf("a session after a reset: %d", r.Status)
	}
	tok = s.LoginStaff(t, "lisi", "Reset-By-Admin-1")

	// Disabled: its token stops, it cannot log in; enabled again, it can.
	if r := s.Do(t, "PATCH", "/api/v1/admin/staff/"+id, admin, map[string]any{"active": false}); r.Status != 200 || r.JSON(t)["active"] != false {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/me", tok, nil); r.Status != 401 {
		t.Errorf("a disabled account's token: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/auth/staff", "", map[string]string{"username": "lisi", "password": "Reset-By-Admin-1"}); r.Status != 401 || !strings.Contains(string(r.Body), "已停用") {
		t.Errorf("a disabled account's login: %d %s", r.Status, r.Body)
	}
	s.Do(t, "PATCH", "/api/v1/admin/staff/"+id, admin, map[string]any{"active": true})
	s.LoginStaff(t, "lisi", "Reset-By-Admin-1")

	// The last admin stays one.
	var adminID string
	for _, u := range list.Items {
		if u.Username == adminUser {
			adminID = u.ID
		}
	}
	for _, body := range []map[string]any{{"roles": []string{"dispatcher"}}, {"active": false}} {
		if r := s.Do(t, "PATCH", "/api/v1/admin/staff/"+adminID, admin, body); r.Status != 409 {
			t.Errorf("the last admin %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "PATCH", "/api/v1/admin/staff/"+id, admin, map[string]any{"roles": []string{"admin"}}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := s.Do(t, "PATCH", "/api/v1/admin/staff/"+adminID, admin, map[string]any{"roles": []string{"dispatcher"}}); r.Status != 200 {
		t.Errorf("demoting an admin while another is left: %d %s", r.Status, r.Body)
	}
}

// residentToken is a resident's token.
func residentToken(t *testing.T, s *testServer) string {
	tok, _ := s.Login(t, "resident-c0")
	return tok
}

// TestLoginLockoutIsPerAccountAndAddress: wrong passwords for one account
// from one address slow, then stop, further tries from that address — even
// with the right password — while the same account logs in from another
// address, and each failure and the lock are in the trail. (Before, ten
// wrong passwords a minute from anywhere locked the admin out.)
func TestLoginLockoutIsPerAccountAndAddress(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := &now
	env := testEnv(t)
	env["TRUSTED_PROXIES"] = "127.0.0.1/32, ::1"
	env["LOGIN_SLOW_AFTER"] = "2"
	env["LOGIN_LOCK_AFTER"] = "4"
	env["LOGIN_LOCK_FOR"] = "10m"
	s := startServer(t, env, options{now: func() time.Time { return *clock }})
	admin := s.LoginStaff(t, adminUser, adminPass)
	_, auditor := staffAccount(t, s, admin, "auditor1", "auditor")
	try := func(password, ip string) *apitest.Response {
		return s.Do(t, "POST", "/api/v1/auth/staff", "", map[string]string{"username": adminUser, "password": password}, "X-Forwarded-For", ip)
	}
	const attacker, office = "203.0.113.66", "198.51.100.10"
	for i := range 2 {
		if r := try("guess", attacker); r.Status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// Slowed: the next try waits.
	r := try("guess", attacker)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "秒后再试") {
		t.Fatalf("a try too soon: %d %s", r.Status, r.Body)
	}
	*clock = clock.Add(2 * time.Second)
	if r := try("guess", attacker); r.Status != 401 {
		t.Fatalf("failure 3 after the wait: %d %s", r.Status, r.Body)
	}
	*clock = clock.Add(4 * time.Second)
	if r := try("guess", attacker); r.Status != 401 {
		t.Fatalf("failure 4: %d %s", r.Status, r.Body)
	}
	// Locked for that address, the right password included …
	*clock = clock.Add(time.Minute)
	r = try(adminPass, attacker)
	if r.Status != 429 || !strings.Contains(string(r.Body), "已暂停") {
		t.Fatalf("the locked address with the right password: %d %s", r.Status, r.Body)
	}
	// … while the bureau logs in from its own.
	if r := try(adminPass, office); r.Status != 200 {
		t.Fatalf("the same account from another address: %d %s", r.Status, r.Body)
	}
	failed := trail(t, s, auditor, "action=login.failed&target="+adminUser)
	locked := trail(t, s, auditor, "action=login.locked")
	if len(failed) != 4 || len(locked) != 1 || locked[0].IP != attacker || failed[0].IP != attacker || !strings.Contains(locked[0].Detail, "4 次") {
		t.Fatalf("the trail: %d failures %+v, locks %+v", len(failed), failed, locked)
	}
	// Many accounts behind one address (carrier NAT) still log in.
	for i := range 5 {
		if r := s.Do(t, "POST", "/api/v1/auth/wechat", "", map[string]string{"code": fmt.Sprintf("nat-user-%d", i)}, "X-Forwarded-For", attacker); r.Status != 200 {
			t.Fatalf("a resident behind the same address: %d %s", r.Status, r.Body)
		}
	}
}

// TestSessionsEndOnEveryInstance: signing out on one instance ends the
// session on another within seconds, and so do a new password and a
// disabled account; a resident signs out too.
func TestSessionsEndOnEveryInstance(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	sim := newSimulator(t, env["WECHAT_APPID"])
	a := startServer(t, env, options{simulator: sim})
	b := startServer(t, env, options{simulator: sim})
	admin := a.LoginStaff(t, adminUser, adminPass)
	id, tok := staffAccount(t, a, admin, "roaming", "dispatcher")
	waitCode := func(s *testServer, token string, want int, what string) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for {
			r := s.Do(t, "GET", "/api/v1/me", token, nil)
			if r.Status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %d, want %d", what, r.Status, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitCode(b, tok, 200, "the token on the other instance")
	if r := a.Do(t, "POST", "/api/v1/auth/logout", tok, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	waitCode(a, tok, 401, "after the logout, here")
	waitCode(b, tok, 401, "after the logout, on the other instance")

	// A new password: every session ends, on both.
	tok = a.LoginStaff(t, "roaming", "Staff-Pass-2026")
	waitCode(b, tok, 200, "a new session on the other instance")
	if r := b.Do(t, "POST", "/api/v1/admin/staff/"+id+"/password", admin, map[string]string{"password": "New-Pass-2026!"}); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	waitCode(a, tok, 401, "after a new password")
	// Disabled: the same.
	tok = b.LoginStaff(t, "roaming", "New-Pass-2026!")
	waitCode(a, tok, 200, "a session after the reset")
	if r := a.Do(t, "PATCH", "/api/v1/admin/staff/"+id, admin, map[string]any{"active": false}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	waitCode(b, tok, 401, "after disabling")

	// A resident signs out.
	rtok, _ := a.Login(t, "roaming-resident")
	waitCode(b, rtok, 200, "the resident on the other instance")
	if r := b.Do(t, "POST", "/api/v1/auth/logout", rtok, nil); r.Status != 204 {
		t.Fatal(r.Status)
	}
	waitCode(a, rtok, 401, "the resident after signing out")
	// Logging in again gives a session that works.
	rtok, _ = a.Login(t, "roaming-resident")
	waitCode(b, rtok, 200, "the resident's new session")
}
