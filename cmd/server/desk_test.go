package main

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var caseNoPattern = regexp.MustCompile(`^\d{8}-\d{4,}$`)

// deskTicket is a staff list item or ticket as the dispatch desk reads it.
type deskTicket struct {
	ID         string `json:"id"`
	CaseNo     string `json:"case_no"`
	Status     string `json:"status"`
	Source     string `json:"source"`
	DueAt      string `json:"due_at"`
	Held       bool   `json:"held"`
	HeldReason string `json:"held_reason"`
	Overdue    bool   `json:"overdue"`
	Late       bool   `json:"late"`
	Assignee   *struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Role        string   `json:"role"`
		GridCodes   []string `json:"grid_codes"`
		Communities []string `json:"communities"`
	} `json:"assignee"`
	Timeline []struct {
		Type, Note string
	} `json:"timeline"`
}

type deskList struct {
	Items       []deskTicket `json:"items"`
	Total       int64        `json:"total"`
	TotalCapped bool         `json:"total_capped"`
}

// directory returns the people directory's ids of the workers and party
// members, by name.
func directory(t *testing.T, s *testServer, staff string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, path := range []string{"/api/v1/admin/workers?limit=100", "/api/v1/admin/party-members?limit=100"} {
		var page struct {
			Items []struct{ ID, Name string } `json:"items"`
		}
		s.Do(t, "GET", path, staff, nil).Decode(t, &page)
		for _, p := range page.Items {
			out[p.Name] = p.ID
		}
	}
	return out
}

