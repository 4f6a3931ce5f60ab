package main

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

type staffPerson struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Phone string `json:"phone"`
}

type staffTicket struct {
	ID       string       `json:"id"`
	Status   string       `json:"status"`
	Source   string       `json:"source"`
	DueAt    *string      `json:"due_at"`
	Held     bool         `json:"held"`
	Assignee *staffPerson `json:"assignee"`
	Timeline []struct {
		Type     string       `json:"type"`
		Note     string       `json:"note"`
		Actor    *staffPerson `json:"actor"`
		Assignee *staffPerson `json:"assignee"`
	} `json:"timeline"`
}

type staffTicketList struct {
	Items      []staffTicket `json:"items"`
	NextCursor string        `json:"next_cursor"`
	Total      int           `json:"total"`
}

func TestStaffTicketsByName(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"张网格": gridA, "李网格": gridB}, []string{"党员王"})
	staff := c.staff
	directoryID := func(path, name string) string {
		t.Helper()
		var page workerPage
		s.Do(t, "GET", path+"?q="+url.QueryEscape(name), staff, nil).Decode(t, &page)
		if page.Total != 1 {
			t.Fatalf("%s %s: %+v", path, name, page)
		}
		return page.Items[0].ID
	}
	zhang, li := directoryID("/api/v1/admin/workers", "张网格"), directoryID("/api/v1/admin/workers", "李网格")
	wang := directoryID("/api/v1/admin/party-members", "党员王")
	r := s.Do(t, "POST", "/api/v1/admin/workers", staff, map[string]any{"name": "孙未绑", "phone": "13900009999", "grid_codes": []string{gridA}})
	unbound := r.JSON(t)["id"].(string)

	resTok, id1 := c.report(t, "st-resident-1", "1101", nil)
	_, id2 := c.report(t, "st-resident-2", "1102", nil) // another category: not a duplicate
	waitTask(t, s, c.workers["张网格"].token, "/api/v1/tasks", id1)
	waitTask(t, s, c.workers["张网格"].token, "/api/v1/tasks", id2)

	// The list: total, assignee by name and directory id, deadline, source.
	var list staffTicketList
	s.Do(t, "GET", "/api/v1/admin/tickets", staff, nil).Decode(t, &list)
	if list.Total != 2 || len(list.Items) != 2 || list.Items[0].ID != id2 {
		t.Fatalf("list: %+v", list)
	}
	it := list.Items[1]
	if it.Assignee == nil || it.Assignee.ID != zhang || it.Assignee.Name != "张网格" || it.Assignee.Role != "grid_worker" ||
		it.DueAt == nil || it.Source != "wechat" || it.Held || it.Timeline != nil {
		t.Fatalf("list item: %+v", it)
	}
	for query, want := range map[string][]string{
		"?q=" + url.QueryEscape("建筑垃圾"):      {id2, id1},
		"?q=" + url.QueryEscape("幸福路12号 建筑"): {id2, id1},
		"?q=" + url.QueryEscape("没有这些字"):     {},
		"?q=" + id1:                      {id1},
		"?status=dispatched,in_progress": {id2, id1},
		"?status=closed":                 {},
		"?source=wechat&grid=" + gridA:   {id2, id1},
		"?source=hotline":                {},
		"?sort=created_at":               {id1, id2},
		"?sort=due_at&overdue=false":     {id1, id2},
		"?overdue=true":                  {},
		"?category=1101&from=2020-01-01": {id1},
		"?to=2020-01-01":                 {},
		"?limit=1":                       {id2},
	} {
		var l staffTicketList
		r := s.Do(t, "GET", "/api/v1/admin/tickets"+query, staff, nil)
		r.Decode(t, &l)
		var got []string
		for _, x := range l.Items {
			got = append(got, x.ID)
		}
		if r.Status != 200 || strings.Join(got, ",") != strings.Join(want, ",") || (query != "?limit=1" && l.Total != len(want)) {
			t.Errorf("%s: %d %v total %d, want %v", query, r.Status, got, l.Total, want)
		}
	}
	s.Do(t, "GET", "/api/v1/admin/tickets?limit=1", staff, nil).Decode(t, &list)
	s.Do(t, "GET", "/api/v1/admin/tickets?limit=1&cursor="+list.NextCursor, staff, nil).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id1 || list.NextCursor != "" || list.Total != 2 {
		t.Fatalf("second page: %+v", list)
	}

	// Candidates: the grid's workers, the community's members, the rest;
	// nobody unbound.
	var cands struct {
		Items []struct {
			ID, Name, Role string
			OnDuty         bool `json:"on_duty"`
			OpenTasks      int  `json:"open_tasks"`
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/tickets/"+id1+"/candidates", staff, nil).Decode(t, &cands)
	if len(cands.Items) != 3 || cands.Items[0].ID != zhang || cands.Items[0].OpenTasks != 2 || !cands.Items[0].OnDuty ||
		cands.Items[1].ID != wang || cands.Items[1].Role != "party_member" || cands.Items[2].ID != li || cands.Items[2].OpenTasks != 0 {
		t.Fatalf("candidates: %+v", cands)
	}

	// Dispatch by the directory's id.
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id1+"/dispatch", staff, map[string]string{"assignee_id": unbound}), 400, "invalid_argument", "assignee_id", "孙未绑")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id1+"/dispatch", staff, map[string]string{"assignee_id": ""}), 400, "invalid_argument", "assignee_id")
	r = s.Do(t, "POST", "/api/v1/admin/tickets/"+id1+"/dispatch", staff, map[string]string{"assignee_id": li})
	var st staffTicket
	r.Decode(t, &st)
	if r.Status != 200 || st.Assignee == nil || st.Assignee.ID != li || st.Assignee.Name != "李网格" || st.Assignee.Phone == "" {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	waitTask(t, s, c.workers["李网格"].token, "/api/v1/tasks", id1)

	// The staff's view names who acted and to whom each dispatch went.
	r = s.Do(t, "GET", "/api/v1/admin/tickets/"+id1, staff, nil)
	r.Decode(t, &st)
	var dispatches []string
	for _, e := range st.Timeline {
		if e.Type == "dispatched" {
			actor := "system"
			if e.Actor != nil {
				actor = e.Actor.Role + ":" + e.Actor.Name
			}
			to := ""
			if e.Assignee != nil {
				to = e.Assignee.Name
			}
			dispatches = append(dispatches, actor+"→"+to)
		}
	}
	if strings.Join(dispatches, ",") != "system→张网格,staff:"+adminUser+"→李网格" {
		t.Fatalf("dispatches %v in %s", dispatches, r.Body)
	}
	if strings.Contains(string(r.Body), "openid") || !strings.Contains(string(r.Body), `"phone"`) {
		t.Fatalf("staff view: %s", r.Body)
	}
	// The resident still sees masked names only.
	if body := string(s.Do(t, "GET", "/api/v1/reports/"+id1, resTok, nil).Body); strings.Contains(body, "李网格") || strings.Contains(body, "张网格") {
		t.Fatalf("the resident sees full names: %s", body)
	}
	// A deactivated worker is no longer a candidate nor dispatchable.
	s.Do(t, "PATCH", "/api/v1/admin/workers/"+zhang, staff, map[string]any{"active": false})
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id1+"/dispatch", staff, map[string]string{"assignee_id": zhang}), 400, "invalid_argument", "assignee_id", "张网格")
	s.Do(t, "GET", "/api/v1/admin/tickets/"+id1+"/candidates", staff, nil).Decode(t, &cands)
	for _, x := range cands.Items {
		if x.ID == zhang {
			t.Fatalf("a deactivated worker is a candidate: %+v", cands)
		}
	}

	// The export: one row per ticket of the same filters.
	r = s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx?q="+url.QueryEscape("建筑垃圾"), staff, nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "spreadsheetml") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	book, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows("工单")
	if err != nil {
		t.Fatal(err)
	}
	// The case number first, codes beside names, the console's words,
	// times as Excel dates.
	caseNo1 := s.Do(t, "GET", "/api/v1/admin/tickets/"+id1, staff, nil).JSON(t)["case_no"].(string)
	col := map[string]int{}
	for i, h := range rows[1] {
		col[h] = i
	}
	row := rows[3]
	if len(rows) != 4 || rows[1][0] != "案件编号" || row[0] != caseNo1 || rows[2][col["工单 ID"]] != id2 || row[col["工单 ID"]] != id1 ||
		row[col["类别编码"]] != "1101" || row[col["类别"]] == "" || row[col["类别"]] == "1101" || row[col["网格编码"]] != gridA ||
		row[col["网格"]] != "幸福里一网格" || row[col["来源"]] != "微信随手拍" || row[col["处置人"]] != "李网格" || row[col["超期"]] != "否" {
		t.Fatalf("export rows: %q", rows)
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$`).MatchString(row[col["上报时间"]]) {
		t.Fatalf("上报时间 %q is not shown as a date and time", row[col["上报时间"]])
	}
	cell, _ := excelize.CoordinatesToCellName(col["上报时间"]+1, 4)
	if typ, _ := book.GetCellType("工单", cell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("上报时间 is text, not an Excel date")
	}
	if panes, _ := book.GetPanes("工单"); !panes.Freeze || panes.YSplit != 2 {
		t.Fatalf("the header does not freeze: %+v", panes)
	}
	r = s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx?status=closed", staff, nil)
	if book, err = excelize.OpenReader(bytes.NewReader(r.Body)); err != nil {
		t.Fatal(err)
	}
	if rows, _ = book.GetRows("工单"); len(rows) != 2 {
		t.Fatalf("empty export: %q", rows)
	}

	// Rejecting answers with the staff's view, naming the clerk.
	r = s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/reject", staff, map[string]string{"reason": "经核实不属于城管职责"})
	r.Decode(t, &st)
	if last := st.Timeline[len(st.Timeline)-1]; r.Status != 200 || st.Status != "rejected" || last.Actor == nil || last.Actor.Name != adminUser || last.Actor.Role != "staff" {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}

	// A rejected ticket takes no dispatch; a malformed body changes nothing.
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/dispatch", staff, map[string]string{"assignee_id": li}), 409, "conflict")
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+id1+"/dispatch", staff, `{"assignee_id": 7}`), 400, "invalid_argument", "assignee_id")

	// A hotline case: staff see the caller, the source filter finds it.
	r = s.Do(t, "POST", "/api/v1/admin/tickets", staff, map[string]any{"category": "1102", "description": "市民来电：路灯不亮",
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"}, "address": "幸福路8号", "source": "hotline",
		"caller_name": "钱先生", "caller_phone": "13812345678"})
	if r.Status != 201 {
		t.Fatalf("hotline: %d %s", r.Status, r.Body)
	}
	call := r.JSON(t)["id"].(string)
	// Masked in the view; in full only by a reveal, which the access trail
	// records (TestRevealIsRecorded).
	if body := string(s.Do(t, "GET", "/api/v1/admin/tickets/"+call, staff, nil).Body); !strings.Contains(body, `"caller":{"name":"钱**","phone":"138****5678","masked":true}`) ||
		strings.Contains(body, "13812345678") {
		t.Fatalf("the staff's view of a hotline case: %s", body)
	}
	if body := string(s.Do(t, "POST", "/api/v1/admin/tickets/"+call+"/reveal", staff, nil).Body); !strings.Contains(body, `"caller":{"name":"钱先生","phone":"13812345678"}`) {
		t.Fatalf("the reveal of a hotline case: %s", body)
	}
	s.Do(t, "GET", "/api/v1/admin/tickets?source=hotline", staff, nil).Decode(t, &list)
	if list.Total != 1 || list.Items[0].ID != call || list.Items[0].Source != "hotline" {
		t.Fatalf("source=hotline: %+v", list)
	}

	// Bad filters, unknown tickets, other roles.
	for query, field := range map[string]string{"status=bogus": "status", "sort=name": "sort", "source=fax": "source", "overdue=maybe": "overdue",
		"from=2026-12-02&to=2026-12-01": "to", "q=" + strings.Repeat("长", 101): "q"} {
		wantError(t, s.Do(t, "GET", "/api/v1/admin/tickets?"+query, staff, nil), 400, "invalid_argument", field)
		wantError(t, s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx?"+query, staff, nil), 400, "invalid_argument", field)
	}
	wantError(t, s.Do(t, "GET", "/api/v1/admin/tickets?cursor=000000000000000000000000", staff, nil), 400, "invalid_argument", "cursor")
	const nobody = "000000000000000000000000"
	wantError(t, s.Do(t, "GET", "/api/v1/admin/tickets/"+nobody, staff, nil), 404, "not_found", nobody)
	wantError(t, s.Do(t, "GET", "/api/v1/admin/tickets/"+nobody+"/candidates", staff, nil), 404, "not_found", nobody)
	wantError(t, s.Do(t, "POST", "/api/v1/admin/tickets/"+nobody+"/dispatch", staff, map[string]string{"assignee_id": li}), 404, "not_found", nobody)
	for _, tok := range []string{resTok, c.workers["李网格"].token} {
		for _, call := range [][2]string{{"GET", "/api/v1/admin/tickets"}, {"GET", "/api/v1/admin/tickets/" + id1}, {"GET", "/api/v1/admin/tickets/" + id1 + "/candidates"},
			{"POST", "/api/v1/admin/tickets/" + id1 + "/dispatch"}, {"GET", "/api/v1/admin/tickets/export.xlsx"}} {
			if r := s.Do(t, call[0], call[1], tok, map[string]string{"assignee_id": li}); r.Status != 403 || r.ErrorCode() != "permission_denied" {
				t.Fatalf("%s %s as a non-staff user: %d %s", call[0], call[1], r.Status, r.Body)
			}
		}
	}
}
