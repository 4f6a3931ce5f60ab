package main

import (
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
	"github.com/citizen-city/chengguantong/workcal"
)

// ticketView is what these tests read of a ticket, in any of its views.
type ticketView struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Source    string     `json:"source"`
	DueAt     *time.Time `json:"due_at"`
	Self      bool       `json:"self_handled"`
	Urges     int        `json:"urges"`
	Fails     int        `json:"verify_fails"`
	Flags     []string   `json:"photo_flags"`
	Deferred  string     `json:"deferred_from"`
	Extension *struct {
		Status string `json:"status"`
		Hours  int    `json:"hours"`
	} `json:"extension"`
	Assignee *struct {
		ID string `json:"id"`
	} `json:"assignee"`
	Caller *struct {
		Name, Phone string
	} `json:"caller"`
	Timeline []struct {
		Type, Name, Status string
	} `json:"timeline"`
}

func decodeTicket(t *testing.T, r *apitest.Response, want int) ticketView {
	t.Helper()
	if r.Status != want {
		t.Fatalf("want %d, got %d %s", want, r.Status, r.Body)
	}
	var v ticketView
	r.Decode(t, &v)
	return v
}

// TestWorkflowBranches: 延期 moves the deadline by working hours, 挂账 stops
// everything but resume, 督办 is recorded with its GB/T 30428 name, a failed
// 核查 sends the ticket back to the same assignee — all through HTTP.
func TestWorkflowBranches(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"吴网格": gridA}, nil)
	w := c.workers["吴网格"]
	cal, err := workcal.New(workcal.China2026())
	if err != nil {
		t.Fatal(err)
	}
	_, id := c.report(t, "wf-resident", "1101", nil)
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w.token, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}

	// 延期: 8 more hours, approved.
	asked := decodeTicket(t, s.Do(t, "POST", "/api/v1/tasks/"+id+"/extension", w.token, map[string]any{"hours": 8, "reason": "需要协调园林部门"}), 200)
	if asked.Extension == nil || asked.Extension.Status != "requested" || asked.Extension.Hours != 8 || asked.DueAt == nil {
		t.Fatalf("extension request: %+v", asked)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/extension", w.token, map[string]any{"hours": 4, "reason": "再等等"}); r.Status != 409 {
		t.Fatalf("a second pending request: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{{"hours": 0, "reason": "x"}, {"hours": 721, "reason": "x"}, {"reason": "x"}, {"hours": 8, "reason": " "}} {
		if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/extension", w.token, bad); r.Status != 400 {
			t.Errorf("extension %v: %d %s", bad, r.Status, r.Body)
		}
	}
	approved := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/extension", c.staff, map[string]any{"approve": true}), 200)
	if want := cal.Add(*asked.DueAt, 8*time.Hour); approved.DueAt == nil || !approved.DueAt.Equal(want) || approved.Extension.Status != "approved" {
		t.Fatalf("approved: due %v, want %v (8 working hours after %v); %+v", approved.DueAt, want, asked.DueAt, approved.Extension)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/extension", c.staff, map[string]any{"approve": true}); r.Status != 409 {
		t.Fatalf("a decision with nothing pending: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/extension", w.token, map[string]any{"approve": true}); r.Status != 403 {
		t.Fatalf("a worker decides: %d", r.Status)
	}

	// 督办.
	urged := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/urge", c.staff, map[string]any{"note": "请今天内处理"}), 200)
	if last := urged.Timeline[len(urged.Timeline)-1]; last.Type != "urged" || last.Name != "督办" || urged.Urges != 1 {
		t.Fatalf("urge: %+v", urged.Timeline)
	}

	// 挂账: nothing but resume.
	deferred := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/defer", c.staff, map[string]any{"reason": "等待专项资金"}), 200)
	if deferred.Status != "deferred" || deferred.Deferred != "in_progress" {
		t.Fatalf("defer: %+v", deferred)
	}
	photo := uploadPhoto(t, s, w.token)["id"].(string)
	resolve := map[string]any{"note": "已修剪", "photo_ids": []string{photo}}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w.token, resolve); r.Status != 409 || !strings.Contains(string(r.Body), "挂账") {
		t.Fatalf("resolve while deferred: %d %s", r.Status, r.Body)
	}
	for _, step := range []string{"urge", "defer", "verify"} {
		if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/"+step, c.staff, map[string]any{"note": "x", "reason": "x", "passed": true}); r.Status != 409 {
			t.Errorf("%s while deferred: %d %s", step, r.Status, r.Body)
		}
	}
	resumed := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/resume", c.staff, nil), 200)
	if resumed.Status != "in_progress" || resumed.DueAt == nil || resumed.DueAt.Before(*approved.DueAt) {
		t.Fatalf("resume: %+v (due before the deferral %v)", resumed, approved.DueAt)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/resume", c.staff, nil); r.Status != 409 {
		t.Fatalf("resume of a ticket not deferred: %d", r.Status)
	}

	// 核查 fails: back to the same worker.
	decodeTicket(t, s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w.token, resolve), 200)
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/verify", c.staff, map[string]any{"passed": false}); r.Status != 400 {
		t.Fatalf("a failed 核查 without a note: %d %s", r.Status, r.Body)
	}
	failed := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/verify", c.staff, map[string]any{"passed": false, "note": "树枝未清运"}), 200)
	if failed.Status != "in_progress" || failed.Assignee == nil || approved.Assignee == nil || failed.Assignee.ID != approved.Assignee.ID || failed.Fails != 1 {
		t.Fatalf("failed 核查: %+v", failed)
	}
	if last := failed.Timeline[len(failed.Timeline)-1]; last.Type != "verify_failed" || last.Name != "返工" {
		t.Fatalf("failed 核查 event: %+v", last)
	}
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	again := map[string]any{"note": "已清运", "photo_ids": []string{uploadPhoto(t, s, w.token)["id"].(string)}}
	resolved := decodeTicket(t, s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w.token, again), 200)
	if resolved.Status != "resolved" {
		t.Fatalf("resolved again: %+v", resolved)
	}
	closed := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/verify", c.staff, map[string]any{"passed": true, "note": "现场已整洁"}), 200)
	if closed.Status != "closed" || closed.Timeline[len(closed.Timeline)-1].Name != "核查" {
		t.Fatalf("passed 核查: %+v", closed)
	}
	// The test photos say they were taken on 2026-11-20, before the
	// dispatch: the resolution is flagged for 核查, for staff only.
	if len(closed.Flags) == 0 || !strings.Contains(closed.Flags[0], "拍摄时间") {
		t.Fatalf("photo flags: %q", closed.Flags)
	}
	if r := s.Do(t, "GET", "/api/v1/tasks", w.token, nil); strings.Contains(string(r.Body), "拍摄时间") {
		t.Fatal("the worker's task list shows the staff's photo flags")
	}

	// The evaluation counts each branch once.
	waitSummary(t, s, c.staff, "", func(m map[string]any) bool {
		return m["extended"] == 1.0 && m["urged"] == 1.0 && m["deferred"] == 1.0 && m["verify_failed"] == 1.0 &&
			m["closed"] == 1.0 && m["photo_flagged"] == 1.0 && m["dispatched"] == 1.0
	})

	// The ranking: the grid's one closed ticket is a sample of 1.
	var rk struct {
		Items []struct {
			Key    string
			Rank   int
			Score  float64
			Sample int
			OnTime float64 `json:"on_time_rate"`
		}
		Excluded []struct{ Key string }
	}
	s.Do(t, "GET", "/api/v1/stats/ranking?by=grid&min_sample=1", c.staff, nil).Decode(t, &rk)
	if len(rk.Items) != 1 || rk.Items[0].Key != gridA || rk.Items[0].Rank != 1 || rk.Items[0].Sample != 1 || rk.Items[0].OnTime != 1 ||
		rk.Items[0].Score <= 0 || len(rk.Excluded) != 0 {
		t.Fatalf("ranking with min_sample 1: %+v", rk)
	}
	s.Do(t, "GET", "/api/v1/stats/ranking?by=worker&min_sample=2", c.staff, nil).Decode(t, &rk)
	if len(rk.Items) != 0 || len(rk.Excluded) != 1 || rk.Excluded[0].Key != w.id {
		t.Fatalf("ranking of workers with min_sample 2: %+v", rk)
	}
}

