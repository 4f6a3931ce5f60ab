//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/internal/citysim"
	"github.com/citizen-city/chengguantong/internal/testenv"
)

// runLoad drives the city in the background; the returned function waits
// for the load to end.
func runLoad(c *citysim.City, l citysim.Load) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(context.Background(), l)
	}()
	return func() { <-done }
}

func targets(ins ...*instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.URL())
	}
	return out
}

// tookOver checks that a survivor took over the killed instance's jobs
// through its liveness mark (not the idle-based reclaim), and logs how long
// after the kill the last of them was dispatched.
func tookOver(t *testing.T, city *citysim.City, killedAt time.Time, au *citysim.Audit, survivors ...*instance) {
	t.Helper()
	logged := false
	for _, in := range survivors {
		logged = logged || strings.Contains(in.log.String(), "took over the jobs of a consumer that died")
	}
	if !logged {
		t.Error("no survivor took over the killed instance's jobs")
	}
	var last time.Duration
	n := 0
	for _, r := range city.Reports() {
		if d := au.DispatchedAt[r.ID].Sub(killedAt); r.At.Before(killedAt) && d > 0 {
			n++
			last = max(last, d)
		}
	}
	t.Logf("%d tickets reported before the kill were dispatched after it; the last %s after it", n, last.Round(10*time.Millisecond))
}

// A resident logs in on one instance and reports on another (each with its
// own simulator, as two processes are): dispatched at once.
func TestTwoInstancesShareLogins(t *testing.T) {
	rs := startRedis(t, freeAddr(t))
	env := productionEnv(t, testenv.MongoURI(t), rs.URL())
	a, b := start(t, env, freeAddr(t)), start(t, env, freeAddr(t))
	city := buildCity(t, targets(a, b), 2, 10)
	city.Run(context.Background(), citysim.Load{Rate: 2, Duration: 5 * time.Second})
	for _, r := range city.Reports() {
		if r.Target == r.LoginTarget {
			t.Fatalf("report %s logged in and reported on the same instance", r.ID)
		}
	}
	au := audit(t, city, citysim.AuditOptions{Wait: 30 * time.Second})
	t.Logf("login on A, report on B: dispatch p50 %s max %s", au.DispatchLatency[len(au.DispatchLatency)/2], au.DispatchLatency[len(au.DispatchLatency)-1])
}

// Redis is killed and started again empty mid-load, and later flushed
// (FLUSHALL): the queues are rebuilt from MongoDB, nothing is lost or done
// twice.
func TestRedisKilledRestartedEmptyAndFlushed(t *testing.T) {
	raddr := freeAddr(t)
	rs := startRedis(t, raddr)
	env := productionEnv(t, testenv.MongoURI(t), rs.URL())
	a, b := start(t, env, freeAddr(t)), start(t, env, freeAddr(t))
	city := buildCity(t, targets(a, b), 2, 30)
	wait := runLoad(city, citysim.Load{Rate: 3, Duration: 20 * time.Second})
	time.Sleep(4 * time.Second)
	rs.kill()
	t.Logf("killed redis with %d reports in", len(city.Reports()))
	time.Sleep(2 * time.Second)
	startRedis(t, raddr)
	time.Sleep(7 * time.Second)
	c := redis.NewClient(&redis.Options{Addr: raddr})
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	t.Logf("FLUSHALL with %d reports in", len(city.Reports()))
	wait()
	audit(t, city, citysim.AuditOptions{Wait: 150 * time.Second})
}

