//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/citysim"
)

// storageFull is what the embedded store answers a write it cannot store
// for lack of space (store/sqlite's msgStorageFull), in part.
const storageFull = "存储空间已满"

// smallDisk mounts a tmpfs of the given size at a new directory and
// unmounts it at the end of the test (after the servers started later are
// killed: cleanups run last first). Without the right to mount it skips —
// unless CI=true, where it fails: CI runs as root and must run the test.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := "cannot mount a " + size + " tmpfs for DATA_DIR (this test needs root): " + strings.TrimSpace(string(out)) + " " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file at path until the file system has no room left,
// and keeps it. It returns how many bytes it wrote.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			// Take the last pages too, a small write at a time.
			small := make([]byte, 512)
			for {
				w, err := f.Write(small)
				n += int64(w)
				if err != nil {
					return n
				}
			}
		}
		if err != nil {
			t.Fatalf("fill %s: %v", path, err)
		}
	}
}

// startServing is start for a server that must serve although it is not
// ready (/readyz 503 on a full disk): it waits for /healthz.
func startServing(t *testing.T, env map[string]string, addr string) *instance {
	t.Helper()
	in := launch(t, env, addr)
	in.waitFor(t, "/healthz")
	return in
}

// envelope reads an answer's error envelope.
type envelope struct {
	Error struct {
		Code, Message string
	} `json:"error"`
}

// readyFull waits (at most 10 s) until /readyz answers 503 saying the
// storage is full, and fails the test otherwise.
func readyFull(t *testing.T, in *instance) {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, body = get(in.URL() + "/readyz"); code == http.StatusServiceUnavailable && strings.Contains(body, storageFull) {
			t.Logf("/readyz on a full disk: %d %s", code, body)
			return
		}
	}
	t.Fatalf("/readyz on a full disk: %d %s; want 503 saying %q", code, body, storageFull)
}