// waitSummary polls /stats/summary?group_by= until ok holds of it.
func waitSummary(t *testing.T, s *testServer, staff, groupBy string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		r := s.Do(t, "GET", "/api/v1/stats/summary?group_by="+groupBy, staff, nil)
		if r.Status != 200 {
			t.Fatalf("summary: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("summary never got there: %s", r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWorkflowChannels: a patrol case, a self-handled one and a hotline
// case are routed and counted by source; the caller stays the staff's; the
// ranking leaves out units with too few tickets.
func TestWorkflowChannels(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"吴网格": gridA}, nil)
	w := c.workers["吴网格"]

	// A resident cannot send a patrol case.
	resTok, _ := s.Login(t, "ch-resident")
	body := reportBody("1101", uploadPhoto(t, s, resTok)["id"].(string))
	body["source"] = "patrol"
	if r := s.Do(t, "POST", "/api/v1/reports", resTok, body); r.Status != 403 {
		t.Fatalf("a resident's patrol case: %d %s", r.Status, r.Body)
	}
	_, wechatID := c.report(t, "ch-resident-2", "1101", nil)

	// The worker's patrol case is routed like any other (to them: the
	// grid's only worker).
	body = reportBody("1101", uploadPhoto(t, s, w.token)["id"].(string))
	body["source"] = "patrol"
	body["location"] = map[string]any{"lat": 32.037, "lng": 118.782, "coord_type": "wgs84"} // not a duplicate of the resident's
	patrol := decodeTicket(t, s.Do(t, "POST", "/api/v1/reports", w.token, body), 201)
	if patrol.Source != "patrol" {
		t.Fatalf("patrol case: %+v", patrol)
	}
	waitTask(t, s, w.token, "/api/v1/tasks", patrol.ID)

	// 自处置: registered and resolved at once, with before and after photos.
	body = reportBody("0502", uploadPhoto(t, s, w.token)["id"].(string))
	body["source"], body["self_handled"] = "patrol", true
	body["resolution"] = map[string]any{"note": "已当场清理", "photo_ids": []string{uploadPhoto(t, s, w.token)["id"].(string)}}
	self := decodeTicket(t, s.Do(t, "POST", "/api/v1/reports", w.token, body), 201)
	got := waitStatus(t, s, w.token, self.ID, "resolved", "rejected")
	if got.Status != "resolved" {
		t.Fatalf("self-handled case: %+v", got)
	}
	bad := reportBody("0502", uploadPhoto(t, s, w.token)["id"].(string))
	bad["self_handled"] = true
	if r := s.Do(t, "POST", "/api/v1/reports", w.token, bad); r.Status != 400 || !strings.Contains(string(r.Body), "self_handled") {
		t.Fatalf("self-handled without patrol: %d %s", r.Status, r.Body)
	}

	// A hotline case: no WeChat check, routed, the caller for staff only.
	call := map[string]any{"category": "1101", "description": "来电反映：路灯不亮", "address": "幸福路12号", "source": "hotline",
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"}, "caller_name": "钱先生", "caller_phone": "13812345678"}
	hot := decodeTicket(t, s.Do(t, "POST", "/api/v1/admin/tickets", c.staff, call), 201)
	if hot.Source != "hotline" || hot.Caller == nil || hot.Caller.Phone != "138****5678" || hot.Status != "dispatched" {
		t.Fatalf("hotline case: %+v", hot)
	}
	waitTask(t, s, w.token, "/api/v1/tasks", hot.ID)
	if detail := decodeTicket(t, s.Do(t, "GET", "/api/v1/admin/tickets/"+hot.ID, c.staff, nil), 200); detail.Caller == nil ||
		detail.Caller.Name != "钱**" || detail.Source != "hotline" || len(detail.Timeline) == 0 || detail.Timeline[1].Name != "立案" {
		t.Fatalf("the staff's view of the hotline case: %+v", detail)
	}
	for _, path := range []string{"/api/v1/tasks", "/api/v1/reports/" + hot.ID} {
		if r := s.Do(t, "GET", path, w.token, nil); r.Status != 200 || strings.Contains(string(r.Body), "13812345678") || strings.Contains(string(r.Body), "钱先生") {
			t.Fatalf("%s shows the worker the caller: %d %s", path, r.Status, r.Body)
		}
	}
	call["source"] = "wechat"
	if r := s.Do(t, "POST", "/api/v1/admin/tickets", c.staff, call); r.Status != 400 {
		t.Fatalf("a staff case that is not hotline: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets", w.token, call); r.Status != 403 {
		t.Fatalf("a worker enters a hotline case: %d", r.Status)
	}

	// Counted by source.
	groups := func(m map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, g := range m["groups"].([]any) {
			g := g.(map[string]any)
			out[g["key"].(string)] = g
		}
		return out
	}
	waitSummary(t, s, c.staff, "source", func(m map[string]any) bool {
		g := groups(m)
		return g["wechat"] != nil && g["wechat"]["registered"] == 1.0 && g["patrol"] != nil && g["patrol"]["registered"] == 2.0 &&
			g["patrol"]["self_handled"] == 1.0 && g["hotline"] != nil && g["hotline"]["registered"] == 1.0 && g["hotline"]["name"] == "12345 热线"
	})
	_ = wechatID
	byDay := waitSummary(t, s, c.staff, "day", func(m map[string]any) bool { return m["registered"] == 4.0 })
	if days := byDay["groups"].([]any); len(days) == 0 {
		t.Fatalf("by day: %v", byDay)
	}
	byMonth := waitSummary(t, s, c.staff, "month", func(m map[string]any) bool { return m["registered"] == 4.0 })
	months := byMonth["groups"].([]any)
	var registered float64
	for _, g := range months {
		registered += g.(map[string]any)["registered"].(float64)
	}
	if len(months) == 0 || registered != 4 {
		t.Fatalf("by month: %v", byMonth)
	}

	// The ranking: the grid has no closed or overdue ticket yet.
	var rk struct {
		Weights  map[string]float64
		Items    []struct{ Key string }
		Excluded []struct {
			Key    string
			Sample int
		}
	}
	r := s.Do(t, "GET", "/api/v1/stats/ranking?by=grid&min_sample=1", c.staff, nil)
	if r.Status != 200 {
		t.Fatalf("ranking: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &rk)
	if len(rk.Items) != 0 || len(rk.Excluded) != 1 || rk.Excluded[0].Key != gridA || rk.Weights["on_time_rate"] == 0 {
		t.Fatalf("ranking: %s", r.Body)
	}
	for _, q := range []string{"by=street", "", "by=grid&min_sample=-1"} {
		if r := s.Do(t, "GET", "/api/v1/stats/ranking?"+q, c.staff, nil); r.Status != 400 {
			t.Errorf("ranking?%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// TestUrgeNotifiesTheAssignee: a 督办 sends the assignee a subscribe
// message with the staff's note.
func TestUrgeNotifiesTheAssignee(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	sim := newSimulator(t, env["WECHAT_APPID"])
	s := startServer(t, env, options{simulator: sim})
	c := newCity(t, s, map[string]string{"冯网格": gridA}, nil)
	w := c.workers["冯网格"]
	openID := sim.OpenIDFor("worker-" + hexOf("冯网格"))
	sim.Grant(openID, wechatsim.TemplateAssigned, 2) // the dispatch and the urge
	if r := s.Do(t, "POST", "/api/v1/me/subscriptions", w.token, map[string]any{"accepted": []string{"tmpl_assigned", "tmpl_assigned"}}); r.Status != 204 {
		t.Fatalf("subscriptions: %d %s", r.Status, r.Body)
	}
	_, id := c.report(t, "urge-resident", "1101", nil)
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/urge", c.staff, map[string]any{"note": "群众反映强烈，请今天处理"}); r.Status != 200 {
		t.Fatalf("urge: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(patience)
	for {
		var urge *wechatsim.SentMessage
		for _, m := range sim.Sent() {
			if strings.Contains(m.Page, id) && strings.HasPrefix(m.Data["thing1"], "督办：") {
				urge = &m
			}
		}
		if urge != nil {
			if urge.ToUser != openID || !strings.Contains(urge.Data["thing1"], "群众反映强烈") || len([]rune(urge.Data["thing1"])) > 20 {
				t.Fatalf("the urge message: %+v", urge)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no urge message; sent %+v", sim.Sent())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
