package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

const (
	adminUser = "admin"
	adminPass = "correct-horse-battery"
)

// testServer is one running instance of the real wiring.
type testServer struct {
	*apitest.Client
	env  map[string]string
	logs *syncBuffer
	stop func() error
}

// syncBuffer collects the server's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is the environment of one instance on a store of its own: the
// embedded default (SQLite under a temporary DATA_DIR, an in-process Redis)
// unless CGT_TEST_STORE=mongodb asks for production mode on the test stores
// (CI runs the suite both ways).
func testEnv(t *testing.T) map[string]string {
	t.Helper()
	if os.Getenv("CGT_TEST_STORE") == "mongodb" {
		return productionEnv(t)
	}
	return map[string]string{
		"HTTP_ADDR":         "127.0.0.1:0",
		"DATA_DIR":          t.TempDir(),
		"TOKEN_SECRET":      strings.Repeat("0123456789abcdef", 3),
		"WECHAT_APPID":      testenv.Name("wxsim"),
		"WECHAT_PUSH_TOKEN": "e2e-push-token",
		"ADMIN_USERNAME":    adminUser,
		"ADMIN_PASSWORD":    adminPass,
		"LOG_LEVEL":         "debug",
		"METRICS_ADDR":      "127.0.0.1:0",
	}
}

// productionEnv is the environment of a production-mode instance on the
// test stores (a MongoDB wire server and a real Redis), with a database and
// key prefix of its own: for tests that run several instances on one store,
// or reach into Redis.
func productionEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"HTTP_ADDR":         "127.0.0.1:0",
		"MONGODB_URI":       testenv.MongoURI(t),
		"MONGODB_DATABASE":  testenv.Name("e2e_"),
		"REDIS_URL":         testenv.RedisURL(t),
		"REDIS_KEY_PREFIX":  testenv.Name("e2e") + ":",
		"TOKEN_SECRET":      strings.Repeat("0123456789abcdef", 3),
		"WECHAT_SIMULATOR":  "true",
		"WECHAT_APPID":      testenv.Name("wxsim"),
		"WECHAT_PUSH_TOKEN": "e2e-push-token",
		"ADMIN_USERNAME":    adminUser,
		"ADMIN_PASSWORD":    adminPass,
		"LOG_LEVEL":         "debug",
	}
}

// startServer runs the server with env until the test ends.
func startServer(t *testing.T, env map[string]string, opt options) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	addr, stop := launch(t, env, opt, logs)
	return &testServer{Client: apitest.New("http://" + addr), env: env, logs: logs, stop: stop}
}

// serverLog is where a launched server writes its log, shown when the test
// fails.
type serverLog interface {
	io.Writer
	fmt.Stringer
}

// launch runs the real wiring in-process with env and opt until tb ends
// (or stop is called) and returns its address. Cleanups registered before
// it run after the server has stopped.
func launch(tb testing.TB, env map[string]string, opt options, logs serverLog) (addr string, stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	opt.onReady = func(a string) { addrc <- a }
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, testGetenv(env), logs, opt) }()
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		tb.Fatalf("server did not start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatalf("server did not start in time\n%s", logs)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() { cancel(); stopErr = <-errc })
		return stopErr
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("server stopped with %v", err)
		}
		if tb.Failed() {
			tb.Logf("server log:\n%s", logs)
		}
	})
	return addr, stop
}

// testGetenv reads env, with the metrics listener on a port of its own
// unless env says otherwise: many servers run at once, and the default
// METRICS_ADDR is one fixed port.
func testGetenv(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "METRICS_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
}

// newSimulator returns a WeChat simulator registered for appID.
func newSimulator(t *testing.T, appID string) *wechatsim.Simulator {
	t.Helper()
	sim := wechatsim.New(wechatsim.Options{AppID: appID, Secret: "simulator-secret"})
	unregister := sim.Install()
	t.Cleanup(func() { unregister(); sim.Close() })
	return sim
}

// patience bounds every wait for background work (screening, dispatch,
// timers) in these tests. It is generous because CI runs them under -race
// on two cores with many servers at once; a wait ends as soon as its
// condition holds, so the bound costs nothing when things are quick.
const patience = 90 * time.Second
