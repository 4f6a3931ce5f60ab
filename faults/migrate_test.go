//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// oldEmbeddedCommit is the last version whose embedded mode kept its record
// as FerretDB's SQLite files under DATA_DIR/ferretdb.
const oldEmbeddedCommit = "06dffe6"

// buildOldServer builds the server of oldEmbeddedCommit from the
// repository's history. Without the history (a tarball checkout) the test
// is skipped — but not in CI, which must have it.
func buildOldServer(t *testing.T) string {
	t.Helper()
	noHistory := func(why string) {
		msg := fmt.Sprintf("the upgrade test builds the server of commit %s from git history, which is not available here (%s); "+
			"run it in a git clone with full history", oldEmbeddedCommit, why)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("git"); err != nil {
		noHistory("no git")
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		noHistory("not a git checkout")
	}
	repo := strings.TrimSpace(string(root))
	if err := exec.Command("git", "-C", repo, "rev-parse", "--verify", "--quiet", oldEmbeddedCommit+"^{commit}").Run(); err != nil {
		noHistory("commit " + oldEmbeddedCommit + " is not in the clone (a shallow clone?)")
	}
	src := t.TempDir()
	archive := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", repo, oldEmbeddedCommit, src))
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", oldEmbeddedCommit, err, out)
	}
	bin := filepath.Join(t.TempDir(), "server-"+oldEmbeddedCommit)
	build := exec.Command("go", "build", "-o", bin, "./cmd/server")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the server of %s: %v\n%s", oldEmbeddedCommit, err, out)
	}
	return bin
}

// An old embedded DATA_DIR — the previous version's own seed-demo city,
// written by that version's server — is migrated by migrate-embedded, and
// the new server on it answers what the old one answered: every ticket's
// staff view, the statistics (summary by every grouping, rankings, party
// building), the directory, the catalogue and the photos' bytes.
func TestMigrateEmbeddedFromFerretDB(t *testing.T) {
	old := buildOldServer(t)
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir, "ADMIN_USERNAME": adminUser, "ADMIN_PASSWORD": adminPass, "LOG_LEVEL": "warn"}
	osEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=127.0.0.1:0"}
	for k, v := range env {
		osEnv = append(osEnv, k+"="+v)
	}
	seed := exec.Command(old, "seed-demo", "-tickets", "60", "-grids", "4", "-workers", "6", "-members", "4", "-activities", "2")
	seed.Env = osEnv
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("the old seed-demo: %v\n%s", err, tail(string(out), 4000))
	}
	if _, err := os.Stat(filepath.Join(dataDir, "ferretdb")); err != nil {
		t.Fatalf("the old server wrote no ferretdb/: %v", err)
	}

	addr := freeAddr(t)
	// The new server refuses the old directory, saying what to run.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	refused := exec.CommandContext(ctx, serverBin)
	refused.Env = append(osEnv, "HTTP_ADDR="+addr, "METRICS_ADDR=127.0.0.1:0")
	out, err := refused.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "go run ./cmd/migrate-embedded -data-dir") {
		t.Fatalf("the new server on the old directory: %v\n%s", err, tail(string(out), 2000))
	}

	o := startBinary(t, old, env, addr)
	before := takeSnapshot(t, o.URL())
	o.stop()

	mig := filepath.Join(t.TempDir(), "migrate-embedded")
	if out, err := exec.Command("go", "build", "-o", mig, "github.com/citizen-city/chengguantong/cmd/migrate-embedded").CombinedOutput(); err != nil {
		t.Fatalf("build migrate-embedded: %v\n%s", err, out)
	}
	began := time.Now()
	run := exec.Command(mig, "-data-dir", dataDir)
	run.Env = osEnv
	out, err = run.CombinedOutput()
	if err != nil {
		t.Fatalf("migrate-embedded: %v\n%s", err, out)
	}
	t.Logf("migrate-embedded took %s:\n%s", time.Since(began).Round(time.Millisecond), out)
	if !strings.Contains(string(out), "迁移完成") {
		t.Fatalf("migrate-embedded did not say it is done:\n%s", out)
	}

	n := start(t, env, addr)
	after := takeSnapshot(t, n.URL())
	if len(before.tickets) < 50 {
		t.Fatalf("the old server listed %d tickets; the seed makes about 60", len(before.tickets))
	}
	var diffs []string
	if before.total != after.total {
		diffs = append(diffs, fmt.Sprintf("tickets total: %v → %v", before.total, after.total))
	}
	for id, b := range before.tickets {
		a, ok := after.tickets[id]
		if !ok {
			diffs = append(diffs, "ticket "+id+" missing")
			continue
		}
		diffJSON("ticket "+id, b, a, &diffs)
	}
	for path, b := range before.reads {
		diffJSON(path, b, after.reads[path], &diffs)
	}
	for key, b := range before.photos {
		if !bytes.Equal(b, after.photos[key]) {
			diffs = append(diffs, fmt.Sprintf("photo %s: %d bytes → %d bytes, not the same", key, len(b), len(after.photos[key])))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%d differences between the old server and the new one after the migration:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 40)], "\n"))
	}
	t.Logf("the same: %d tickets (staff view), %d other reads, %d photo files", len(before.tickets), len(before.reads), len(before.photos))

	// A second migration is refused: the server holds the directory.
	again := exec.Command(mig, "-data-dir", dataDir)
	if out, err := again.CombinedOutput(); err == nil || !strings.Contains(string(out), "正被服务进程") {
		t.Errorf("a migration beside the new server: %v\n%s", err, out)
	}
}

