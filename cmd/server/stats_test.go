package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/xuri/excelize/v2"
)

func TestStatisticsFollowTheWork(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"吴网格": gridA}, []string{"郑党员"})
	w, p := c.workers["吴网格"], c.members["郑党员"]

	// A worker fixes one problem; the resident is satisfied.
	resTok, id1 := c.report(t, "stats-resident-1", "1101", nil)
	waitTask(t, s, w.token, "/api/v1/tasks", id1)
	s.Do(t, "POST", "/api/v1/tasks/"+id1+"/accept", w.token, nil)
	s.Do(t, "POST", "/api/v1/tasks/"+id1+"/resolve", w.token, map[string]any{"note": "已修复", "photo_ids": []string{uploadPhoto(t, s, w.token)["id"].(string)}})
	if r := s.Do(t, "POST", "/api/v1/reports/"+id1+"/feedback", resTok, map[string]any{"satisfied": true, "rating": 5}); r.Status != 200 {
		t.Fatalf("feedback: %d %s", r.Status, r.Body)
	}
	// A party member claims a volunteer-suitable one from the pool and fixes it.
	res2, id2 := c.report(t, "stats-resident-2", "0101", map[string]any{"lat": 32.043, "lng": 118.781, "coord_type": "wgs84"})
	waitTask(t, s, p.token, "/api/v1/tasks/pool", id2)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id2+"/claim", p.token, nil); r.Status != 200 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	s.Do(t, "POST", "/api/v1/tasks/"+id2+"/resolve", p.token, map[string]any{"note": "已清理", "photo_ids": []string{uploadPhoto(t, s, p.token)["id"].(string)}})
	s.Do(t, "POST", "/api/v1/reports/"+id2+"/feedback", res2, map[string]any{"satisfied": true, "rating": 4})
	// And checks in to a volunteer activity.
	now := time.Now()
	r := s.Do(t, "POST", "/api/v1/admin/activities", c.staff, map[string]any{"title": "清洁家园志愿服务", "kind": "volunteer",
		"community": "幸福里社区", "starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(time.Hour).Format(time.RFC3339)})
	if r.Status != 201 {
		t.Fatalf("activity: %d %s", r.Status, r.Body)
	}
	act := r.JSON(t)["id"].(string)
	for range 2 { // twice: counted once
		if r := s.Do(t, "POST", "/api/v1/activities/"+act+"/checkin", p.token, nil); r.Status != 200 {
			t.Fatalf("checkin: %d %s", r.Status, r.Body)
		}
	}

	var sum struct {
		Resolved, Registered, Closed, Reported, Satisfied, Rated int64
		ResolutionRate                                           float64 `json:"resolution_rate"`
		Groups                                                   []struct {
			Key      string
			Name     string
			Resolved int64
		}
	}
	deadline := time.Now().Add(patience)
	for {
		r := s.Do(t, "GET", "/api/v1/stats/summary?group_by=grid", c.staff, nil)
		if r.Status != 200 {
			t.Fatalf("summary: %d %s", r.Status, r.Body)
		}
		r.Decode(t, &sum)
		if sum.Resolved == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("summary never counted both: %s", r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sum.Reported != 2 || sum.Registered != 2 || sum.Closed != 2 || sum.Rated != 2 || sum.Satisfied != 2 || sum.ResolutionRate != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.Groups) != 1 || sum.Groups[0].Key != gridA || sum.Groups[0].Name != "幸福里一网格" || sum.Groups[0].Resolved != 2 {
		t.Fatalf("groups %+v", sum.Groups)
	}

	var pb struct {
		ResolvedWithPartyMembers int64 `json:"resolved_with_party_members"`
		Participations           int64
		DistinctMembers          int64 `json:"distinct_members"`
		Activities               int64
		ActivityParticipations   int64 `json:"activity_participations"`
		Branches                 []struct {
			Name           string
			Participations int64
		}
	}
	s.Do(t, "GET", "/api/v1/stats/party-building", c.staff, nil).Decode(t, &pb)
	if pb.ResolvedWithPartyMembers != 1 || pb.Participations != 2 || pb.DistinctMembers != 1 || pb.Activities != 1 || pb.ActivityParticipations != 1 {
		t.Fatalf("party-building %+v", pb)
	}
	if len(pb.Branches) != 1 || pb.Branches[0].Name != "第一党支部" || pb.Branches[0].Participations != 2 {
		t.Fatalf("branches %+v", pb.Branches)
	}

	// The workbook carries the same numbers.
	r = s.Do(t, "GET", "/api/v1/stats/export.xlsx", c.staff, nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %d %s", r.Status, r.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(xlsxText(t, f), []byte("统计期间")) {
		t.Fatal("the workbook has no period title")
	}

	// Bad input and the wrong role.
	for q, code := range map[string]int{"group_by=street": 400, "from=2026-13-01": 400, "from=2026-05-01&to=2026-04-01": 400} {
		if r := s.Do(t, "GET", "/api/v1/stats/summary?"+q, c.staff, nil); r.Status != code {
			t.Errorf("summary?%s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "GET", "/api/v1/stats/summary", w.token, nil); r.Status != 403 {
		t.Errorf("a worker reads statistics: %d", r.Status)
	}

	// The rebuild subcommand recomputes the same figures. Beside a running
	// embedded server it is refused (one process per DATA_DIR): it runs
	// once the server has stopped.
	var out bytes.Buffer
	rebuild, _ := subcommand([]string{"rebuild-stats"}, &out)
	embedded := env["MONGODB_URI"] == ""
	if embedded {
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, rebuild)
		if err == nil || !strings.Contains(err.Error(), "正被运行中的服务进程（pid") || !strings.Contains(err.Error(), "server rebuild-stats 需要独占数据目录") {
			t.Fatalf("rebuild-stats beside the running embedded server: %v, want refused naming the holder", err)
		}
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, rebuild); err != nil {
		t.Fatalf("rebuild-stats: %v", err)
	}
	if !strings.Contains(out.String(), "from 2 tickets") {
		t.Fatalf("rebuild said %q", out.String())
	}
	// And the bureau's report for the year (with the server stopped, too,
	// on the embedded store).
	out.Reset()
	report, _ := subcommand([]string{"report", "-year", time.Now().In(model.ChinaTime()).Format("2006")}, &out)
	if err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, report); err != nil {
		t.Fatalf("report: %v", err)
	}
	if !strings.Contains(out.String(), "2个") || !strings.Contains(out.String(), "参与党员2人次") ||
		!strings.Contains(out.String(), "立案问题按来源：微信随手拍2件（占100.0%，已解决2件）") {
		t.Fatalf("report: %s", out.String())
	}
	if embedded {
		s = startServer(t, env, options{})
		c.staff = s.LoginStaff(t, adminUser, adminPass)
	}
	var again struct{ Resolved, Registered, Closed, Reported int64 }
	s.Do(t, "GET", "/api/v1/stats/summary", c.staff, nil).Decode(t, &again)
	if again.Resolved != 2 || again.Registered != 2 || again.Closed != 2 || again.Reported != 2 {
		t.Fatalf("after rebuild %+v", again)
	}
}

func xlsxText(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for _, row := range rows {
			b.WriteString(strings.Join(row, "\t") + "\n")
		}
	}
	return b.Bytes()
}

// Every channel enters through the one intake and is counted as its first
// transition commits: on the embedded store in that very commit (so the
// figure is there as soon as the ticket is routed), in production mode by
// the applier the commit wakes. The applier's own look is set to an hour,
// so a channel that did not wake it would not be counted within the test's
// patience.
func TestEverySourceIsCountedThroughTheOneIntake(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["STATS_LOOK_EVERY"] = "1h"
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"吴网格": gridA}, nil)
	w := c.workers["吴网格"]
	embedded := env["MONGODB_URI"] == ""

	counted := func(source string) int64 {
		var sum struct {
			Groups []struct {
				Key        string
				Registered int64
			}
		}
		s.Do(t, "GET", "/api/v1/stats/summary?group_by=source", c.staff, nil).Decode(t, &sum)
		for _, g := range sum.Groups {
			if g.Key == source {
				return g.Registered
			}
		}
		return 0
	}
	// routed waits for the ticket's registration (the commit that counts
	// it: registered and routed at once), then checks the figure: at once
	// on the embedded store, else within the test's patience.
	routed := func(source, id string) {
		t.Helper()
		deadline := time.Now().Add(patience)
		for {
			var tk struct{ Status string }
			s.Do(t, "GET", "/api/v1/admin/tickets/"+id, c.staff, nil).Decode(t, &tk)
			if tk.Status != "submitted" && tk.Status != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s ticket %s was never registered", source, id)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for counted(source) != 1 {
			if embedded || time.Now().After(deadline) {
				r := s.Do(t, "GET", "/api/v1/stats/summary?group_by=source", c.staff, nil)
				t.Fatalf("%s ticket %s registered, but the figures count %d of its source: %s", source, id, counted(source), r.Body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	_, id := c.report(t, "source-wechat", "1101", nil)
	routed("wechat", id)

	// Another category: the same one at the same spot would be merged into
	// the resident's open ticket (a duplicate is reported, not registered).
	body := reportBody("0201", uploadPhoto(t, s, w.token)["id"].(string))
	body["source"] = "patrol"
	r := s.Do(t, "POST", "/api/v1/reports", w.token, body)
	if r.Status != 201 {
		t.Fatalf("patrol: %d %s", r.Status, r.Body)
	}
	routed("patrol", r.JSON(t)["id"].(string))

	r = s.Do(t, "POST", "/api/v1/admin/tickets", c.staff, map[string]any{"category": "1101", "description": "来电反映路灯不亮",
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"}, "address": "幸福路8号", "source": "hotline"})
	if r.Status != 201 {
		t.Fatalf("hotline: %d %s", r.Status, r.Body)
	}
	routed("hotline", r.JSON(t)["id"].(string))

	_, key := o311Key(t, s, c.staff, "区12345平台")
	form := o311Form(key)
	resp, err := http.PostForm(s.Base+"/open311/v2/requests.json", form)
	if err != nil {
		t.Fatal(err)
	}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || len(created) != 1 {
		t.Fatalf("open311: %d %v %v", resp.StatusCode, created, err)
	}
	resp.Body.Close()
	routed("open311", created[0].ID)
}