// A full disk is an answer, not a crash (issue 16, item 11): DATA_DIR on a
// 40 MB tmpfs, filled by a file while residents submit. Every write that
// cannot be stored answers 503 unavailable with the Chinese storage-full
// message — never a 500, never a 201 that is lost; /readyz says the
// storage is full and so does the log; the server restarts on the full
// disk (after a SIGTERM and after a kill -9 on it, and after a clean stop
// with the disk filled meanwhile) and serves reads; writes resume by
// themselves once the filler is deleted; then the audit: every 201
// exists, is dispatched once and counted once.
func TestEmbeddedFullDisk(t *testing.T) {
	dir := smallDisk(t, "40m")
	env := embeddedEnv(t, filepath.Join(dir, "data"))
	env["QUEUE_RETRY_AFTER"] = "2s" // screening refused by the full disk is tried again soon
	addr := freeAddr(t)
	s := start(t, env, addr)
	city := buildCity(t, []string{s.URL()}, 2, 20)
	done := startLoad(context.Background(), city, citysim.Load{Rate: 4, Duration: 45 * time.Second, RetryFor: 3 * time.Minute})
	time.Sleep(4 * time.Second)

	filler := filepath.Join(dir, "filler")
	n := fill(t, filler)
	filledAt := time.Now()
	t.Logf("filled the disk with %.1f MB with %d reports in", float64(n)/(1<<20), len(city.Reports()))

	readyFull(t, s)
	// Small writes may still fit in the WAL's room; large ones exhaust it:
	// grids of a few thousand vertices, uploaded until one is refused.
	refusedGrid := false
	for i := range 100 {
		code, e := uploadGrid(t, s, city.StaffToken(), i)
		if code == http.StatusOK {
			continue
		}
		if code != http.StatusServiceUnavailable || e.Error.Code != "unavailable" || !strings.Contains(e.Error.Message, storageFull) {
			t.Fatalf("grid upload %d on a full disk: %d %+v; want 503 unavailable %q", i, code, e, storageFull)
		}
		t.Logf("grid upload %d on a full disk: 503 %s (the %d before it fitted in the WAL's room)", i, e.Error.Message, i)
		refusedGrid = true
		break
	}
	if !refusedGrid {
		t.Fatal("100 grid uploads of 0.2 MB each were stored on a full disk")
	}
	time.Sleep(3 * time.Second) // the residents meet the full disk

	// Restarted on the full disk, gracefully and after a crash: it starts
	// and serves reads, and says it cannot write.
	for _, how := range []string{"SIGTERM", "kill -9"} {
		if how == "SIGTERM" {
			s.stop()
		} else {
			s.kill()
		}
		s = startServing(t, env, addr)
		readyFull(t, s)
		if err := city.Reads(context.Background()); err != nil {
			t.Errorf("reads after a restart (%s) on a full disk: %v", how, err)
		}
		code, e := uploadGrid(t, s, city.StaffToken(), 1000)
		if code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, storageFull) {
			t.Errorf("a write after a restart (%s) on a full disk: %d %+v", how, code, e)
		}
	}
	if !strings.Contains(s.log.String(), "storage full") {
		t.Error("the log does not say the storage is full")
	}
	time.Sleep(time.Until(filledAt.Add(20 * time.Second))) // full for 20 s under load

	// Space returns: writes resume by themselves.
	free(t, s, filler, filledAt)

	// A store stopped cleanly with room (its WAL folded into the file),
	// then the disk filled while it was down: it starts, serves reads.
	s.stop()
	fill(t, filler)
	filledAt = time.Now()
	s = startServing(t, env, addr)
	readyFull(t, s)
	if err := city.Reads(context.Background()); err != nil {
		t.Errorf("reads after a clean stop and a disk filled meanwhile: %v", err)
	}
	time.Sleep(3 * time.Second) // the residents meet it again
	free(t, s, filler, filledAt)
	<-done
	au := audit(t, city, citysim.AuditOptions{Wait: 90 * time.Second})

	// What the residents were answered: 503 with the storage-full message
	// while the disk was full (or no answer while the server restarted),
	// never a 500.
	refused := 0
	for a, n := range city.Stats.Answers() {
		switch {
		case a.Status >= 500 && a.Status != http.StatusServiceUnavailable:
			t.Errorf("%d× %s answered %d %s %q", n, a.Endpoint, a.Status, a.Code, a.Message)
		case a.Status == http.StatusServiceUnavailable && a.Code == "unavailable" && strings.Contains(a.Message, storageFull):
			refused += n
		case a.Status == http.StatusServiceUnavailable:
			t.Errorf("%d× %s answered 503 without the storage-full message: %s %q", n, a.Endpoint, a.Code, a.Message)
		}
		t.Logf("%d× %s: %d %s %s", n, a.Endpoint, a.Status, a.Code, a.Message)
	}
	if refused == 0 {
		t.Error("no request of the residents met the full disk")
	}
	t.Logf("%d requests refused with the storage-full message; %d reports got a 201, all dispatched once (%d merged)", refused, au.Reports, au.Merged)
}

// free deletes the filler and waits (at most 15 s) for /readyz 200.
func free(t *testing.T, s *instance, filler string, filledAt time.Time) {
	t.Helper()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	t.Logf("the disk was full for %s; freed", freedAt.Sub(filledAt).Round(100*time.Millisecond))
	for {
		if code, _ := get(s.URL() + "/readyz"); code == http.StatusOK {
			t.Logf("/readyz 200 %s after the space returned", time.Since(freedAt).Round(10*time.Millisecond))
			return
		}
		if time.Since(freedAt) > 15*time.Second {
			t.Fatal("/readyz still not ready 15 s after the space returned")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uploadGrid uploads, as staff, a grid of 4,000 vertices (about 0.2 MB)
// far from the city (so no report falls in it), coded by i.
func uploadGrid(t *testing.T, s *instance, staff string, i int) (int, envelope) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"disk-fill-%d","name":"填满磁盘%d","community":"填满磁盘"},"geometry":{"type":"Polygon","coordinates":[[`, i, i)
	const n = 4000
	lat, lng := 45.0, 100.0+float64(i%1000)*0.02
	for k := 0; k <= n; k++ {
		a := 2 * math.Pi * float64(k%n) / n
		if k > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "[%.7f,%.7f]", lng+0.005*math.Cos(a), lat+0.005*math.Sin(a))
	}
	b.WriteString("]]}}]}")
	req, _ := http.NewRequest("POST", s.URL()+"/api/v1/admin/grids", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+staff)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("grid upload: %v", err)
	}
	defer resp.Body.Close()
	var e envelope
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}
