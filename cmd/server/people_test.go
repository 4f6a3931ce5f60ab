package main

import (
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// directoryWorker is a row of GET /admin/workers.
type directoryWorker struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Phone     string   `json:"phone"`
	GridCodes []string `json:"grid_codes"`
	Bound     bool     `json:"bound"`
	OnDuty    bool     `json:"on_duty"`
	OpenTasks int      `json:"open_tasks"`
	Active    bool     `json:"active"`
	CreatedAt string   `json:"created_at"`
}

type workerPage struct {
	Items      []directoryWorker `json:"items"`
	NextCursor string            `json:"next_cursor"`
	Total      int               `json:"total"`
}

// wantError checks a failed response: its status, the envelope's code, a
// message in Chinese that mentions every one of mention.
func wantError(t *testing.T, r *apitest.Response, status int, code string, mention ...string) {
	t.Helper()
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("want %d %s, got %d %s", status, code, r.Status, r.Body)
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	r.Decode(t, &e)
	msg := e.Error.Message
	if !strings.ContainsFunc(msg, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Fatalf("message is not Chinese: %q", msg)
	}
	for _, m := range mention {
		if !strings.Contains(msg, m) && e.Error.Field != m {
			t.Fatalf("message %q (field %q) does not name %q", msg, e.Error.Field, m)
		}
	}
}

