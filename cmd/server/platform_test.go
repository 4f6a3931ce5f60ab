package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/wechat"
)

func TestPlatformEndpoints(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	redisURL, stopRedis := testenv.NewRedisServer(t)
	env["REDIS_URL"] = redisURL
	var metricsAddr string
	s := startServer(t, env, options{onMetricsReady: func(a string) { metricsAddr = a }})

	if r := s.Do(t, "GET", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("healthz: %d", r.Status)
	}
	if r := s.Do(t, "GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "GET", "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/api/v1/auth/wechat"] == nil {
		t.Fatalf("openapi.json: %v %.200s", err, r.Body)
	}
	s.Login(t, "metrics-user")
	// Metrics are on their own listener, not on the public port.
	if r := s.Do(t, "GET", "/metrics", "", nil); r.Status != 404 {
		t.Errorf("GET /metrics on the main port: %d", r.Status)
	}
	m := string(apitest.New("http://"+metricsAddr).Do(t, "GET", "/metrics", "", nil).Body)
	for _, want := range []string{
		`http_requests_total{method="POST",route="/api/v1/auth/wechat",status="200"} 1`,
		`http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/wechat",status="200"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Without Redis the server is not ready, and a login is a clean 503.
	stopRedis()
	r = s.Do(t, "GET", "/readyz", "", nil)
	if r.Status != 503 || !strings.Contains(string(r.Body), `"redis":"unavailable"`) || !strings.Contains(string(r.Body), `"mongodb":"ok"`) {
		t.Fatalf("readyz without redis: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "POST", "/api/v1/auth/wechat", "", map[string]string{"code": "during-outage"})
	if r.Status != 503 || r.ErrorCode() != "unavailable" || strings.Contains(string(r.Body), "dial") {
		t.Fatalf("login without redis: %d %s", r.Status, r.Body)
	}
}

func TestTwoInstancesShareLoginsAndAccessToken(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	sim := newSimulator(t, env["WECHAT_APPID"])
	a := startServer(t, env, options{simulator: sim})
	b := startServer(t, env, options{simulator: sim})

	tok, id := a.Login(t, "shared-user")
	r := b.Do(t, "GET", "/api/v1/me", tok, nil)
	if r.Status != 200 || r.JSON(t)["id"] != id {
		t.Fatalf("token from instance A on instance B: %d %s", r.Status, r.Body)
	}
	if _, id2 := b.Login(t, "shared-user"); id2 != id {
		t.Fatalf("same WeChat user is %s on A and %s on B", id, id2)
	}

	// The WeChat access token: two clients with their own Redis connections
	// to one deployment's keys (as two instances have) fetch it once.
	ctx := context.Background()
	openID := sim.OpenIDFor("shared-user")
	for i := range 4 {
		rdb, err := redis.OpenRedis(ctx, env["REDIS_URL"], env["REDIS_KEY_PREFIX"])
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		wx := wechat.New(wechat.Config{AppID: env["WECHAT_APPID"], Secret: "simulator-secret"}, redis.NewWeChatCache(rdb))
		if _, err := wx.MsgSecCheck(ctx, openID, "路灯不亮"); err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if n := sim.TokensIssued(); n != 1 {
		t.Fatalf("WeChat issued %d access tokens to one deployment; want 1", n)
	}
}

func TestEmbeddedModeKeepsUsersAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": dir, "WECHAT_APPID": testenv.Name("wxemb")}
	s := startServer(t, env, options{})
	if r := s.Do(t, "GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(s.logs.String(), "EMBEDDED SINGLE-MACHINE MODE") {
		t.Error("the log does not say this is the single-machine mode")
	}
	tok, id := s.Login(t, "embedded-resident")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Error("no clean stop in the log")
	}

	s2 := startServer(t, env, options{})
	// The generated token secret survived: the old token still works.
	r := s2.Do(t, "GET", "/api/v1/me", tok, nil)
	if r.Status != 200 || r.JSON(t)["id"] != id {
		t.Fatalf("token after restart: %d %s", r.Status, r.Body)
	}
	if _, id2 := s2.Login(t, "embedded-resident"); id2 != id {
		t.Fatalf("user changed across restart: %s → %s", id, id2)
	}
}

func TestGracefulShutdownDrainsRequests(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	// A slow client is mid-request when SIGTERM (here: ctx) arrives.
	req, _ := http.NewRequest("POST", s.Base+"/api/v1/auth/staff",
		&slowBody{data: []byte(`{"username":"` + adminUser + `","password":"` + adminPass + `"}`), delay: 300 * time.Millisecond})
	req.Header.Set("Content-Type", "application/json")
	done := make(chan int, 1)
	go func() {
		resp, err := s.HTTP.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 200 {
		t.Fatalf("in-flight request got %d during shutdown; want it drained with 200", code)
	}
	if _, err := http.Get(s.Base + "/healthz"); err == nil {
		t.Fatal("server still accepts after shutdown")
	}
}

// slowBody sends its data after a delay, like a phone on a weak network.
type slowBody struct {
	data  []byte
	delay time.Duration
	sent  bool
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.sent {
		return 0, io.EOF
	}
	time.Sleep(b.delay)
	b.sent = true
	return copy(p, b.data), nil
}