// snapshot is what a staff console reads of a server.
type snapshot struct {
	total   any
	tickets map[string]any    // staff view of each ticket, by id
	reads   map[string]any    // other reads, by path
	photos  map[string][]byte // photo id/variant → bytes
}

// takeSnapshot reads, as staff, every ticket and the figures, the
// directory and the catalogue, and the photos of a few tickets.
func takeSnapshot(t *testing.T, base string) snapshot {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path string, body any, token string) []byte {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	decode := func(b []byte) any {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(call("POST", "/api/v1/auth/staff", map[string]string{"username": adminUser, "password": adminPass}, ""), &login); err != nil {
		t.Fatal(err)
	}
	get := func(path string) any { return decode(call("GET", path, nil, login.Token)) }

	s := snapshot{tickets: map[string]any{}, reads: map[string]any{}, photos: map[string][]byte{}}
	var order []string
	for cursor := ""; ; {
		path := "/api/v1/admin/tickets?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := get(path).(map[string]any)
		s.total = page["total"]
		for _, it := range page["items"].([]any) {
			order = append(order, it.(map[string]any)["id"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	for _, id := range order {
		t := get("/api/v1/admin/tickets/" + id).(map[string]any)
		// The new staff view shows a caller masked until a reveal (the
		// old one in full): compare the revealed caller.
		if caller, ok := t["caller"].(map[string]any); ok && caller["masked"] == true {
			full := decode(call("POST", "/api/v1/admin/tickets/"+id+"/reveal", nil, login.Token)).(map[string]any)
			if fc, ok := full["caller"].(map[string]any); ok {
				caller["name"], caller["phone"] = fc["name"], fc["phone"]
			}
			delete(caller, "masked")
		}
		maskNotes(t)
		// The old staff view's overdue also meant closed after the
		// deadline, which the new one calls late.
		if late, _ := t["late"].(bool); late {
			t["overdue"] = true
		}
		s.tickets[id] = t
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	period := "from=" + today.AddDate(0, 0, -60).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)
	for _, path := range []string{
		"/api/v1/stats/summary?" + period,
		"/api/v1/stats/summary?group_by=category&" + period,
		"/api/v1/stats/summary?group_by=grid&" + period,
		"/api/v1/stats/summary?group_by=community&" + period,
		"/api/v1/stats/summary?group_by=worker&" + period,
		"/api/v1/stats/summary?group_by=source&" + period,
		"/api/v1/stats/summary?group_by=month&" + period,
		"/api/v1/stats/ranking?by=grid&min_sample=0&" + period,
		"/api/v1/stats/ranking?by=worker&min_sample=0&" + period,
		"/api/v1/stats/party-building?" + period,
		"/api/v1/admin/workers?limit=100",
		"/api/v1/admin/party-members?limit=100",
		"/api/v1/admin/branches",
		"/api/v1/admin/grids",
		"/api/v1/categories",
	} {
		s.reads[path] = get(path)
	}
	// The photos of the first tickets, both variants, through their
	// signed URLs.
	for _, id := range order[:min(len(order), 8)] {
		photos, _ := s.tickets[id].(map[string]any)["photos"].([]any)
		for _, p := range photos {
			p := p.(map[string]any)
			for _, k := range []string{"url", "thumbnail_url"} {
				resp, err := c.Get(p[k].(string))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("photo %s %s: %d %s", p["id"], k, resp.StatusCode, b)
				}
				s.photos[p["id"].(string)+"/"+k] = b
			}
		}
	}
	return s
}

// diffJSON records where b differs from a. Only what both have is
// compared (a field the new version added is no difference); a photo's
// signed URLs name the server, and the statistics' updated_at is when they
// were last counted, so neither is compared.
func diffJSON(path string, a, b any, out *[]string) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %v → %v", path, a, b))
			return
		}
		for k, v := range x {
			w, both := y[k]
			if !both || k == "url" || k == "thumbnail_url" || (k == "updated_at" && strings.Contains(path, "/stats/")) {
				continue
			}
			diffJSON(path+"."+k, v, w, out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, fmt.Sprintf("%s: %d items → %v", path, len(x), b))
			return
		}
		for i := range x {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, fmt.Sprintf("%s: %v → %v", path, a, b))
		}
	}
}

// maskNotes writes the names of the people a staff view of a ticket names
// masked in its timeline's notes, as the old server stored and showed them
// (the new staff view shows them in full): the notes compare as data.
func maskNotes(t map[string]any) {
	var pairs []string
	person := func(v any) {
		if p, ok := v.(map[string]any); ok {
			if name, _ := p["name"].(string); name != "" && model.MaskName(name) != name {
				pairs = append(pairs, name, model.MaskName(name))
			}
		}
	}
	person(t["assignee"])
	timeline, _ := t["timeline"].([]any)
	for _, e := range timeline {
		if e, ok := e.(map[string]any); ok {
			person(e["actor"])
			person(e["assignee"])
		}
	}
	mask := strings.NewReplacer(pairs...)
	for _, e := range timeline {
		if e, ok := e.(map[string]any); ok {
			if note, ok := e["note"].(string); ok {
				e["note"] = mask.Replace(note)
			}
		}
	}
}