func TestPeopleDirectory(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, nil, nil)
	staff := c.staff

	// Creating: grid codes and communities must exist, phones be free.
	r := s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": "王一", "phone": "13900001001", "grid_codes": []string{gridA, "999"}})
	wantError(t, r, 400, "invalid_argument", "grid_codes[1]", "负责网格「999」不存在")
	for _, bad := range []map[string]any{
		{"name": "", "phone": "13900001001", "grid_codes": []string{gridA}},
		{"name": "王一", "phone": "1390000", "grid_codes": []string{gridA}},
		{"name": "王一", "phone": "13900001001", "grid_codes": []string{}},
	} {
		// A clerk reads the field in words, never its JSON path alone.
		var e struct {
			Error struct{ Message, Field string } `json:"error"`
		}
		s.Do(t, "POST", "/api/v1/admin/workers", staff, bad).Decode(t, &e)
		if e.Error.Field == "" || strings.Contains(e.Error.Message, e.Error.Field) ||
			!strings.ContainsAny(e.Error.Message, "姓名手机号负责网格") {
			t.Errorf("%v: message %q, field %q", bad, e.Error.Message, e.Error.Field)
		}
	}
	mk := func(name, phone string, grids ...string) (id, invite string) {
		t.Helper()
		r := s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": name, "phone": phone, "grid_codes": grids})
		if r.Status != 201 {
			t.Fatalf("create worker %s: %d %s", name, r.Status, r.Body)
		}
		m := r.JSON(t)
		return m["id"].(string), m["invite_code"].(string)
	}
	w1, inv1 := mk("王一", "13900001001", gridA)
	w2, inv2 := mk("李二", "13900001002", gridA)
	w3, inv3 := mk("赵三", "13900001003", gridB)
	r = s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": "重号", "phone": "13900001001", "grid_codes": []string{gridB}})
	wantError(t, r, 409, "conflict", "13900001001", "王一")

	// Listing: total, filters, paging.
	var page workerPage
	s.Do(t, "GET", "/api/v1/admin/workers", staff, nil).Decode(t, &page)
	if page.Total != 3 || len(page.Items) != 3 || page.Items[0].ID != w1 || page.Items[0].Phone != "13900001001" || page.Items[0].Bound || !page.Items[0].Active {
		t.Fatalf("directory: %+v", page)
	}
	s.Do(t, "GET", "/api/v1/admin/workers?grid="+gridA+"&limit=1", staff, nil).Decode(t, &page)
	if page.Total != 2 || len(page.Items) != 1 || page.Items[0].ID != w1 || page.NextCursor == "" {
		t.Fatalf("grid A, first page: %+v", page)
	}
	s.Do(t, "GET", "/api/v1/admin/workers?grid="+gridA+"&limit=1&cursor="+page.NextCursor, staff, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != w2 || page.NextCursor != "" {
		t.Fatalf("grid A, second page: %+v", page)
	}
	for q, want := range map[string]string{"赵": w3, "1002": w2, "王 1001": w1} {
		s.Do(t, "GET", "/api/v1/admin/workers?q="+url.QueryEscape(q), staff, nil).Decode(t, &page)
		if page.Total != 1 || page.Items[0].ID != want {
			t.Fatalf("q=%s: %+v", q, page)
		}
	}
	wantError(t, s.Do(t, "GET", "/api/v1/admin/workers?active=maybe", staff, nil), 400, "invalid_argument", "active")
	wantError(t, s.Do(t, "GET", "/api/v1/admin/workers?q=a+b+c+d+e+f", staff, nil), 400, "invalid_argument", "q")
	wantError(t, s.Do(t, "GET", "/api/v1/admin/workers?limit=0", staff, nil), 400, "invalid_argument", "limit")
	wantError(t, s.Do(t, "GET", "/api/v1/admin/workers?cursor=forged", staff, nil), 400, "invalid_argument", "cursor")

	// Bound and on duty: 王一 takes the report, the only one on duty.
	p1 := c.bind(t, "dir-worker-1", inv1)
	resTok, ticket := c.report(t, "dir-resident-1", "1101", nil)
	waitTask(t, s, p1.token, "/api/v1/tasks", ticket)
	var one directoryWorker
	s.Do(t, "GET", "/api/v1/admin/workers/"+w1, staff, nil).Decode(t, &one)
	if !one.Bound || !one.OnDuty || one.OpenTasks != 1 {
		t.Fatalf("王一 after binding and a task: %+v", one)
	}
	p2 := c.bind(t, "dir-worker-2", inv2)

	// Re-inviting: refused for a bound worker; for an unbound one the old
	// code stops working.
	wantError(t, s.Do(t, "POST", "/api/v1/admin/workers/"+w1+"/invite", staff, nil), 409, "conflict", "王一")
	r = s.Do(t, "POST", "/api/v1/admin/workers/"+w3+"/invite", staff, nil)
	if r.Status != 201 || r.JSON(t)["invite_code"] == "" || r.JSON(t)["expires_at"] == nil {
		t.Fatalf("re-invite: %d %s", r.Status, r.Body)
	}
	newInv := r.JSON(t)["invite_code"].(string)
	tok3, _ := s.Login(t, "dir-worker-3")
	if r := s.Do(t, "POST", "/api/v1/me/bind", tok3, map[string]string{"invite_code": inv3}); r.Status != 404 {
		t.Fatalf("the replaced invite still binds: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/me/bind", tok3, map[string]string{"invite_code": newInv}); r.Status != 200 {
		t.Fatalf("the new invite: %d %s", r.Status, r.Body)
	}

	// Editing.
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, map[string]any{"phone": "13900001001"}), 409, "conflict", "13900001001")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, map[string]any{"grid_codes": []string{"nope"}}), 400, "invalid_argument", "grid_codes[0]", "nope")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, map[string]any{"phone": "123"}), 400, "invalid_argument", "phone")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, `{"active": "no"}`), 400, "invalid_argument", "active")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, map[string]any{"name": ""}), 400, "invalid_argument", "name")
	r = s.Do(t, "PATCH", "/api/v1/admin/workers/"+w2, staff, map[string]any{"name": "李二新", "grid_codes": []string{gridA, gridB}})
	r.Decode(t, &one)
	if r.Status != 200 || one.Name != "李二新" || len(one.GridCodes) != 2 || one.Phone != "13900001002" || !one.Bound {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}

	// Deactivating 王一: off duty, out of the role, the task goes to 李二.
	r = s.Do(t, "PATCH", "/api/v1/admin/workers/"+w1, staff, map[string]any{"active": false})
	r.Decode(t, &one)
	if r.Status != 200 || one.Active || one.OnDuty || one.OpenTasks != 0 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	waitTask(t, s, p2.token, "/api/v1/tasks", ticket)
	if rep := waitStatus(t, s, resTok, ticket, "dispatched"); !strings.Contains(timelineTypes(rep), "returned") {
		t.Fatalf("timeline after deactivation: %s", timelineTypes(rep))
	}
	if r := s.Do(t, "GET", "/api/v1/tasks", p1.token, nil); r.Status != 403 {
		t.Fatalf("a deactivated worker's tasks: %d %s", r.Status, r.Body)
	}
	s.Do(t, "GET", "/api/v1/admin/workers?active=false", staff, nil).Decode(t, &page)
	if page.Total != 1 || page.Items[0].ID != w1 {
		t.Fatalf("inactive workers: %+v", page)
	}
	wantError(t, s.Do(t, "POST", "/api/v1/admin/workers/"+w1+"/invite", staff, nil), 409, "conflict", "王一")
	// Its phone is free again; taking it back while someone has it is not.
	w4, _ := mk("王一接任", "13900001001", gridA)
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/"+w1, staff, map[string]any{"active": true}), 409, "conflict", "王一接任")
	if r := s.Do(t, "PATCH", "/api/v1/admin/workers/"+w4, staff, map[string]any{"phone": "13900001004"}); r.Status != 200 {
		t.Fatalf("move the phone: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "PATCH", "/api/v1/admin/workers/"+w1, staff, map[string]any{"active": true})
	r.Decode(t, &one)
	if r.Status != 200 || !one.Active {
		t.Fatalf("reactivate: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/tasks", p1.token, nil); r.Status != 200 {
		t.Fatalf("a reactivated worker's tasks: %d %s", r.Status, r.Body)
	}

	// Authorization and unknown ids.
	resident, _ := s.Login(t, "dir-resident-2")
	for _, call := range [][2]string{{"GET", "/api/v1/admin/workers"}, {"GET", "/api/v1/admin/workers/" + w1}, {"PATCH", "/api/v1/admin/workers/" + w1},
		{"POST", "/api/v1/admin/workers/" + w1 + "/invite"}, {"GET", "/api/v1/admin/party-members"}, {"GET", "/api/v1/admin/branches"}} {
		r := s.Do(t, call[0], call[1], resident, map[string]any{"name": "x"})
		if r.Status != 403 || r.ErrorCode() != "permission_denied" {
			t.Fatalf("%s %s as a resident: %d %s", call[0], call[1], r.Status, r.Body)
		}
		if r := s.Do(t, call[0], call[1], "", nil); r.Status != 401 {
			t.Fatalf("%s %s without a token: %d", call[0], call[1], r.Status)
		}
	}
	wantError(t, s.Do(t, "GET", "/api/v1/admin/workers/000000000000000000000000", staff, nil), 404, "not_found", "000000000000000000000000")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/workers/000000000000000000000000", staff, map[string]any{"name": "x"}), 404, "not_found")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/workers/000000000000000000000000/invite", staff, nil), 404, "not_found")
	// A grid by its name: stored by its code.
	byName := s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": "名网格", "phone": "13900001009",
		"grid_codes": []string{"幸福里二网格"}})
	if byName.Status != 201 {
		t.Fatalf("a grid by name: %d %s", byName.Status, byName.Body)
	}
	var named struct {
		GridCodes []string `json:"grid_codes"`
	}
	s.Do(t, "GET", "/api/v1/admin/workers/"+byName.JSON(t)["id"].(string), staff, nil).Decode(t, &named)
	if len(named.GridCodes) != 1 || named.GridCodes[0] != gridB {
		t.Fatalf("grid by name stored as %v, want [%s]", named.GridCodes, gridB)
	}
}