// TestCaseNumbersEverywhere: a ticket's case number is in every view, finds
// it in the staff's search, and is taken by every route that takes its id
// (the resident's, the assignee's, the staff's); the picker knows where
// each person serves and asks before dispatching someone off duty; staff
// read the timeline with real names.
func TestCaseNumbersEverywhere(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"张网格": gridA, "李网格": gridB}, []string{"王党员"})
	resTok, id := c.report(t, "desk-resident", "1101", nil)
	zhang, li := c.workers["张网格"], c.workers["李网格"]
	dir := directory(t, s, c.staff)
	zhang.id, li.id = dir["张网格"], dir["李网格"]
	waitTask(t, s, zhang.token, "/api/v1/tasks", id)

	var mine struct {
		ID     string `json:"id"`
		CaseNo string `json:"case_no"`
	}
	s.Do(t, "GET", "/api/v1/reports/"+id, resTok, nil).Decode(t, &mine)
	caseNo := mine.CaseNo
	if !caseNoPattern.MatchString(caseNo) {
		t.Fatalf("the report's case_no %q", caseNo)
	}
	// The resident reads it by case number; another resident gets a 404 that
	// does not give the id away.
	if r := s.Do(t, "GET", "/api/v1/reports/"+caseNo, resTok, nil); r.Status != 200 || r.JSON(t)["id"] != id {
		t.Fatalf("GET /reports/{case_no}: %d %s", r.Status, r.Body)
	}
	stranger, _ := s.Login(t, "desk-stranger")
	if r := s.Do(t, "GET", "/api/v1/reports/"+caseNo, stranger, nil); r.Status != 404 || strings.Contains(string(r.Body), id) {
		t.Fatalf("another resident by case number: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/reports/20000101-0001", resTok, nil); r.Status != 404 {
		t.Fatalf("an unknown case number: %d", r.Status)
	}
	// The worker: the task shows it, and the steps take it.
	if r := s.Do(t, "GET", "/api/v1/tasks", zhang.token, nil); !strings.Contains(string(r.Body), `"case_no":"`+caseNo+`"`) {
		t.Fatalf("the task list has no case_no: %s", r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+caseNo+"/accept", zhang.token, nil); r.Status != 200 || r.JSON(t)["id"] != id {
		t.Fatalf("accept by case number: %d %s", r.Status, r.Body)
	}

	// Staff: one ticket, the search, the list item.
	var one deskTicket
	if r := s.Do(t, "GET", "/api/v1/admin/tickets/"+caseNo, c.staff, nil); r.Status != 200 {
		t.Fatalf("staff ticket by case number: %d %s", r.Status, r.Body)
	} else {
		r.Decode(t, &one)
	}
	if one.ID != id || one.CaseNo != caseNo {
		t.Fatalf("staff ticket: %+v", one)
	}
	// The dispatch's note was written for the resident (张*); staff read
	// the real name.
	var dispatched string
	for _, e := range one.Timeline {
		if e.Type == "dispatched" {
			dispatched = e.Note
		}
	}
	if !strings.Contains(dispatched, "张网格") || strings.Contains(dispatched, "张*") {
		t.Fatalf("staff read the dispatch note %q", dispatched)
	}
	var rep report
	s.Do(t, "GET", "/api/v1/reports/"+id, resTok, nil).Decode(t, &rep)
	if note := rep.Timeline[len(rep.Timeline)-2].Note; strings.Contains(note, "张网格") {
		t.Fatalf("the resident reads a worker's full name: %q", note)
	}
	var list deskList
	s.Do(t, "GET", "/api/v1/admin/tickets?q="+caseNo, c.staff, nil).Decode(t, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != id {
		t.Fatalf("search by case number: %+v", list)
	}
	it := list.Items[0]
	if it.CaseNo != caseNo || it.Source != "wechat" || it.DueAt == "" || it.Held || it.Assignee == nil ||
		it.Assignee.ID != zhang.id || it.Assignee.Name != "张网格" || it.Assignee.Role != "grid_worker" ||
		len(it.Assignee.GridCodes) != 1 || it.Assignee.GridCodes[0] != gridA {
		t.Fatalf("list item: %+v, assignee %+v", it, it.Assignee)
	}

	// The picker: the ticket's own grid's worker first and marked, each
	// with where they serve.
	var cands struct {
		Items []struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			Own         bool     `json:"own"`
			OnDuty      bool     `json:"on_duty"`
			OpenTasks   int      `json:"open_tasks"`
			GridCodes   []string `json:"grid_codes"`
			GridNames   []string `json:"grid_names"`
			Communities []string `json:"communities"`
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/tickets/"+caseNo+"/candidates", c.staff, nil).Decode(t, &cands)
	if len(cands.Items) != 3 {
		t.Fatalf("candidates: %+v", cands)
	}
	first, member, other := cands.Items[0], cands.Items[1], cands.Items[2]
	if first.ID != zhang.id || !first.Own || !first.OnDuty || first.OpenTasks != 1 ||
		strings.Join(first.GridNames, ",") != "幸福里一网格" || strings.Join(first.GridCodes, ",") != gridA {
		t.Fatalf("the own grid's worker: %+v", first)
	}
	if member.Own || strings.Join(member.Communities, ",") != "幸福里社区" || len(member.GridCodes) != 0 {
		t.Fatalf("the community's member: %+v", member)
	}
	if other.ID != li.id || other.Own || strings.Join(other.GridNames, ",") != "幸福里二网格" {
		t.Fatalf("another grid's worker: %+v", other)
	}

	// Someone off duty: the dispatch asks for a confirmation, then goes.
	if r := s.Do(t, "PUT", "/api/v1/me/duty", li.token, map[string]bool{"on_duty": false}); r.Status != 200 {
		t.Fatalf("off duty: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "POST", "/api/v1/admin/tickets/"+caseNo+"/dispatch", c.staff, map[string]any{"assignee_id": li.id})
	wantError(t, r, 400, "invalid_argument", "confirm_off_duty", "李网格", "不在岗")
	r = s.Do(t, "POST", "/api/v1/admin/tickets/"+caseNo+"/dispatch", c.staff, map[string]any{"assignee_id": li.id, "confirm_off_duty": true})
	if r.Status != 200 {
		t.Fatalf("confirmed dispatch: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &one)
	if last := one.Timeline[len(one.Timeline)-1]; last.Type != "dispatched" || !strings.Contains(last.Note, "不在岗") ||
		one.Assignee == nil || one.Assignee.ID != li.id {
		t.Fatalf("after the confirmed dispatch: %+v", one)
	}
	// Every staff step takes the case number.
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+caseNo+"/urge", c.staff, map[string]string{"note": "请尽快处置"}); r.Status != 200 {
		t.Fatalf("urge by case number: %d %s", r.Status, r.Body)
	}
}

// TestFeedbackRules: satisfied and rating agree; a rating changes once,
// never across satisfied; the statistics follow the change exactly once.
func TestFeedbackRules(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"孙网格": gridA}, nil)
	w := c.workers["孙网格"]
	resTok, id := c.report(t, "feedback-resident", "1101", nil)
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w.token, nil)
	after := uploadPhoto(t, s, w.token)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w.token, map[string]any{"note": "已更换", "photo_ids": []string{after}}); r.Status != 200 {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	fb := "/api/v1/reports/" + id + "/feedback"
	wantError(t, s.Do(t, "POST", fb, resTok, map[string]any{"satisfied": true, "rating": 1}), 400, "invalid_argument", "rating", "满意")
	wantError(t, s.Do(t, "POST", fb, resTok, map[string]any{"satisfied": false, "rating": 4}), 400, "invalid_argument", "rating", "不满意")
	if r := s.Do(t, "PUT", fb, resTok, map[string]any{"rating": 4}); r.Status != 409 {
		t.Fatalf("a change before any rating: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", fb, resTok, map[string]any{"satisfied": true, "rating": 4, "comment": "还行"}); r.Status != 200 || r.JSON(t)["status"] != "closed" {
		t.Fatalf("satisfied feedback: %d %s", r.Status, r.Body)
	}
	// ratings waits for the statistics to count what was committed (on
	// MongoDB an applier counts a moment later) and returns them.
	ratings := func(scored, points float64) (float64, float64) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for {
			m := s.Do(t, "GET", "/api/v1/stats/summary", c.staff, nil).JSON(t)
			sc, pts := m["scored"].(float64), m["rating_points"].(float64)
			if sc == scored && pts == points || time.Now().After(deadline) {
				return sc, pts
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if sc, pts := ratings(1, 4); sc != 1 || pts != 4 {
		t.Fatalf("after the rating: scored %v points %v", sc, pts)
	}
	// Across satisfied: refused, whether said or implied by the rating.
	if r := s.Do(t, "PUT", fb, resTok, map[string]any{"rating": 2}); r.Status != 409 {
		t.Fatalf("a change to unsatisfied by rating: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "PUT", fb, resTok, map[string]any{"satisfied": false, "rating": 2}); r.Status != 409 {
		t.Fatalf("a change to unsatisfied: %d %s", r.Status, r.Body)
	}
	wantError(t, s.Do(t, "PUT", fb, resTok, map[string]any{"satisfied": true, "rating": 2}), 400, "invalid_argument", "rating")
	other, _ := s.Login(t, "feedback-stranger")
	if r := s.Do(t, "PUT", fb, other, map[string]any{"rating": 5}); r.Status != 404 {
		t.Fatalf("someone else's change: %d", r.Status)
	}
	var rep struct {
		Status   string `json:"status"`
		Feedback struct {
			Satisfied bool   `json:"satisfied"`
			Rating    int    `json:"rating"`
			Comment   string `json:"comment"`
		} `json:"feedback"`
		Timeline []struct{ Type, Note string } `json:"timeline"`
	}
	r := s.Do(t, "PUT", fb, resTok, map[string]any{"rating": 5, "comment": "很满意"})
	if r.Status != 200 {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &rep)
	if last := rep.Timeline[len(rep.Timeline)-1]; rep.Status != "closed" || !rep.Feedback.Satisfied || rep.Feedback.Rating != 5 ||
		rep.Feedback.Comment != "很满意" || last.Type != "rating_changed" || !strings.Contains(last.Note, "4 分改为 5 分") {
		t.Fatalf("after the change: %+v", rep)
	}
	if sc, pts := ratings(1, 5); sc != 1 || pts != 5 {
		t.Fatalf("after the change: scored %v points %v, want 1 and 5", sc, pts)
	}
	if r := s.Do(t, "PUT", fb, resTok, map[string]any{"rating": 3}); r.Status != 409 {
		t.Fatalf("a second change: %d %s", r.Status, r.Body)
	}
	time.Sleep(500 * time.Millisecond) // what a double count would need
	if sc, pts := ratings(1, 5); sc != 1 || pts != 5 {
		t.Fatalf("after a refused change: scored %v points %v", sc, pts)
	}
}

// TestOverviewFiguresEqualTheirLists: every figure of the overview is the
// total of the list its query opens, as tickets go overdue, get closed late
// and are rejected.
func TestOverviewFiguresEqualTheirLists(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)) // a Monday morning
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	env := testEnv(t)
	env["TOKEN_TTL"] = "240h"
	s := startServer(t, env, options{now: now})
	c := newCity(t, s, map[string]string{"周网格": gridA}, nil)
	w := c.workers["周网格"]
	resTok, late := c.report(t, "overview-1", "1101", nil) // 井盖: 2 working hours
	_, open := c.report(t, "overview-2", "0103", nil)
	_, rejected := c.report(t, "overview-3", "0202", nil)
	for _, id := range []string{late, open} {
		waitTask(t, s, w.token, "/api/v1/tasks", id)
	}
	waitStatus(t, s, c.staff, rejected, "dispatched")
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+rejected+"/reject", c.staff, map[string]string{"reason": "不属于城管职责"}); r.Status != 200 {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	s.Do(t, "POST", "/api/v1/tasks/"+late+"/accept", w.token, nil)

	type figure struct {
		Key    string `json:"key"`
		Label  string `json:"label"`
		Count  int64  `json:"count"`
		Capped bool   `json:"capped"`
		Query  string `json:"query"`
	}
	check := func(want map[string]int64) {
		t.Helper()
		var ov struct {
			Figures []figure `json:"figures"`
		}
		s.Do(t, "GET", "/api/v1/admin/overview", c.staff, nil).Decode(t, &ov)
		seen := map[string]bool{}
		for _, f := range ov.Figures {
			seen[f.Key] = true
			var list deskList
			r := s.Do(t, "GET", "/api/v1/admin/tickets?limit=1&"+f.Query, c.staff, nil)
			r.Decode(t, &list)
			if r.Status != 200 || list.Total != f.Count || list.TotalCapped != f.Capped || !hasHan(f.Label) {
				t.Errorf("figure %s (%s) = %d, its list ?%s: %d total %d", f.Key, f.Label, f.Count, f.Query, r.Status, list.Total)
			}
			if n, ok := want[f.Key]; ok && f.Count != n {
				t.Errorf("figure %s = %d, want %d", f.Key, f.Count, n)
			}
		}
		for k := range want {
			if !seen[k] {
				t.Errorf("no figure %s", k)
			}
		}
	}
	check(map[string]int64{"open_overdue": 0, "late": 0, "reported_today": 3, "reported_month": 3, "reported_year": 3, "open": 2, "held": 0})

	// Past the deadline: open and overdue.
	advance(3 * time.Hour)
	deadline := time.Now().Add(patience)
	for !strings.Contains(timelineTypes(waitStatus(t, s, resTok, late, "in_progress")), "escalated") {
		if time.Now().After(deadline) {
			t.Fatal("never escalated")
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(map[string]int64{"open_overdue": 1, "late": 0, "open": 2})
	var list deskList
	s.Do(t, "GET", "/api/v1/admin/tickets?overdue=true", c.staff, nil).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != late || !list.Items[0].Overdue {
		t.Fatalf("overdue=true: %+v", list)
	}
	// Resolved and closed after the deadline: late, no longer overdue.
	after := uploadPhoto(t, s, w.token)["id"].(string)
	s.Do(t, "POST", "/api/v1/tasks/"+late+"/resolve", w.token, map[string]any{"note": "已修复", "photo_ids": []string{after}})
	if r := s.Do(t, "POST", "/api/v1/reports/"+late+"/feedback", resTok, map[string]any{"satisfied": true, "rating": 5}); r.Status != 200 {
		t.Fatalf("feedback: %d %s", r.Status, r.Body)
	}
	check(map[string]int64{"open_overdue": 0, "late": 1, "open": 1})
	s.Do(t, "GET", "/api/v1/admin/tickets?late=true&status=closed,resolved", c.staff, nil).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != late || !list.Items[0].Late || list.Items[0].Overdue {
		t.Fatalf("late=true: %+v", list)
	}
	// The next day: today's reports are none, the month's still three.
	advance(24 * time.Hour)
	check(map[string]int64{"reported_today": 0, "reported_month": 3})
	if r := s.Do(t, "GET", "/api/v1/admin/tickets?"+url.Values{"status": {"closed,pending"}}.Encode(), c.staff, nil); r.Status != 200 {
		t.Fatalf("a status list: %d", r.Status)
	}
}

// TestActivitiesListDetailEditCancel: staff list an activity, read who
// checked in, edit and cancel it; a cancelled activity takes no check-in
// and counts nothing in the party-building figures; party members see
// their communities' upcoming ones.
func TestActivitiesListDetailEditCancel(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, nil, []string{"党员甲"})
	m := c.members["党员甲"]
	create := func(title, community string, in time.Duration) string {
		t.Helper()
		r := s.Do(t, "POST", "/api/v1/admin/activities", c.staff, map[string]string{"title": title, "kind": "volunteer",
			"community": community, "starts_at": time.Now().Add(in).Format(time.RFC3339), "ends_at": time.Now().Add(in + 2*time.Hour).Format(time.RFC3339)})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["id"].(string)
	}
	here := create("清理小广告", "幸福里社区", 10*time.Minute)
	elsewhere := create("文明养犬宣传", "龙江社区", 20*time.Minute)
	if r := s.Do(t, "POST", "/api/v1/activities/"+here+"/checkin", m.token, nil); r.Status != 200 {
		t.Fatalf("check in: %d %s", r.Status, r.Body)
	}
	type activity struct {
		ID           string `json:"id"`
		Title        string `json:"title"`
		Cancelled    bool   `json:"cancelled"`
		CancelReason string `json:"cancel_reason"`
		Checkins     []struct {
			MemberID   string `json:"member_id"`
			Name       string `json:"name"`
			BranchName string `json:"branch_name"`
			At         string `json:"at"`
		} `json:"checkins"`
	}
	var page struct {
		Items      []activity `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	s.Do(t, "GET", "/api/v1/admin/activities", c.staff, nil).Decode(t, &page)
	if len(page.Items) != 2 || page.Items[0].ID != elsewhere || page.Items[1].ID != here {
		t.Fatalf("list: %+v", page)
	}
	s.Do(t, "GET", "/api/v1/admin/activities?community="+url.QueryEscape("幸福里社区")+"&kind=volunteer", c.staff, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != here {
		t.Fatalf("list of a community: %+v", page)
	}
	s.Do(t, "GET", "/api/v1/activities", m.token, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != here {
		t.Fatalf("the member's upcoming: %+v", page)
	}
	var one activity
	s.Do(t, "GET", "/api/v1/admin/activities/"+here, c.staff, nil).Decode(t, &one)
	if len(one.Checkins) != 1 || one.Checkins[0].Name != "党员甲" || one.Checkins[0].BranchName != "第一党支部" || one.Checkins[0].At == "" {
		t.Fatalf("detail: %+v", one)
	}
	wantError(t, s.Do(t, "PATCH", "/api/v1/admin/activities/"+here, c.staff, map[string]string{"title": ""}), 400, "invalid_argument", "title")
	r := s.Do(t, "PATCH", "/api/v1/admin/activities/"+here, c.staff, map[string]string{"title": "清理小广告（第二次）"})
	if r.Status != 200 || r.JSON(t)["title"] != "清理小广告（第二次）" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	party := func() (activities, participations float64) {
		m := s.Do(t, "GET", "/api/v1/stats/party-building", c.staff, nil).JSON(t)
		return m["activities"].(float64), m["activity_participations"].(float64)
	}
	if a, p := party(); a != 2 || p != 1 {
		t.Fatalf("party-building before the cancel: %v activities, %v participations", a, p)
	}
	wantError(t, s.Do(t, "POST", "/api/v1/admin/activities/"+here+"/cancel", c.staff, map[string]string{"reason": ""}), 400, "invalid_argument", "reason")
	r = s.Do(t, "POST", "/api/v1/admin/activities/"+here+"/cancel", c.staff, map[string]string{"reason": "暴雨预警"})
	if r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &one)
	if !one.Cancelled || one.CancelReason != "暴雨预警" || len(one.Checkins) != 1 {
		t.Fatalf("cancelled: %+v", one)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/activities/"+here+"/cancel", c.staff, map[string]string{"reason": "again"}); r.Status != 409 {
		t.Fatalf("cancel twice: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/activities/"+here+"/checkin", m.token, nil); r.Status != 409 {
		t.Fatalf("check in to a cancelled activity: %d %s", r.Status, r.Body)
	}
	if a, p := party(); a != 1 || p != 0 {
		t.Fatalf("party-building after the cancel: %v activities, %v participations", a, p)
	}
	s.Do(t, "GET", "/api/v1/activities", m.token, nil).Decode(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("the member's upcoming after the cancel: %+v", page)
	}
}

// TestAddressBookAndLayers: staff upload standard addresses (CSV and
// GeoJSON, bad rows refused by line), find them by any part of the name
// with the grid each lies in, take a hotline call at one without typing a
// coordinate, ask which grid a map click falls in; and keep base layers.
func TestAddressBookAndLayers(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"吴网格": gridA}, nil)
	csv := "名称,类型,纬度,经度\n" +
		fmt.Sprintf("幸福路12号,门牌,%v,%v\n", wgsLat, wgsLng) +
		"天安门广场,地标,39.9055,116.3976\n" +
		"幸福里北门,大门,32.04,118.78\n"
	r := s.Do(t, "POST", "/api/v1/admin/addresses", c.staff, csv, "Content-Type", "text/csv")
	var imported struct {
		Imported int `json:"imported"`
		Added    int `json:"added"`
		Rejected []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"rejected"`
	}
	r.Decode(t, &imported)
	if r.Status != 200 || imported.Imported != 2 || imported.Added != 2 || len(imported.Rejected) != 1 ||
		imported.Rejected[0].Line != 4 || !strings.Contains(imported.Rejected[0].Message, "大门") {
		t.Fatalf("CSV upload: %d %s", r.Status, r.Body)
	}
	// GeoJSON, as a browser's file input sends it.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "地址.geojson")
	fmt.Fprintf(fw, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"幸福里小区","kind":"小区"},"geometry":{"type":"Point","coordinates":[%v,%v]}}]}`, wgsLng+0.0005, wgsLat)
	mw.Close()
	r = s.Do(t, "POST", "/api/v1/admin/addresses", c.staff, form.Bytes(), "Content-Type", mw.FormDataContentType())
	if r.Status != 200 || r.JSON(t)["imported"].(float64) != 1 {
		t.Fatalf("GeoJSON upload: %d %s", r.Status, r.Body)
	}

	type hit struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		Kind     string  `json:"kind"`
		GridCode *string `json:"grid_code"`
		GridName *string `json:"grid_name"`
		Location struct {
			Lat       float64 `json:"lat"`
			Lng       float64 `json:"lng"`
			CoordType string  `json:"coord_type"`
		} `json:"location"`
	}
	var found struct {
		Items []hit `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/addresses?q="+url.QueryEscape("幸福"), c.staff, nil).Decode(t, &found)
	// Both start with it: the shorter name first.
	if len(found.Items) != 2 || found.Items[0].Name != "幸福里小区" || found.Items[1].Name != "幸福路12号" ||
		found.Items[1].GridCode == nil || *found.Items[1].GridCode != gridA || *found.Items[1].GridName != "幸福里一网格" {
		t.Fatalf("search 幸福: %+v", found)
	}
	s.Do(t, "GET", "/api/v1/admin/addresses?q="+url.QueryEscape("广场"), c.staff, nil).Decode(t, &found)
	if len(found.Items) != 1 || found.Items[0].GridCode != nil {
		t.Fatalf("an address outside every grid: %+v", found)
	}
	wantError(t, s.Do(t, "GET", "/api/v1/admin/addresses?q=", c.staff, nil), 400, "invalid_argument", "q")

	// A hotline call at an address: its location as the book gives it.
	s.Do(t, "GET", "/api/v1/admin/addresses?q="+url.QueryEscape("12号"), c.staff, nil).Decode(t, &found)
	a := found.Items[0]
	r = s.Do(t, "POST", "/api/v1/admin/tickets", c.staff, map[string]any{"category": "1102", "description": "路边堆放建筑垃圾",
		"source": "hotline", "address": a.Name, "location": a.Location, "caller_name": "王先生", "caller_phone": "13800001234"})
	if r.Status != 201 || r.JSON(t)["grid_id"] != gridA {
		t.Fatalf("hotline at an address: %d %s", r.Status, r.Body)
	}
	// A click on the map: which grid, before the case is submitted.
	var where struct {
		Inside   bool    `json:"inside"`
		GridCode *string `json:"grid_code"`
		GridName *string `json:"grid_name"`
	}
	s.Do(t, "GET", fmt.Sprintf("/api/v1/admin/grids/locate?lat=%v&lng=%v&coord_type=wgs84", wgsLat, wgsLng), c.staff, nil).Decode(t, &where)
	if !where.Inside || where.GridCode == nil || *where.GridCode != gridA || *where.GridName != "幸福里一网格" {
		t.Fatalf("locate inside: %+v", where)
	}
	s.Do(t, "GET", "/api/v1/admin/grids/locate?lat=39.9055&lng=116.3976&coord_type=wgs84", c.staff, nil).Decode(t, &where)
	if where.Inside || where.GridCode != nil {
		t.Fatalf("locate outside: %+v", where)
	}

	// Base layers.
	road := `{"type":"FeatureCollection","coord_type":"gcj02","features":[{"type":"Feature","properties":{"name":"中山路","lanes":4},
	  "geometry":{"type":"LineString","coordinates":[[118.78,32.04],[118.79,32.05]]}}]}`
	r = s.Do(t, "POST", "/api/v1/admin/layers?name="+url.QueryEscape("主干道")+"&kind=road", c.staff, road)
	if r.Status != 201 {
		t.Fatalf("layer: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	wantError(t, s.Do(t, "POST", "/api/v1/admin/layers?name=x&kind=road", c.staff,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[118.78,32.04]}}]}`),
		400, "invalid_argument", "features[0].geometry")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/layers?name=x&kind=river", c.staff, road), 400, "invalid_argument", "kind")
	var layers struct {
		Items []struct {
			ID, Name, Kind string
			Features       int `json:"features"`
			GeoJSON        struct {
				Type     string `json:"type"`
				Features []struct {
					Properties map[string]any `json:"properties"`
					Geometry   struct {
						Type        string       `json:"type"`
						Coordinates [][2]float64 `json:"coordinates"`
					} `json:"geometry"`
				} `json:"features"`
			} `json:"geojson"`
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/layers", c.staff, nil).Decode(t, &layers)
	if len(layers.Items) != 1 || layers.Items[0].ID != id || layers.Items[0].Kind != "road" || layers.Items[0].Features != 1 {
		t.Fatalf("layers: %+v", layers)
	}
	f := layers.Items[0].GeoJSON.Features[0]
	if f.Properties["name"] != "中山路" || f.Properties["lanes"] != nil || f.Geometry.Type != "LineString" || f.Geometry.Coordinates[0][0] == 118.78 {
		t.Fatalf("the stored layer (WGS-84, name only): %+v", f)
	}
	if r := s.Do(t, "DELETE", "/api/v1/admin/layers/"+id, c.staff, nil); r.Status != 204 {
		t.Fatalf("delete layer: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "DELETE", "/api/v1/admin/layers/"+id, c.staff, nil); r.Status != 404 {
		t.Fatalf("delete a deleted layer: %d", r.Status)
	}
}
