//go:build faults

package faults

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/citysim"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// The embedded store refuses what it cannot serve safely (issue 16, item
// 12), tried on the real binary.

// command runs `server args…` with env (no HTTP server) and returns its
// exit code and what it printed.
func command(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("server %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// exited waits for a process that must stop by itself, and returns its
// exit code.
func (in *instance) exited(t *testing.T) int {
	t.Helper()
	select {
	case <-in.done:
		return in.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("server %s did not exit:\n%s", in.addr, tail(in.log.String(), 2000))
		return 0
	}
}

// A second server on the same DATA_DIR is refused with a Chinese message
// naming the holder's pid, and the first one goes on; a maintenance
// command (rebuild-stats) beside the running server is refused, saying to
// stop the server first.
func TestSecondServerAndMaintenanceRefused(t *testing.T) {
	env := embeddedEnv(t, t.TempDir())
	first := start(t, env, freeAddr(t))
	pid := strconv.Itoa(first.cmd.Process.Pid)

	second := launch(t, env, freeAddr(t))
	code := second.exited(t)
	msg := second.log.String()
	if code == 0 || !strings.Contains(msg, "另一个服务进程（pid "+pid+"）") {
		t.Fatalf("a second server on the same DATA_DIR: exit %d, said:\n%s\nwant a refusal naming pid %s", code, tail(msg, 2000), pid)
	}
	t.Logf("second server: exit %d: %s", code, lastLine(msg))
	if c, body := get(first.URL() + "/readyz"); c != http.StatusOK {
		t.Fatalf("the first server after the second was refused: %d %s", c, body)
	}

	code, out := command(t, env, "rebuild-stats")
	if code == 0 || !strings.Contains(out, "pid "+pid) || !strings.Contains(out, "请先停止服务") || !strings.Contains(out, "rebuild-stats") {
		t.Fatalf("rebuild-stats beside the running server: exit %d, said:\n%s", code, out)
	}
	t.Logf("rebuild-stats beside the server: exit %d: %s", code, lastLine(out))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// A database file with 64 KiB of random bytes written into it (the server
// stopped) is refused at start with a message that says how to restore the
// last backup; nothing is served from it.
func TestDamagedDatabaseRefusedAtStart(t *testing.T) {
	env := embeddedEnv(t, t.TempDir())
	addr := freeAddr(t)
	s := start(t, env, addr)
	city := buildCity(t, []string{s.URL()}, 2, burstResidents)
	city.Run(context.Background(), citysim.Load{Burst: 64})
	audit(t, city, citysim.AuditOptions{Wait: 30 * time.Second})
	s.stop()

	path := filepath.Join(env["DATA_DIR"], sqlite.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 64<<10)
	_, _ = rand.Read(junk)
	at := (fi.Size() / 2) &^ 4095
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(junk, at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("wrote 64 KiB of random bytes at offset %d of the %d-byte database", at, fi.Size())

	damaged := launch(t, env, addr)
	code := damaged.exited(t)
	msg := damaged.log.String()
	if code == 0 || !strings.Contains(msg, "已损坏") || !strings.Contains(msg, "server restore") {
		t.Fatalf("start on a damaged database: exit %d, said:\n%s\nwant a refusal saying how to restore the last backup", code, tail(msg, 2000))
	}
	t.Logf("start on the damaged database: exit %d: %s", code, lastLine(msg))
}

// Ten kill -9 cycles mid-load, then: the audit; /stats/summary (with every
// grouping) equals what rebuild-stats computes on a copy — taken with
// `server backup` while the server runs, restored with `server restore`
// into an empty DATA_DIR, rebuilt there, and served by a server started on
// it — and the restored store answers the same lists.
func TestTenKillsThenStatisticsEqualARebuild(t *testing.T) {
	secret := strings.Repeat("fault-suite-secret-", 3)
	env := embeddedEnv(t, t.TempDir())
	env["TOKEN_SECRET"] = secret // the restored copy must accept the city's tokens
	addr := freeAddr(t)
	s := start(t, env, addr)
	city := buildCity(t, []string{s.URL()}, 3, burstResidents)
	done := startLoad(context.Background(), city, citysim.Load{Rate: 8, Duration: 30 * time.Second, Handle: true,
		Poll: 500 * time.Millisecond, RetryFor: 2 * time.Minute})
	var downFor time.Duration
	for i := range 10 {
		time.Sleep(time.Duration(800+(i*337)%1200) * time.Millisecond)
		n := len(city.Reports())
		s.kill()
		killed := time.Now()
		s = start(t, env, addr)
		downFor += time.Since(killed)
		t.Logf("kill %d with %d reports in; ready again after %s", i+1, n, time.Since(killed).Round(10*time.Millisecond))
	}
	t.Logf("ten kills: down %s in all", downFor.Round(10*time.Millisecond))
	<-done
	audit(t, city, citysim.AuditOptions{Wait: 90 * time.Second})

	backup := filepath.Join(t.TempDir(), "backup.tar")
	code, out := command(t, env, "backup", backup)
	if code != 0 {
		t.Fatalf("server backup while the server runs: exit %d: %s", code, out)
	}
	t.Logf("backup: %s", lastLine(out))
	want, err := city.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	env2 := embeddedEnv(t, t.TempDir())
	env2["TOKEN_SECRET"] = secret
	if code, out := command(t, env2, "restore", backup); code != 0 {
		t.Fatalf("server restore into an empty DATA_DIR: exit %d: %s", code, out)
	}
	code, out = command(t, env2, "rebuild-stats")
	if code != 0 {
		t.Fatalf("rebuild-stats on the copy: exit %d: %s", code, out)
	}
	t.Logf("on the copy: %s", lastLine(out))
	copyServer := start(t, env2, freeAddr(t))
	got, err := city.On(copyServer.URL()).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := want.Diff(got); len(diff) > 0 {
		t.Fatalf("the server after ten kills and a rebuild of its backup disagree:\n  %s", strings.Join(diff, "\n  "))
	}
	t.Logf("after ten kills: %d tickets, the same in the staff's list, the workers' lists and the statistics (%d groupings) of the restored and rebuilt copy; statistics %s",
		len(want.Tickets), len(want.Stats), want.Stats["group_by="])
}

// After an outage — the server stopped with SIGSTOP for 20 s under load,
// then SIGCONT — catching up does not starve requests (reads asked while
// the backlog drains are answered), and the WAL stays bounded.
func TestOutageCatchUpIsBounded(t *testing.T) {
	env := embeddedEnv(t, t.TempDir())
	addr := freeAddr(t)
	s := start(t, env, addr)
	city := buildCity(t, []string{s.URL()}, 3, 40)
	done := startLoad(context.Background(), city, citysim.Load{Rate: 10, Duration: 35 * time.Second, Handle: true,
		Poll: 500 * time.Millisecond, RetryFor: 2 * time.Minute})
	time.Sleep(5 * time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedWith := len(city.Reports())
	time.Sleep(20 * time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	// Reads while the backlog (the requests held by the stop, the
	// residents' retries, the jobs) drains: each must be answered.
	var slowest time.Duration
	probes := 0
	for time.Since(resumed) < 5*time.Second {
		t0 := time.Now()
		code, body := get(s.URL() + "/readyz")
		if code != http.StatusOK {
			t.Fatalf("/readyz %s after SIGCONT: %d %s", time.Since(resumed).Round(time.Millisecond), code, body)
		}
		if err := city.Reads(context.Background()); err != nil {
			t.Fatalf("a read %s after SIGCONT: %v", time.Since(resumed).Round(time.Millisecond), err)
		}
		slowest = max(slowest, time.Since(t0))
		probes++
	}
	<-done
	au := audit(t, city, citysim.AuditOptions{Wait: 90 * time.Second})

	wal := filepath.Join(env["DATA_DIR"], sqlite.FileName+"-wal")
	fi, err := os.Stat(wal)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := os.Stat(filepath.Join(env["DATA_DIR"], sqlite.FileName))
	t.Logf("stopped for 20 s with %d reports in; after SIGCONT %d rounds of reads, the slowest %s; %d reports in all; the WAL %.1f MB beside a %.1f MB database",
		stoppedWith, probes, slowest.Round(time.Millisecond), au.Reports, float64(fi.Size())/(1<<20), float64(db.Size())/(1<<20))
	if fi.Size() > walBound {
		t.Fatalf("the WAL is %d bytes after the run; checkpoints keep it under %d", fi.Size(), walBound)
	}
}

// walBound is what the WAL may reach: SQLite checkpoints it every 1,000
// pages (4 MB); a few checkpoints' worth while readers hold old snapshots
// is normal, runaway growth is not.
const walBound = 16 << 20