func TestPartyMemberDirectory(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, nil, nil)
	staff := c.staff
	mkBranch := func(name string) string {
		r := s.Do(t, "POST", "/api/v1/admin/branches", staff, map[string]string{"name": name})
		if r.Status != 201 {
			t.Fatalf("branch: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["id"].(string)
	}
	b1, b2 := mkBranch("第一党支部"), mkBranch("第二党支部")
	r := s.Do(t, "POST", "/api/v1/admin/party-members", staff, map[string]any{"name": "党员甲", "phone": "13700000001", "branch_id": b1, "communities": []string{"幸福里社区", "无此社区"}})
	wantError(t, r, 400, "invalid_argument", "communities[1]", "无此社区")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/party-members", staff, map[string]any{"name": "党员甲", "phone": "13700000001", "branch_id": "nope", "communities": []string{"幸福里社区"}}),
		400, "invalid_argument", "branch_id")
	mk := func(name, phone, branch string) (string, string) {
		t.Helper()
		r := s.Do(t, "POST", "/api/v1/admin/party-members", staff, map[string]any{"name": name, "phone": phone, "branch_id": branch, "communities": []string{"幸福里社区"}})
		if r.Status != 201 {
			t.Fatalf("member %s: %d %s", name, r.Status, r.Body)
		}
		return r.JSON(t)["id"].(string), r.JSON(t)["invite_code"].(string)
	}
	m1, inv1 := mk("党员甲", "13700000001", b1)
	m2, _ := mk("党员乙", "13700000002", b1)
	wantError(t, s.Do(t, "POST", "/api/v1/admin/party-members", staff, map[string]any{"name": "重号", "phone": "13700000001", "branch_id": b2, "communities": []string{"幸福里社区"}}),
		409, "conflict", "13700000001")
	// One person may be a worker and a party member with one phone.
	if r := s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": "党员甲", "phone": "13700000001", "grid_codes": []string{gridA}}); r.Status != 201 {
		t.Fatalf("a member's phone for a worker: %d %s", r.Status, r.Body)
	}

	type member struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Phone       string   `json:"phone"`
		BranchID    string   `json:"branch_id"`
		BranchName  string   `json:"branch_name"`
		Communities []string `json:"communities"`
		Bound       bool     `json:"bound"`
		OnDuty      bool     `json:"on_duty"`
		OpenTasks   int      `json:"open_tasks"`
		Active      bool     `json:"active"`
	}
	var page struct {
		Items      []member `json:"items"`
		NextCursor string   `json:"next_cursor"`
		Total      int      `json:"total"`
	}
	s.Do(t, "GET", "/api/v1/admin/party-members", staff, nil).Decode(t, &page)
	if page.Total != 2 || page.Items[0].ID != m1 || page.Items[0].BranchName != "第一党支部" || page.Items[0].Phone != "13700000001" {
		t.Fatalf("members: %+v", page)
	}
	c.bind(t, "dir-member-1", inv1)
	var one member
	s.Do(t, "GET", "/api/v1/admin/party-members/"+m1, staff, nil).Decode(t, &one)
	if !one.Bound || !one.OnDuty || !one.Active {
		t.Fatalf("bound member: %+v", one)
	}
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/party-members/"+m2, staff, map[string]any{"communities": []string{"x"}}), 400, "invalid_argument", "communities[0]")
	r = s.Do(t, "PATCH", "/api/v1/admin/party-members/"+m2, staff, map[string]any{"branch_id": b2})
	r.Decode(t, &one)
	if r.Status != 200 || one.BranchName != "第二党支部" {
		t.Fatalf("move branch: %d %s", r.Status, r.Body)
	}

	type branches struct {
		Items []struct {
			ID, Name string
			Members  int
		} `json:"items"`
	}
	var bs branches
	s.Do(t, "GET", "/api/v1/admin/branches", staff, nil).Decode(t, &bs)
	if len(bs.Items) != 2 || bs.Items[0].ID != b1 || bs.Items[0].Members != 1 || bs.Items[1].Members != 1 {
		t.Fatalf("branches: %+v", bs)
	}
	// Deactivating 党员甲: off duty, no longer counted in the branch.
	r = s.Do(t, "PATCH", "/api/v1/admin/party-members/"+m1, staff, map[string]any{"active": false})
	r.Decode(t, &one)
	if r.Status != 200 || one.Active || one.OnDuty {
		t.Fatalf("deactivate member: %d %s", r.Status, r.Body)
	}
	s.Do(t, "GET", "/api/v1/admin/branches", staff, nil).Decode(t, &bs)
	if bs.Items[0].Members != 0 {
		t.Fatalf("branch after deactivation: %+v", bs)
	}
	r = s.Do(t, "PATCH", "/api/v1/admin/branches/"+b1, staff, map[string]any{"name": "幸福里第一党支部"})
	if r.Status != 200 || r.JSON(t)["name"] != "幸福里第一党支部" {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/branches/"+b1, staff, map[string]any{}), 400, "invalid_argument", "name")
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/branches/000000000000000000000000", staff, map[string]any{"name": "x"}), 404, "not_found")
	wantError(t, s.Do(t, "GET", "/api/v1/admin/party-members/000000000000000000000000", staff, nil), 404, "not_found")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/party-members/"+m1+"/invite", staff, nil), 409, "conflict")
	if r := s.Do(t, "POST", "/api/v1/admin/party-members/"+m2+"/invite", staff, nil); r.Status != 201 {
		t.Fatalf("invite member: %d %s", r.Status, r.Body)
	}
}
