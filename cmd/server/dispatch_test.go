package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/internal/testenv"
)

// Two adjacent grids in Nanjing whose shared border runs north–south at
// lng 118.785 (WGS-84). The test point (wgsLat, wgsLng) lies ~47 m west of
// it, in grid A; its GCJ-02 form lies ~500 m east, over grid B.
const gridsGeoJSON = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"320106001001001","name":"幸福里一网格","community":"幸福里社区"},
  "geometry":{"type":"Polygon","coordinates":[[[118.780,32.035],[118.785,32.035],[118.785,32.045],[118.780,32.045],[118.780,32.035]]]}},
 {"type":"Feature","properties":{"code":"320106001001002","name":"幸福里二网格","community":"幸福里社区"},
  "geometry":{"type":"Polygon","coordinates":[[[118.785,32.035],[118.790,32.035],[118.790,32.045],[118.785,32.045],[118.785,32.035]]]}}]}`

const (
	gridA = "320106001001001"
	gridB = "320106001001002"
)

// city is a deployment with grids, workers and party members on duty.
type city struct {
	s       *testServer
	staff   string
	workers map[string]person // by name
	members map[string]person
}

type person struct{ token, id string }

// newCity uploads the grids and binds workers (name → grid) and party
// members of 幸福里社区, all on duty.
func newCity(t *testing.T, s *testServer, workers map[string]string, members []string) *city {
	t.Helper()
	c := &city{s: s, staff: s.LoginStaff(t, adminUser, adminPass), workers: map[string]person{}, members: map[string]person{}}
	if r := s.Do(t, "POST", "/api/v1/admin/grids", c.staff, gridsGeoJSON); r.Status != 200 {
		t.Fatalf("grids: %d %s", r.Status, r.Body)
	}
	phone := 13900000000
	for name, grid := range workers {
		phone++
		r := s.Do(t, "POST", "/api/v1/admin/workers", c.staff, map[string]any{"name": name, "phone": fmt.Sprint(phone), "grid_codes": []string{grid}})
		c.workers[name] = c.bind(t, fmt.Sprintf("worker-%x", name), r.JSON(t)["invite_code"].(string))
	}
	if len(members) > 0 {
		branch := s.Do(t, "POST", "/api/v1/admin/branches", c.staff, map[string]string{"name": "第一党支部"}).JSON(t)["id"].(string)
		for _, name := range members {
			phone++
			r := s.Do(t, "POST", "/api/v1/admin/party-members", c.staff, map[string]any{"name": name, "phone": fmt.Sprint(phone), "branch_id": branch, "communities": []string{"幸福里社区"}})
			c.members[name] = c.bind(t, fmt.Sprintf("member-%x", name), r.JSON(t)["invite_code"].(string))
		}
	}
	return c
}

func (c *city) bind(t *testing.T, code, invite string) person {
	t.Helper()
	tok, id := c.s.Login(t, code)
	if r := c.s.Do(t, "POST", "/api/v1/me/bind", tok, map[string]string{"invite_code": invite}); r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if r := c.s.Do(t, "PUT", "/api/v1/me/duty", tok, map[string]bool{"on_duty": true}); r.Status != 200 {
		t.Fatalf("duty: %d %s", r.Status, r.Body)
	}
	return person{tok, id}
}

// report files a report at the test point as a new resident.
func (c *city) report(t *testing.T, resident, category string, loc map[string]any) (token, id string) {
	t.Helper()
	tok, _ := c.s.Login(t, resident)
	body := reportBody(category, uploadPhoto(t, c.s, tok)["id"].(string))
	if loc != nil {
		body["location"] = loc
	}
	r := c.s.Do(t, "POST", "/api/v1/reports", tok, body)
	if r.Status != 201 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	return tok, r.JSON(t)["id"].(string)
}

type taskList struct {
	Items []struct {
		ID, Status, Category string
		GridID               string `json:"grid_id"`
		DueAt                string `json:"due_at"`
	} `json:"items"`
}

// waitTask polls a user's /tasks (or /tasks/pool) until id appears.
func waitTask(t *testing.T, s *testServer, token, path, id string) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < patience {
		var l taskList
		r := s.Do(t, "GET", path, token, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		r.Decode(t, &l)
		for _, it := range l.Items {
			if it.ID == id {
				return time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ticket %s never appeared in %s", id, path)
	return 0
}

func hasTask(t *testing.T, s *testServer, token, path, id string) bool {
	t.Helper()
	var l taskList
	s.Do(t, "GET", path, token, nil).Decode(t, &l)
	for _, it := range l.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}

func TestReportIsDispatchedToTheGridsWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	c := newCity(t, s, map[string]string{"张网格": gridA, "李网格": gridB}, nil)

	// The GCJ-02 form of a point just west of the border: a naive lookup
	// would pick grid B; its WGS-84 position is in grid A.
	resTok, id := c.report(t, "resident-1", "1101", map[string]any{"lat": 32.0394454, "lng": 118.7897009, "coord_type": "gcj02"})
	waitTask(t, s, c.workers["张网格"].token, "/api/v1/tasks", id)
	if hasTask(t, s, c.workers["李网格"].token, "/api/v1/tasks", id) {
		t.Fatal("the ticket also reached grid B's worker")
	}
	rep := waitStatus(t, s, resTok, id, "dispatched")
	if types := timelineTypes(rep); types != "reported,registered,dispatched" {
		t.Fatalf("timeline %s", types)
	}
	// A task shows what and where, with a deadline, never who reported it.
	r := s.Do(t, "GET", "/api/v1/tasks", c.workers["张网格"].token, nil)
	if strings.Contains(string(r.Body), "reporter_id") || !strings.Contains(string(r.Body), `"due_at":"`) || !strings.Contains(string(r.Body), gridA) {
		t.Fatalf("task view: %s", r.Body)
	}
	// Accept, then resolve with an "after" photo.
	w := c.workers["张网格"].token
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w, map[string]any{"note": "x", "photo_ids": []string{"p"}}); r.Status != 409 {
		t.Fatalf("resolve before accept: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", c.workers["李网格"].token, nil); r.Status != 404 {
		t.Fatalf("accept by someone else: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w, nil); r.Status != 200 || r.JSON(t)["status"] != "in_progress" {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w, nil); r.Status != 409 {
		t.Fatalf("accept twice: %d %s", r.Status, r.Body)
	}
	after := uploadPhoto(t, s, w)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w, map[string]any{"note": "", "photo_ids": []string{after}}); r.Status != 400 {
		t.Fatalf("resolve without a note: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w, map[string]any{"note": "已更换井盖", "photo_ids": []string{after}})
	if r.Status != 200 || r.JSON(t)["status"] != "resolved" {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	rep = waitStatus(t, s, resTok, id, "resolved")
	if !strings.Contains(timelineTypes(rep), "accepted,resolved") {
		t.Fatalf("timeline %s", timelineTypes(rep))
	}
	if hasTask(t, s, w, "/api/v1/tasks", id) {
		t.Fatal("a resolved ticket is still in /tasks")
	}

	// 核查结案: only the reporter rates, only a resolved report, 1–5.
	stranger, _ := s.Login(t, "resident-stranger-fb")
	if r := s.Do(t, "POST", "/api/v1/reports/"+id+"/feedback", stranger, map[string]any{"satisfied": true, "rating": 5}); r.Status != 404 {
		t.Fatalf("feedback by a stranger: %d", r.Status)
	}
	for _, bad := range []map[string]any{{"satisfied": true, "rating": 0}, {"satisfied": true, "rating": 6}, {"rating": 3}} {
		if r := s.Do(t, "POST", "/api/v1/reports/"+id+"/feedback", resTok, bad); r.Status != 400 {
			t.Fatalf("feedback %v: %d %s", bad, r.Status, r.Body)
		}
	}
	// Not satisfied: 返工, back to the same grid's worker.
	r = s.Do(t, "POST", "/api/v1/reports/"+id+"/feedback", resTok, map[string]any{"satisfied": false, "rating": 2, "comment": "井盖还是松的"})
	if r.Status != 200 || r.JSON(t)["status"] != "dispatched" {
		t.Fatalf("unsatisfied feedback: %d %s", r.Status, r.Body)
	}
	waitTask(t, s, w, "/api/v1/tasks", id)
	if r := s.Do(t, "POST", "/api/v1/reports/"+id+"/feedback", resTok, map[string]any{"satisfied": true, "rating": 5}); r.Status != 409 {
		t.Fatalf("feedback on a reopened ticket: %d", r.Status)
	}
	s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w, nil)
	after2 := uploadPhoto(t, s, w)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w, map[string]any{"note": "重新固定井盖", "photo_ids": []string{after2}}); r.Status != 200 {
		t.Fatalf("second resolve: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "POST", "/api/v1/reports/"+id+"/feedback", resTok, map[string]any{"satisfied": true, "rating": 5, "comment": "谢谢"})
	if r.Status != 200 || r.JSON(t)["status"] != "closed" {
		t.Fatalf("satisfied feedback: %d %s", r.Status, r.Body)
	}
	rep = waitStatus(t, s, resTok, id, "closed")
	if types := timelineTypes(rep); !strings.Contains(types, "resolved,reopened,dispatched,accepted,resolved,closed") {
		t.Fatalf("timeline %s", types)
	}
	// The worker appears only by role and masked name.
	body := string(s.Do(t, "GET", "/api/v1/reports/"+id, resTok, nil).Body)
	if !strings.Contains(body, `"actor":{"role":"grid_worker","name":"张**"}`) || strings.Contains(body, c.workers["张网格"].id) {
		t.Fatalf("timeline identities: %s", body)
	}
}

func TestPoolClaimRaceAndReturns(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	// Grid B has two workers, grid A none on duty: A's tickets go to the pool.
	c := newCity(t, s, map[string]string{"王一": gridB, "王二": gridB}, []string{"党员甲", "党员乙"})
	_, id := c.report(t, "resident-pool", "1102", nil)
	a, b := c.members["党员甲"].token, c.members["党员乙"].token
	waitTask(t, s, a, "/api/v1/tasks/pool", id)

	// Two party members claim at once: one 200, one 409.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, tok := range []string{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = s.Do(t, "POST", "/api/v1/tasks/"+id+"/claim", tok, nil).Status }()
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 409) && !(codes[0] == 409 && codes[1] == 200) {
		t.Fatalf("claims answered %v; want one 200 and one 409", codes)
	}
	if hasTask(t, s, a, "/api/v1/tasks/pool", id) {
		t.Fatal("a claimed ticket stays in the pool")
	}
	// A resident cannot claim; a worker is not a party member.
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/claim", c.workers["王一"].token, nil); r.Status != 403 {
		t.Fatalf("worker claims: %d", r.Status)
	}

	// A returned task goes to the other worker of the grid.
	_, id2 := c.report(t, "resident-return", "1101", map[string]any{"lat": wgsLat, "lng": 118.7875, "coord_type": "wgs84"})
	first, second := c.workers["王一"], c.workers["王二"]
	deadline := time.Now().Add(patience)
	for !hasTask(t, s, first.token, "/api/v1/tasks", id2) {
		if hasTask(t, s, second.token, "/api/v1/tasks", id2) {
			first, second = second, first
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never dispatched")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id2+"/return", first.token, map[string]string{"reason": ""}); r.Status != 400 {
		t.Fatalf("return without reason: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id2+"/return", first.token, map[string]string{"reason": "不属于我的片区"}); r.Status != 200 {
		t.Fatalf("return: %d %s", r.Status, r.Body)
	}
	if !hasTask(t, s, second.token, "/api/v1/tasks", id2) || hasTask(t, s, first.token, "/api/v1/tasks", id2) {
		t.Fatal("the returned task did not go to the other worker")
	}
	if r := s.Do(t, "GET", "/api/v1/reports/"+id2, first.token, nil); r.Status != 404 {
		t.Fatalf("the former assignee still reads the ticket: %d", r.Status)
	}
	// Returned by both: nobody left, so it waits for staff (and the pool).
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id2+"/return", second.token, map[string]string{"reason": "设备不足"}); r.Status != 200 {
		t.Fatalf("second return: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "GET", "/api/v1/admin/tickets?queue=staff", c.staff, nil)
	if !strings.Contains(string(r.Body), id2) {
		t.Fatalf("staff queue lacks the twice-returned ticket: %s", r.Body)
	}
	// Staff dispatch it by hand.
	r = s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/dispatch", c.staff, map[string]string{"assignee_id": first.id})
	if r.Status != 200 || !hasTask(t, s, first.token, "/api/v1/tasks", id2) {
		t.Fatalf("manual dispatch: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/dispatch", c.staff, map[string]string{"assignee_id": "nobody"}); r.Status != 400 {
		t.Fatalf("dispatch to nobody: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/reject", c.staff, map[string]string{"reason": "重复反映"}); r.Status != 200 || r.JSON(t)["status"] != "rejected" {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id2+"/reject", c.staff, map[string]string{"reason": "again"}); r.Status != 409 {
		t.Fatalf("reject a rejected ticket: %d", r.Status)
	}
}

func TestDeadlinesReassignAndEscalate(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)) // a Monday morning
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	env := testEnv(t)
	env["ACCEPT_TIMEOUT"] = "10m"
	env["TOKEN_TTL"] = "240h" // the clock moves days ahead
	s := startServer(t, env, options{now: now})
	c := newCity(t, s, map[string]string{"赵一": gridA, "赵二": gridA}, nil)
	resTok, id := c.report(t, "resident-deadline", "1101", nil) // 井盖: 2 working hours

	var holder, other person
	deadline := time.Now().Add(patience)
	for holder.id == "" {
		for _, w := range c.workers {
			if hasTask(t, s, w.token, "/api/v1/tasks", id) {
				holder = w
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("never dispatched")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range c.workers {
		if w.id != holder.id {
			other = w
		}
	}
	// Not accepted within 10 minutes: re-assigned to the other worker.
	advance(11 * time.Minute)
	waitTask(t, s, other.token, "/api/v1/tasks", id)
	if hasTask(t, s, holder.token, "/api/v1/tasks", id) {
		t.Fatal("the first worker still holds the ticket")
	}
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", other.token, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	// Past the 2 working hours: escalated once, counted overdue.
	advance(3 * time.Hour)
	deadline = time.Now().Add(patience)
	for {
		rep := waitStatus(t, s, resTok, id, "in_progress")
		if strings.Count(timelineTypes(rep), "escalated") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not escalated: %s", timelineTypes(rep))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := s.Do(t, "GET", "/api/v1/admin/tickets?status=in_progress", c.staff, nil)
	if !strings.Contains(string(r.Body), `"escalated":true`) || !strings.Contains(string(r.Body), `"overdue":true`) {
		t.Fatalf("staff view: %s", r.Body)
	}
	advance(time.Hour)
	time.Sleep(1500 * time.Millisecond) // a few more timer polls
	if n := strings.Count(timelineTypes(waitStatus(t, s, resTok, id, "in_progress")), "escalated"); n != 1 {
		t.Fatalf("escalated %d times", n)
	}
	// Resolved, and the resident never answers: closed when the window passes.
	after := uploadPhoto(t, s, other.token)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", other.token, map[string]any{"note": "已修复", "photo_ids": []string{after}}); r.Status != 200 {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	advance(71 * time.Hour)
	time.Sleep(1200 * time.Millisecond)
	waitStatus(t, s, resTok, id, "resolved")
	advance(2 * time.Hour)
	if rep := waitStatus(t, s, resTok, id, "closed"); !strings.HasSuffix(timelineTypes(rep), "resolved,closed") {
		t.Fatalf("auto-close timeline %s", timelineTypes(rep))
	}
}

func TestFlushAllAndRestartRedispatchEverythingOnce(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	env["REDIS_URL"], _ = testenv.NewRedisServer(t) // FLUSHALL must not touch other tests
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"钱一": gridA}, nil)
	// Reports are accepted, then the server stops at once: some are
	// screened, some routed, some only queued in Redis — which then loses
	// everything.
	var ids []string
	for i := range 6 {
		_, id := c.report(t, fmt.Sprintf("resident-flush-%d", i), "1102", map[string]any{"lat": wgsLat + float64(i)*0.001, "lng": wgsLng, "coord_type": "wgs84"})
		ids = append(ids, id)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(mustRedisOptions(t, env["REDIS_URL"]))
	defer rdb.Close()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, env, options{})
	// Every ticket is dispatched, exactly once, with its timers back.
	for _, id := range ids {
		waitTask(t, s2, c.workers["钱一"].token, "/api/v1/tasks", id)
	}
	time.Sleep(time.Second) // let any duplicate delivery show itself
	for _, id := range ids {
		rep := waitStatus(t, s2, c.staff, id, "dispatched")
		if n := strings.Count(timelineTypes(rep), "dispatched"); n != 1 {
			t.Fatalf("ticket %s dispatched %d times: %s", id, n, timelineTypes(rep))
		}
	}
	n, err := rdb.ZCard(context.Background(), env["REDIS_KEY_PREFIX"]+"{timers}:z").Result()
	if err != nil || n != int64(2*len(ids)) {
		t.Fatalf("%d timers rebuilt (%v); want an accept and a due timer per ticket", n, err)
	}
}

func mustRedisOptions(t *testing.T, u string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestFlushAllWhileRunningIsRebuilt loses Redis's data under a running
// server: within the reconciler's next look (30 s) the open tickets are back
// in the task index, with their timers, and nothing is dispatched twice.
func TestFlushAllWhileRunningIsRebuilt(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	env["REDIS_URL"], _ = testenv.NewRedisServer(t) // FLUSHALL must not touch other tests
	s := startServer(t, env, options{})
	c := newCity(t, s, map[string]string{"孙二": gridA}, nil)
	var ids []string
	for i := range 3 {
		_, id := c.report(t, fmt.Sprintf("resident-flush-live-%d", i), "1102", map[string]any{"lat": wgsLat + float64(i)*0.001, "lng": wgsLng, "coord_type": "wgs84"})
		ids = append(ids, id)
	}
	worker := c.workers["孙二"].token
	for _, id := range ids {
		waitTask(t, s, worker, "/api/v1/tasks", id)
	}
	rdb := redis.NewClient(mustRedisOptions(t, env["REDIS_URL"]))
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// Rebuilt without a restart: the timers come back (the workers' lists
	// are the store's, which Redis's loss does not touch).
	deadline := time.Now().Add(patience)
	for {
		n, err := rdb.ZCard(ctx, env["REDIS_KEY_PREFIX"]+"{timers}:z").Result()
		if err == nil && n == int64(2*len(ids)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after FLUSHALL: %d timers (%v); want %d timers", n, err, 2*len(ids))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range ids {
		waitTask(t, s, worker, "/api/v1/tasks", id)
		rep := waitStatus(t, s, c.staff, id, "dispatched")
		if n := strings.Count(timelineTypes(rep), "dispatched"); n != 1 {
			t.Fatalf("ticket %s dispatched %d times: %s", id, n, timelineTypes(rep))
		}
	}
}
