//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/internal/citysim"
	"github.com/citizen-city/chengguantong/internal/testenv"
)

const (
	adminUser = "admin"
	adminPass = "fault-suite-password"
)

// serverBin is the server binary built once for the suite.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cgt-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", serverBin, "github.com/citizen-city/chengguantong/cmd/server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the server:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// instance is the server binary running as a child process.
type instance struct {
	t    *testing.T
	env  map[string]string
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// URL is the instance's base URL.
func (in *instance) URL() string { return "http://" + in.addr }

// start runs the binary with env (HTTP_ADDR set to addr) and waits until
// /readyz answers 200.
func start(t *testing.T, env map[string]string, addr string) *instance {
	t.Helper()
	return startBinary(t, serverBin, env, addr)
}

// startBinary is start with another server binary (an earlier version's).
func startBinary(t *testing.T, bin string, env map[string]string, addr string) *instance {
	t.Helper()
	in := launchBinary(t, bin, env, addr)
	in.waitFor(t, "/readyz")
	return in
}

// launch runs the binary with env (HTTP_ADDR set to addr), without
// waiting for it; it is killed at the end of the test, its log shown if
// the test failed.
func launch(t *testing.T, env map[string]string, addr string) *instance {
	t.Helper()
	return launchBinary(t, serverBin, env, addr)
}

// launchBinary is launch with another server binary.
func launchBinary(t *testing.T, bin string, env map[string]string, addr string) *instance {
	t.Helper()
	in := &instance{t: t, env: env, addr: addr, log: &lockedBuffer{}, done: make(chan struct{})}
	in.cmd = exec.Command(bin)
	// Several instances run on this host: each its own metrics port.
	in.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=" + addr, "METRICS_ADDR=127.0.0.1:0"}
	for k, v := range env {
		in.cmd.Env = append(in.cmd.Env, k+"="+v)
	}
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = in.cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			t.Logf("log of %s (last 4000 bytes):\n%s", addr, tail(in.log.String(), 4000))
		}
	})
	return in
}

// waitFor waits until path answers 200, failing the test if the process
// exits first or 90 s pass.
func (in *instance) waitFor(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if code, _ := get(in.URL() + path); code == http.StatusOK {
			return
		}
		select {
		case <-in.done:
			t.Fatalf("server %s exited at start:\n%s", in.addr, tail(in.log.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s: %s not 200 after 90 s:\n%s", in.addr, path, tail(in.log.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (in *instance) kill() {
	select {
	case <-in.done:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

// stop sends SIGTERM and waits for the graceful shutdown.
func (in *instance) stop() {
	select {
	case <-in.done:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		in.t.Errorf("server %s did not stop on SIGTERM", in.addr)
		in.kill()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func get(u string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// productionEnv is the environment of production-mode instances sharing
// the MongoDB at mongoURI and the Redis at redisURL, with a database and
// key prefix of their own and the WeChat simulator.
func productionEnv(t *testing.T, mongoURI, redisURL string) map[string]string {
	name := testenv.Name("faults_")
	return map[string]string{
		"MONGODB_URI": mongoURI, "MONGODB_DATABASE": name, "REDIS_URL": redisURL, "REDIS_KEY_PREFIX": name + ":",
		"TOKEN_SECRET": strings.Repeat("fault-suite-secret-", 3), "WECHAT_SIMULATOR": "true", "WECHAT_APPID": testenv.Name("wxf"),
		"WECHAT_PUSH_TOKEN": "fault-suite-push-token", "ADMIN_USERNAME": adminUser, "ADMIN_PASSWORD": adminPass,
		"REPORTS_PER_DAY": "1000", "UPLOADS_PER_MINUTE": "1000", "LOGIN_RATE_PER_IP": "100000", "QUEUE_CONSUMERS": "4",
		"LOG_LEVEL": "warn",
	}
}

func copyEnv(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// redisServer is a redis-server of the test's own on a fixed port, so it
// can be killed and started again empty where the instances look for it.
type redisServer struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, addr string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("the fault tests need redis-server (apt-get install redis-server)")
	}
	_, port, _ := net.SplitHostPort(addr)
	r := &redisServer{t: t, addr: addr}
	r.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.kill)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i == 200 {
			t.Fatal("redis-server did not answer")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return r
}

func (r *redisServer) URL() string { return "redis://" + r.addr }

func (r *redisServer) kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
	}
}

// proxy forwards TCP to a target and can be cut: its listener closed and
// every connection through it dropped, as when the server behind it stops.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{addr: freeAddr(t), target: target, conns: map[net.Conn]bool{}}
	if err := p.restore(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) restore() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return nil
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
}

// viaProxy rewrites a mongodb:// URI to go through p.
func viaProxy(t *testing.T, uri string, p *proxy) string {
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

// hostOf is the host:port of a mongodb:// URI.
func hostOf(t *testing.T, uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// buildCity makes the simulator's city on the instances.
func buildCity(t *testing.T, targets []string, grids, residents int) *citysim.City {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := citysim.Build(ctx, citysim.Config{Targets: targets, StaffUser: adminUser, StaffPass: adminPass,
		Grids: grids, WorkersPerGrid: 2, Members: 2, Residents: residents})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// audit runs the simulator's audit and fails the test on any problem.
func audit(t *testing.T, c *citysim.City, o citysim.AuditOptions) *citysim.Audit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, err := c.Audit(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Stats.Print(&b)
	a.Print(&b)
	t.Logf("load and audit:\n%s", b.String())
	if a.Reports == 0 {
		t.Fatal("no report got a 201")
	}
	if !a.OK() {
		t.Fatalf("audit found %d problems", len(a.Problems))
	}
	if f := c.Stats.Failures(); len(f) > 0 {
		t.Fatalf("reports given up by the residents: %v", f)
	}
	return a
}
