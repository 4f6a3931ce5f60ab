// Package testenv gives tests real stores: a MongoDB wire-protocol server
// (MONGODB_URI, or FerretDB embedded once per test binary) and a real Redis
// (REDIS_URL, or a redis-server started once per test binary on a free
// port). Each test gets its own database and key prefix, removed at the end,
// so tests run in parallel and leave nothing behind.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/internal/ferretdb"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

var (
	mongoOnce sync.Once
	mongoURI  string
	// embedded is the FerretDB this package started, if it did.
	embedded *ferretdb.Server
	mongoErr error

	redisOnce sync.Once
	redisURL  string
	redisErr  error
)

// Name returns a fresh random name with prefix, for databases and keys.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// MongoURI returns the URI of the test MongoDB server.
func MongoURI(tb testing.TB) string {
	tb.Helper()
	mongoOnce.Do(func() {
		if u := os.Getenv("MONGODB_URI"); u != "" {
			mongoURI = u
			return
		}
		dir, err := os.MkdirTemp("", "cgt-ferretdb-")
		if err != nil {
			mongoErr = err
			return
		}
		// Lives as long as the test binary.
		emb, err := ferretdb.Start(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			mongoErr = err
			return
		}
		mongoURI, embedded = emb.URI, emb
	})
	if mongoErr != nil {
		tb.Fatalf("start test mongodb: %v", mongoErr)
	}
	return mongoURI
}

// Mongo returns a connection to a fresh database, dropped when tb ends.
func Mongo(tb testing.TB) *mongodb.Mongo {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := mongodb.OpenMongo(ctx, MongoURI(tb), Name("t_"))
	if err != nil {
		tb.Fatalf("open test mongodb: %v", err)
	}
	if err := m.EnsureIndexes(ctx); err != nil {
		tb.Fatalf("indexes: %v", err)
	}
	if embedded != nil {
		if err := embedded.IndexIDs(ctx, m.Database().Name()); err != nil {
			tb.Fatalf("indexes: %v", err)
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = m.Drop(ctx)
		_ = m.Close(ctx)
	})
	return m
}

// RedisURL returns the URL of the test Redis: REDIS_URL, or a redis-server
// this package starts. Without either, the in-process Redis of the embedded
// mode stands in, and the package says so once.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	redisOnce.Do(func() {
		if u := os.Getenv("REDIS_URL"); u != "" {
			redisURL = u
			return
		}
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv: redis-server not found and REDIS_URL unset; using the embedded in-process Redis (install redis-server to test against the real one, as CI does)")
			m := miniredis.NewMiniRedis()
			if redisErr = m.StartAddr("127.0.0.1:0"); redisErr == nil {
				redisURL = "redis://" + m.Addr()
			}
			return
		}
		redisURL, redisErr = startRedisServer(bin)
	})
	if redisErr != nil {
		tb.Fatalf("start test redis: %v", redisErr)
	}
	return redisURL
}

// startRedisServer runs redis-server on a free port for the life of the test
// binary (it dies with its parent).
func startRedisServer(bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start redis-server: %w", err)
	}
	u := "redis://127.0.0.1:" + strconv.Itoa(port)
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer c.Close()
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return u, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("redis-server on port %d did not answer", port)
}

// Redis returns a connection with a fresh key prefix; its keys are deleted
// when tb ends.
func Redis(tb testing.TB) *redis.Redis {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	prefix := Name("t") + ":"
	r, err := redis.OpenRedis(ctx, RedisURL(tb), prefix)
	if err != nil {
		tb.Fatalf("open test redis: %v", err)
	}
	tb.Cleanup(func() {
		DeletePrefix(r.Client, prefix)
		_ = r.Close()
	})
	return r
}

// DeletePrefix removes every key that starts with prefix.
func DeletePrefix(c goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for _, k := range keys {
		c.Del(ctx, k)
	}
}

// NewRedisServer starts a Redis of tb's own, for tests that stop it to see
// what the server does without Redis. stop kills it.
func NewRedisServer(tb testing.TB) (url string, stop func()) {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(m.Close)
		return "redis://" + m.Addr(), m.Close
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	tb.Cleanup(stop)
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + port})
	defer c.Close()
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return "redis://127.0.0.1:" + port, stop
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatal("redis-server did not answer")
	return "", nil
}

// NewRedisCluster starts a three-master Redis Cluster of tb's own and
// returns its URL in go-redis's cluster form. It needs redis-server and
// redis-cli (Debian's redis-server package brings both).
func NewRedisCluster(tb testing.TB) string {
	tb.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal("redis-server is needed for the Redis Cluster test (apt-get install redis-server)")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatal("redis-cli is needed for the Redis Cluster test (apt-get install redis-tools)")
	}
	dir := tb.TempDir()
	var addrs []string
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
		cmd := exec.Command(server, "--port", port, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, i), "--dir", dir,
			"--save", "", "--appendonly", "no", "--loglevel", "warning")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, "127.0.0.1:"+port)
	}
	for _, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a})
		for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
			if i == 100 {
				tb.Fatalf("cluster node %s did not answer", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	u := "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	for i := 0; ; i++ {
		info, err := c.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return u
		}
		if i == 200 {
			tb.Fatalf("cluster not ready: %v %s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
