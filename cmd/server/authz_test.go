package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/citizen-city/chengguantong/handler"
)

// The roles of the authorization matrix, in the order of a want string.
var authzRoles = []string{"anonymous", "resident", "resident2", "worker", "worker2", "member", "follower", "admin", "dispatcher", "leader", "auditor"}

// authzCase is one route of the matrix: the request body ("" none; "@grids"
// the test grids) and what each role gets, one token per role in the
// order of authzRoles. For a route with an object (:id) a token is
// "own/other": the status for the role's own object, then for another's.
// Whose object is whose:
//
//	ticket (:id)   anonymous TA/TB, resident TA/TB (reported TA), resident2 TB/TA,
//	               worker TA/TB (assigned TA), worker2 TB/TA, member TM/TA
//	               (dispatched TM by staff), follower TA/TB (their report of
//	               the same problem was merged into TA), each staff role TA/TB
//	staff (:id)    the leader's account / an id that names none
//	photo (redact) TA's photo / an id that names none
//	activity (:id) a real activity / an id that names none
//	photo (media)  the signed URL of TA's photo / the same URL, signature altered
//
// noLeak: a 2xx answer must not mention the other object's id (lists).
type authzCase struct {
	route, body, want string
	noLeak            bool
}

// authzTable holds every route the server registers: a route missing here
// fails TestAuthorizationMatrix, so a new route is one more line. Cells run
// in table order, within a route "other" cells first; a route whose own
// cells change the fixtures (return) comes last.
var authzTable = []authzCase{
	{"GET /healthz", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /readyz", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /metrics", "", "404 404 404 404 404 404 404 404 404 404 404", false}, // served on METRICS_ADDR, or to METRICS_TOKEN
	{"GET /openapi.json", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /admin", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /admin/", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /admin/*", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /wechat/push", "", "401 401 401 401 401 401 401 401 401 401 401", false},
	{"POST /wechat/push", "<xml></xml>", "401 401 401 401 401 401 401 401 401 401 401", false},
	{"GET /media/photos/:id/:variant", "", "200/404 200/404 200/404 200/404 200/404 200/404 200/404 200/404 200/404 200/404 200/404", false},
	{"POST /api/v1/auth/wechat", `{}`, "400 400 400 400 400 400 400 400 400 400 400", false},
	{"POST /api/v1/auth/staff", `{}`, "400 400 400 400 400 400 400 400 400 400 400", false},
	{"GET /api/v1/categories", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /api/v1/labels", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /api/v1/me", "", "401 200 200 200 200 200 200 200 200 200 200", false},
	{"PUT /api/v1/me/password", `{"old":"not-it","new":"Tiger-Lily-2026"}`, "401 403 403 403 403 403 403 400 400 400 400", false},
	{"GET /api/v1/me/data", "", "401 200 200 200 200 200 200 403 403 403 403", true},
	{"POST /api/v1/me/bind", `{"invite_code":"ABCDEFGHJKMN"}`, "401 404 404 404 404 404 404 403 403 403 403", false},
	{"PUT /api/v1/me/duty", `{"on_duty":true}`, "401 403 403 200 200 200 403 403 403 403 403", false},
	{"POST /api/v1/me/subscriptions", `{"accepted":["tmpl_assigned"]}`, "401 204 204 204 204 204 204 403 403 403 403", false},
	{"POST /api/v1/photos", `{}`, "401 400 400 400 400 400 400 403 403 403 403", false},
	{"POST /api/v1/reports", `{}`, "401 400 400 400 400 400 400 403 403 403 403", false},
	{"GET /api/v1/reports/mine", "", "401 200 200 200 200 200 200 403 403 403 403", true},
	{"GET /api/v1/reports/nearby", "?lat=32.0415&lng=118.7845&coord_type=wgs84", "401 200 200 200 200 200 200 403 403 403 403", false},
	{"GET /api/v1/reports/:id", "", "401/401 200/404 200/404 200/404 200/404 200/404 200/404 200/200 200/200 404/404 404/404", false}, // the follower: its own view (TestFollowerView)
	{"POST /api/v1/reports/:id/feedback", `{"satisfied":true,"rating":5}`, "401/401 409/404 409/404 404/404 404/404 404/404 404/404 403/403 403/403 403/403 403/403", false},
	{"PUT /api/v1/reports/:id/feedback", `{"rating":5}`, "401/401 409/404 409/404 404/404 404/404 404/404 404/404 403/403 403/403 403/403 403/403", false}, // own: nothing rated yet
	{"GET /api/v1/tasks", "", "401 403 403 200 200 200 403 403 403 403 403", true},
	{"GET /api/v1/tasks/pool", "", "401 403 403 403 403 200 403 403 403 403 403", true},
	{"POST /api/v1/tasks/:id/claim", "", "401/401 403/403 403/403 403/403 403/403 200/404 403/403 403/403 403/403 403/403 403/403", false}, // own: a retry of a claim answers 200
	{"POST /api/v1/tasks/:id/accept", "", "401/401 403/403 403/403 409/404 409/404 409/404 403/403 403/403 403/403 403/403 403/403", false},
	{"POST /api/v1/tasks/:id/resolve", `{"note":"已清理","photo_ids":["000000000000000000000000"]}`, "401/401 403/403 403/403 400/404 400/404 400/404 403/403 403/403 403/403 403/403 403/403", false},
	{"PUT /api/v1/admin/categories/:code", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"POST /api/v1/admin/grids", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/grids", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/admin/grids/locate", "?lat=32.0415&lng=118.7845&coord_type=wgs84", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"POST /api/v1/admin/addresses", `name,kind,lat,lng`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/addresses", "?q=abc", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"POST /api/v1/admin/layers", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/layers", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"DELETE /api/v1/admin/layers/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 404/404 403/403 403/403 403/403", false},
	{"GET /api/v1/admin/overview", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/admin/tickets", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"POST /api/v1/admin/tickets/:id/dispatch", `{"assignee_id":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/reject", `{"reason":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403", false},
	{"POST /api/v1/admin/staff", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/staff", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"PATCH /api/v1/admin/staff/:id", `{"name":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/404 403/403 403/403 403/403", false},
	{"POST /api/v1/admin/staff/:id/password", `{"password":"weak"}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/404 403/403 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/reveal", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 200/200 200/200 403/403 403/403", false},
	{"POST /api/v1/admin/photos/:id/redact", `{"rects":[]}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/400 400/400 403/403 403/403", false},
	{"GET /api/v1/admin/audit", "", "401 403 403 403 403 403 403 403 403 403 200", false},
	{"GET /api/v1/admin/audit/export.xlsx", "", "401 403 403 403 403 403 403 403 403 403 200", false},
	{"GET /api/v1/admin/dead-letters", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"GET /api/v1/admin/events", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"POST /api/v1/admin/activities", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"POST /api/v1/activities/:id/checkin", "", "401/401 403/403 403/403 403/403 403/403 200/404 403/403 403/403 403/403 403/403 403/403", false},
	{"GET /api/v1/activities", "", "401 403 403 403 403 200 403 403 403 403 403", false},
	{"GET /api/v1/admin/activities", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/admin/activities/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 200/404 200/404 200/404 403/403", false},
	{"PATCH /api/v1/admin/activities/:id", `{"title":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/404 403/403 403/403 403/403", false},
	{"POST /api/v1/admin/activities/:id/cancel", `{"reason":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/404 403/403 403/403 403/403", false},
	{"GET /api/v1/stats/summary", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/stats/party-building", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/stats/export.xlsx", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"POST /api/v1/admin/workers", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"POST /api/v1/admin/branches", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"POST /api/v1/admin/party-members", `{}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/tickets/export.xlsx", "", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/admin/tickets/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 200/200 200/200 200/200 403/403", false},
	{"GET /api/v1/admin/tickets/:id/candidates", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 200/200 403/403 403/403", false},
	{"POST /api/v1/admin/tickets", `{}`, "401 403 403 403 403 403 403 403 400 403 403", false},
	{"POST /api/v1/admin/tickets/:id/extension", `{"approve":true}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 409/409 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/defer", `{"reason":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/resume", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 409/409 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/urge", `{"note":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403", false},
	{"POST /api/v1/admin/tickets/:id/verify", `{"passed":true,"note":"现场核查"}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 403/403 409/409 403/403 403/403", false},
	{"GET /api/v1/stats/ranking", "?by=grid", "401 403 403 403 403 403 403 200 200 200 403", false},
	{"GET /api/v1/admin/workers", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"GET /api/v1/admin/workers/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 200/200 403/403 403/403 403/403", false},
	{"PATCH /api/v1/admin/workers/:id", `{"name":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403 403/403", false},
	{"POST /api/v1/admin/workers/:id/invite", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 409/409 403/403 403/403 403/403", false}, // both already bound
	{"GET /api/v1/admin/branches", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"PATCH /api/v1/admin/branches/:id", `{"name":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/400 403/403 403/403 403/403", false},
	{"GET /api/v1/admin/party-members", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"GET /api/v1/admin/party-members/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 200/404 403/403 403/403 403/403", false},
	{"PATCH /api/v1/admin/party-members/:id", `{"name":""}`, "401/401 403/403 403/403 403/403 403/403 403/403 403/403 400/404 403/403 403/403 403/403", false},
	{"POST /api/v1/admin/party-members/:id/invite", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 409/404 403/403 403/403 403/403", false}, // already bound
	{"POST /api/v1/admin/open311/keys", `{"name":""}`, "401 403 403 403 403 403 403 400 403 403 403", false},
	{"GET /api/v1/admin/open311/keys", "", "401 403 403 403 403 403 403 200 403 403 403", false},
	{"DELETE /api/v1/admin/open311/keys/:id", "", "401/401 403/403 403/403 403/403 403/403 403/403 403/403 204/404 403/403 403/403 403/403", false},
	// Open311 GeoReport v2: public reads, POST needs an api_key (403 in
	// GeoReport's own errors body); "*" rows cover every method Any registers.
	{"GET /open311/v2/discovery.json", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/discovery.xml", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/services.json", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/services.xml", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/services/:service_code", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/requests.json", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/requests.xml", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/requests/:service_request_id", "", "200 200 200 200 200 200 200 200 200 200 200", false},
	{"GET /open311/v2/tokens/:token", "", "404 404 404 404 404 404 404 404 404 404 404", false},
	{"POST /open311/v2/requests.json", "form:service_code=0101", "403 403 403 403 403 403 403 403 403 403 403", false},
	{"POST /open311/v2/requests.xml", "form:service_code=0101", "403 403 403 403 403 403 403 403 403 403 403", false},
	{"* /open311/v2/*", "", "404 404 404 404 404 404 404 404 404 404 404", false},
	// Near the end: the own cells change the fixtures' tickets.
	{"POST /api/v1/tasks/:id/extension", `{"hours":8,"reason":"需要协调燃气公司"}`, "401/401 403/403 403/403 200/404 200/404 200/404 403/403 403/403 403/403 403/403 403/403", false},
	// Last: the own cells hand the fixtures' tickets back.
	{"POST /api/v1/tasks/:id/return", `{"reason":"不在我的网格"}`, "401/401 403/403 403/403 200/404 200/404 200/404 403/403 403/403 403/403 403/403 403/403", false},
	// Then the residents close their accounts (a bound worker or member
	// may not; staff have none to close) ...
	{"DELETE /api/v1/me", "", "401 204 204 403 403 403 204 403 403 403 403", false},
	// ... and everyone signs out: the closed accounts' tokens no longer work.
	{"POST /api/v1/auth/logout", "", "401 401 401 204 204 204 401 204 204 204 204", false},
}

// registeredRoutes lists "METHOD /path" of every route the handler
// registers, as Echo's route table has it.
func registeredRoutes() []string {
	e := handler.New(handler.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var out []string
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Method, "echo_route_") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return out
}

// TestAuthorizationMatrix sends every route as every role, to the role's own
// object and to another's, and checks each status against authzTable: a
// wrong cell, a route the table does not classify, or a denial that is not
// the Chinese error envelope fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	// Every registered route is classified, and every row names a route.
	rows := map[string]authzCase{}
	for _, c := range authzTable {
		if len(strings.Fields(c.want)) != len(authzRoles) {
			t.Fatalf("%s: want %q needs %d tokens", c.route, c.want, len(authzRoles))
		}
		rows[c.route] = c
	}
	registered := map[string]bool{}
	for _, r := range registeredRoutes() {
		_, path, _ := strings.Cut(r, " ")
		registered[r], registered["* "+path] = true, true
		_, ok := rows[r]
		_, any := rows["* "+path]
		if !ok && !any {
			t.Errorf("route %s is not in authzTable: add a line with what each role gets", r)
		}
	}
	for _, c := range authzTable {
		if !registered[c.route] {
			t.Errorf("authzTable row %s names no registered route", c.route)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"张网格": gridA, "李网格": gridB}, []string{"王党员"})
	tokens := map[string]string{"anonymous": "",
		"worker": c.workers["张网格"].token, "worker2": c.workers["李网格"].token, "member": c.members["王党员"].token}
	// One staff account per role, each holding that role alone.
	staffIDs := map[string]string{}
	for _, role := range []string{"admin", "dispatcher", "leader", "auditor"} {
		r := s.Do(t, "POST", "/api/v1/admin/staff", c.staff, map[string]any{"username": "authz-" + role, "name": "测试" + role,
			"roles": []string{role}, "password": "Authz-Pass-2026"})
		if r.Status != 201 {
			t.Fatalf("staff account %s: %d %s", role, r.Status, r.Body)
		}
		staffIDs[role] = r.JSON(t)["id"].(string)
		tokens[role] = s.LoginStaff(t, "authz-"+role, "Authz-Pass-2026")
	}
	tokens["resident"], _ = s.Login(t, "authz-resident")
	tokens["resident2"], _ = s.Login(t, "authz-resident2")

	// TA in grid A by resident, with 张网格; TB in grid B by resident2,
	// with 李网格; TM by resident2 in grid B, dispatched by staff to the
	// party member. All accepted, so in_progress.
	file := func(tok, category string, lat, lng float64) string {
		body := reportBody(category, uploadPhoto(t, s, tok)["id"].(string))
		body["location"] = map[string]any{"lat": lat, "lng": lng, "coord_type": "wgs84"}
		r := s.Do(t, "POST", "/api/v1/reports", tok, body)
		if r.Status != 201 {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["id"].(string)
	}
	ta := file(tokens["resident"], "0103", wgsLat, wgsLng)
	tb := file(tokens["resident2"], "0103", 32.0400, 118.7880)
	tm := file(tokens["resident2"], "0202", 32.0380, 118.7870)
	waitTask(t, s, tokens["worker"], "/api/v1/tasks", ta)
	waitTask(t, s, tokens["worker2"], "/api/v1/tasks", tb)
	waitTask(t, s, tokens["worker2"], "/api/v1/tasks", tm)
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+tm+"/dispatch", c.staff, map[string]string{"assignee_id": c.members["王党员"].id}); r.Status != 200 {
		t.Fatalf("dispatch to the member: %d %s", r.Status, r.Body)
	}
	for tok, id := range map[string]string{tokens["worker"]: ta, tokens["worker2"]: tb, tokens["member"]: tm} {
		if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", tok, nil); r.Status != 200 {
			t.Fatalf("accept %s: %d %s", id, r.Status, r.Body)
		}
	}
	// The follower reports the same problem at TA's spot: merged into TA.
	tokens["follower"], _ = s.Login(t, "authz-follower")
	merged := file(tokens["follower"], "0103", wgsLat, wgsLng)
	waitStatus(t, s, tokens["follower"], merged, "merged")
	tickets := map[string][2]string{"anonymous": {ta, tb}, "resident": {ta, tb}, "resident2": {tb, ta},
		"worker": {ta, tb}, "worker2": {tb, ta}, "member": {tm, ta}, "follower": {ta, tb},
		"admin": {ta, tb}, "dispatcher": {ta, tb}, "leader": {ta, tb}, "auditor": {ta, tb}}
	act := s.Do(t, "POST", "/api/v1/admin/activities", c.staff, map[string]string{"title": "清理小广告", "kind": "volunteer",
		"community": "幸福里社区", "starts_at": time.Now().Add(10 * time.Minute).Format(time.RFC3339),
		"ends_at": time.Now().Add(2 * time.Hour).Format(time.RFC3339)})
	if act.Status != 201 {
		t.Fatalf("activity: %d %s", act.Status, act.Body)
	}
	activity := act.JSON(t)["id"].(string)
	// The people directory's ids, a branch and an Open311 key of staff's.
	var workers struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/workers", c.staff, nil).Decode(t, &workers)
	profiles := map[string]string{}
	for _, w := range workers.Items {
		profiles[w.Name] = w.ID
	}
	var members struct {
		Items []struct {
			ID       string `json:"id"`
			BranchID string `json:"branch_id"`
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/party-members", c.staff, nil).Decode(t, &members)
	if profiles["张网格"] == "" || profiles["李网格"] == "" || len(members.Items) != 1 {
		t.Fatalf("people directory: %+v %+v", workers, members)
	}
	key := s.Do(t, "POST", "/api/v1/admin/open311/keys", c.staff, map[string]string{"name": "区12345平台"})
	if key.Status != 201 {
		t.Fatalf("open311 key: %d %s", key.Status, key.Body)
	}
	const none = "000000000000000000000000"
	staffObjects := map[string][2]string{
		"/api/v1/admin/workers/":       {profiles["张网格"], profiles["李网格"]},
		"/api/v1/admin/party-members/": {members.Items[0].ID, none},
		"/api/v1/admin/branches/":      {members.Items[0].BranchID, none},
		"/api/v1/admin/open311/keys/":  {key.JSON(t)["id"].(string), none},
		"/api/v1/activities/":          {activity, none},
		"/api/v1/admin/activities/":    {activity, none},
		"/api/v1/admin/layers/":        {none, none},
		"/api/v1/admin/staff/":         {staffIDs["leader"], none},
	}
	var rep report
	s.Do(t, "GET", "/api/v1/reports/"+ta, tokens["resident"], nil).Decode(t, &rep)
	photoURL, err := url.Parse(rep.Photos[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	staffObjects["/api/v1/admin/photos/"] = [2]string{rep.Photos[0].ID, none}
	badPhoto := *photoURL
	q := badPhoto.Query()
	q.Set("sig", strings.Repeat("0", len(q.Get("sig"))))
	badPhoto.RawQuery = q.Encode()

	// objects gives the path of the route for a role: own (0) or other (1).
	objects := func(route, role string, which int) (path string, other string) {
		_, pattern, _ := strings.Cut(route, " ")
		switch {
		case strings.HasPrefix(pattern, "/media/photos/"):
			u := []*url.URL{photoURL, &badPhoto}[which]
			return u.Path + "?" + u.RawQuery, ""
		case strings.HasPrefix(pattern, "/open311/"):
			pattern = strings.Replace(pattern, ":service_code", "0101.json", 1)
			pattern = strings.Replace(pattern, ":service_request_id", ta+".json", 1)
			pattern = strings.Replace(pattern, ":token", "6b0f000000000000000000aa.json", 1)
			return strings.Replace(pattern, "*", "nope.json", 1), ""
		}
		for prefix, ids := range staffObjects {
			if strings.HasPrefix(pattern, prefix) {
				return strings.Replace(pattern, ":id", ids[which], 1), ""
			}
		}
		switch {
		case strings.Contains(pattern, ":id"):
			return strings.Replace(pattern, ":id", tickets[role][which], 1), tickets[role][1-which]
		}
		pattern = strings.Replace(pattern, ":code", "0101", 1)
		pattern = strings.Replace(pattern, "*", "index.html", 1)
		return pattern, tickets[role][1]
	}

	// Every list pages with the cursor it hands out (signed), and only with
	// it: page 2 differs from page 1, a bare store cursor is refused.
	for path, tok := range map[string]string{"/api/v1/admin/tickets": c.staff, "/api/v1/admin/workers": c.staff,
		"/api/v1/reports/mine": tokens["resident2"]} {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		s.Do(t, "GET", path+"?limit=1", tok, nil).Decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("%s?limit=1: %+v", path, page)
		}
		first := page.Items[0].ID
		r := s.Do(t, "GET", path+"?limit=1&cursor="+url.QueryEscape(page.NextCursor), tok, nil)
		r.Decode(t, &page)
		if r.Status != 200 || len(page.Items) != 1 || page.Items[0].ID == first {
			t.Errorf("%s page 2: %d %s", path, r.Status, r.Body)
		}
		if r := s.Do(t, "GET", path+"?limit=1&cursor="+first, tok, nil); r.Status != 400 {
			t.Errorf("%s with a bare id as cursor: %d", path, r.Status)
		}
	}

	cells := 0
	for _, row := range authzTable {
		method, _, _ := strings.Cut(row.route, " ")
		want := strings.Fields(row.want)
		for _, which := range []int{1, 0} {
			for i, role := range authzRoles {
				own, other, object := strings.Cut(want[i], "/")
				expect := own
				if which == 1 {
					if !object {
						continue
					}
					expect = other
				}
				path, otherID := objects(row.route, role, which)
				var body any
				var headers []string
				switch {
				case row.body == "":
				case strings.HasPrefix(row.body, "?"):
					path += row.body
				case strings.HasPrefix(row.body, "form:"):
					body, headers = strings.TrimPrefix(row.body, "form:"), []string{"Content-Type", "application/x-www-form-urlencoded"}
				default:
					body = row.body
				}
				if method == "*" {
					method = http.MethodGet
				}
				r := s.Do(t, method, path, tokens[role], body, headers...)
				cells++
				name := row.route + " as " + role + []string{" (own)", " (another's)"}[which]
				if got := http.StatusText(r.Status); expect != itoa(r.Status) {
					t.Errorf("%s: %d %s, want %s: %.300s", name, r.Status, got, expect, r.Body)
				}
				if r.Status >= 400 && !strings.Contains(row.route, " /wechat/") && !strings.Contains(row.route, " /open311/") {
					checkEnvelope(t, name, r.Status, r.Body)
				}
				if row.noLeak && r.Status < 300 && !slices.Contains([]string{"admin", "dispatcher", "leader", "auditor"}, role) &&
					otherID != "" && strings.Contains(string(r.Body), otherID) {
					t.Errorf("%s: the answer shows another's ticket %s", name, otherID)
				}
			}
		}
	}
	t.Logf("%d routes × %d roles: %d cells", len(authzTable), len(authzRoles), cells)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// checkEnvelope fails unless body is the API's error envelope with a
// Chinese message, and an invalid_argument carries its field.
func checkEnvelope(t *testing.T, name string, status int, body []byte) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Errorf("%s: %d is not the error envelope: %.200s", name, status, body)
		return
	}
	if !hasHan(e.Error.Message) {
		t.Errorf("%s: message %q has no Chinese", name, e.Error.Message)
	}
	if (e.Error.Field != nil) != (e.Error.Code == "invalid_argument") {
		t.Errorf("%s: %s with field %v: invalid_argument, and only it, carries field", name, e.Error.Code, e.Error.Field)
	}
}

// hasHan reports whether s holds a Chinese character: every message a
// resident or clerk reads is Chinese.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