// MongoDB is cut off for 20 s mid-load: the API answers 503 with the error
// envelope, /readyz says 503, nothing is half-written, and the instances
// recover by themselves.
func TestMongoDBDownFor20Seconds(t *testing.T) {
	mongo := testenv.MongoURI(t)
	p := newProxy(t, hostOf(t, mongo))
	rs := startRedis(t, freeAddr(t))
	env := productionEnv(t, viaProxy(t, mongo, p), rs.URL())
	a, b := start(t, env, freeAddr(t)), start(t, env, freeAddr(t))
	city := buildCity(t, targets(a, b), 2, 30)
	wait := runLoad(city, citysim.Load{Rate: 3, Duration: 32 * time.Second, RetryFor: 2 * time.Minute})
	time.Sleep(5 * time.Second)
	p.cut()
	cutAt := time.Now()
	t.Logf("cut MongoDB off with %d reports in", len(city.Reports()))

	var ready int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ready, _ = get(a.URL() + "/readyz"); ready == http.StatusServiceUnavailable {
			break
		}
	}
	if ready != http.StatusServiceUnavailable {
		t.Errorf("/readyz without MongoDB: %d", ready)
	}
	resp, err := (&http.Client{Timeout: 40 * time.Second}).Post(b.URL()+"/api/v1/auth/wechat", "application/json", strings.NewReader(`{"code":"during-the-outage"}`))
	if err != nil {
		t.Fatal(err)
	}
	var envl struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&envl)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || envl.Error.Code != "unavailable" || envl.Error.Message == "" {
		t.Errorf("login without MongoDB: %d %+v", resp.StatusCode, envl)
	}
	time.Sleep(20*time.Second - time.Since(cutAt))
	if err := p.restore(); err != nil {
		t.Fatal(err)
	}
	t.Log("MongoDB back")
	wait()
	audit(t, city, citysim.AuditOptions{Wait: 120 * time.Second})
	for _, in := range []*instance{a, b} {
		if code, body := get(in.URL() + "/readyz"); code != http.StatusOK {
			t.Errorf("%s /readyz after the outage: %d %s", in.addr, code, body)
		}
	}
}

// WeChat fails through the simulator's fault switches: first for a while
// (the reports wait and are screened once it is back), then for good (the
// reports are held for staff within the bounded attempts, and staff
// release them). Nothing is screened or dispatched twice.
func TestWeChatFailingAndRecovering(t *testing.T) {
	rs := startRedis(t, freeAddr(t))
	base := productionEnv(t, testenv.MongoURI(t), rs.URL())
	base["QUEUE_RETRY_AFTER"] = "1s"
	addr := freeAddr(t)
	healthy := start(t, base, addr)
	city := buildCity(t, targets(healthy), 2, 20)
	healthy.stop()

	// WeChat busy (-1) for a while: retried, not held.
	down := start(t, copyEnv(base, "WECHAT_SIMULATOR_FAULTS", "msg_sec_check=-1,media_check_async=-1", "SCREENING_MAX_ATTEMPTS", "1000"), addr)
	city.Run(context.Background(), citysim.Load{Rate: 2, Duration: 4 * time.Second})
	time.Sleep(2 * time.Second)
	states, err := city.States(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range states {
		if st.Status != "submitted" || st.Held {
			t.Fatalf("%s is %+v while WeChat is down; want submitted, not held", id, st)
		}
	}
	down.stop()
	up := start(t, base, addr) // WeChat is back
	audit(t, city, citysim.AuditOptions{Wait: 60 * time.Second})
	up.stop()

	// msgSecCheck answers 40003 for good: held for staff after 2 attempts.
	broken := start(t, copyEnv(base, "WECHAT_SIMULATOR_FAULTS", "msg_sec_check=40003", "SCREENING_MAX_ATTEMPTS", "2"), addr)
	before := len(city.Reports())
	city.Run(context.Background(), citysim.Load{Rate: 2, Duration: 3 * time.Second})
	deadline := time.Now().Add(60 * time.Second)
	for {
		states, err := city.States(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, st := range states {
			if st.Held {
				held++
			}
		}
		if held == len(city.Reports())-before {
			t.Logf("%d reports held for staff", held)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reports held", held, len(city.Reports())-before)
		}
		time.Sleep(500 * time.Millisecond)
	}
	broken.stop()
	start(t, base, addr) // WeChat is back; staff release the held reports
	n, err := city.ReleaseHeld(context.Background())
	if err != nil || n != len(city.Reports())-before {
		t.Fatalf("released %d (%v)", n, err)
	}
	time.Sleep(3 * time.Second) // a second screening would show now
	audit(t, city, citysim.AuditOptions{Wait: 60 * time.Second})
}

// The same flow on a three-master Redis Cluster started on this machine,
// with one of two instances killed mid-load.
func TestRedisClusterWithAKill(t *testing.T) {
	env := productionEnv(t, testenv.MongoURI(t), testenv.NewRedisCluster(t))
	a := start(t, env, freeAddr(t))
	b := start(t, copyEnv(env, "WECHAT_SIMULATOR_FAULTS", "msg_sec_check=timeout"), freeAddr(t))
	city := buildCity(t, targets(a, b), 2, 30)
	wait := runLoad(city, citysim.Load{Rate: 4, Duration: 12 * time.Second})
	time.Sleep(5 * time.Second)
	b.kill()
	killedAt := time.Now()
	wait()
	au := audit(t, city, citysim.AuditOptions{Wait: 90 * time.Second})
	tookOver(t, city, killedAt, au, a)
}
