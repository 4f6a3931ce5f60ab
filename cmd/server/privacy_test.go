package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongoopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/store/sqlite"
)

// The duty of care, end to end (docs/privacy.md): a resident's 注销 leaves
// nothing of them in the store while the figures stay; retention; redaction
// served to each audience; identities revealed and recorded; logins locked
// per account and address; sessions that end on every instance.

// summary reads the statistics for the test's period, by category, once
// two reads in a row agree (MongoDB's applier counts after the commit).
func summary(t *testing.T, s *testServer, staff string) string {
	t.Helper()
	now := time.Now()
	path := fmt.Sprintf("/api/v1/stats/summary?from=%s&to=%s&group_by=category", now.AddDate(-1, 0, 0).Format(time.DateOnly),
		now.AddDate(1, 0, 0).Format(time.DateOnly))
	prev := ""
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		r := s.Do(t, "GET", path, staff, nil)
		if r.Status != 200 {
			t.Fatalf("summary: %d %s", r.Status, r.Body)
		}
		var v map[string]any
		r.Decode(t, &v)
		delete(v, "updated_at") // when the figures were last counted, not what they are
		b, _ := json.Marshal(v)
		if string(b) == prev {
			return prev
		}
		prev = string(b)
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("the statistics kept changing")
	return ""
}

// handle takes a dispatched ticket through acceptance and resolution by w.
func handle(t *testing.T, s *testServer, w person, id string) {
	t.Helper()
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", w.token, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	after := uploadPhoto(t, s, w.token)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", w.token, map[string]any{"note": "已清理干净", "photo_ids": []string{after}}); r.Status != 200 {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
}

// fileReport files a report with the given texts at a point, as the
// resident of token.
func fileReport(t *testing.T, s *testServer, token, category, description, address string, lat, lng float64) string {
	t.Helper()
	body := reportBody(category, uploadPhoto(t, s, token)["id"].(string))
	body["description"], body["address"] = description, address
	body["location"] = map[string]any{"lat": lat, "lng": lng, "coord_type": "wgs84"}
	r := s.Do(t, "POST", "/api/v1/reports", token, body)
	if r.Status != 201 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["id"].(string)
}

// dumpStore returns every value of every table (the embedded store: its
// SQLite file, the search index's tables among them, and the raw file
// itself) or of every collection (MongoDB), as text, for a search. The
// server must be stopped (its last checkpoint folds the WAL into the file).
func dumpStore(t *testing.T, env map[string]string) string {
	t.Helper()
	var b strings.Builder
	if uri := env["MONGODB_URI"]; uri != "" {
		client, err := mongo.Connect(mongoopts.Client().ApplyURI(uri))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Disconnect(context.Background())
		db := client.Database(env["MONGODB_DATABASE"])
		names, err := db.ListCollectionNames(t.Context(), bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			cur, err := db.Collection(name).Find(t.Context(), bson.M{})
			if err != nil {
				t.Fatal(err)
			}
			for cur.Next(t.Context()) {
				ext, err := bson.MarshalExtJSON(cur.Current, false, false)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%s: %s\n", name, ext)
				// The raw document too: binary fields (photo bytes) as they are.
				b.Write(cur.Current)
			}
			cur.Close(t.Context())
		}
		return b.String()
	}
	path := filepath.Join(env["DATA_DIR"], sqlite.FileName)
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("the store has %d tables: %v", len(tables), tables)
	}
	for _, name := range tables {
		rows, err := db.Query(`SELECT * FROM "` + name + `"`)
		if err != nil {
			t.Fatalf("dump %s: %v", name, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s:", name)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					b.Write(bs)
				} else {
					fmt.Fprintf(&b, " %v", v)
				}
				b.WriteByte('|')
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(raw)
	return b.String()
}

// TestResidentClosesTheirAccount: GET /me/data gives the resident
// everything stored about them; DELETE /me (注销) removes the account and
// its openid at once, the tickets stay for the figures without anything
// that identifies them — a dump of every table or collection finds neither
// the openid, nor the phone or the name they typed, nor the account id —
// the statistics are unchanged, a follower still follows, and the same
// WeChat user logging in again is a new resident.
func TestResidentClosesTheirAccount(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["PRIVACY_SWEEP_EVERY"] = "1s"
	sim := newSimulator(t, env["WECHAT_APPID"])
	s := startServer(t, env, options{simulator: sim})
	c := newCity(t, s, map[string]string{"张网格": gridA}, nil)
	w := c.workers["张网格"]

	const (
		name     = "欧阳娜娜"
		phone    = "18600001234"
		written  = "186 0000 1234"
		category = "0103"
	)
	tok, uid := s.Login(t, "leaver")
	openid := sim.OpenIDFor("leaver")
	if r := s.Do(t, "POST", "/api/v1/me/subscriptions", tok, map[string]any{"accepted": []string{"tmpl_accepted", "tmpl_resolved", "tmpl_assigned"}}); r.Status != 204 {
		t.Fatalf("subscriptions: %d %s", r.Status, r.Body)
	}
	// A neighbour's open ticket the leaver's later report joins (so the
	// leaver follows it) …
	ntok, _ := s.Login(t, "neighbour")
	theirs := fileReport(t, s, ntok, "0201", "路灯不亮", "幸福路口", 32.0400, 118.7880)
	waitStatus(t, s, ntok, theirs, "dispatched", "pending")
	joined := fileReport(t, s, tok, "0201", "路灯坏了，我是"+name+"，电话"+written, "幸福路口", 32.0400, 118.7880)
	waitStatus(t, s, tok, joined, "merged")
	// … and the leaver's own ticket, which another resident follows,
	// handled and rated with a comment.
	mine := fileReport(t, s, tok, category, "我是"+name+"，楼道堆满杂物，电话 "+written, "幸福里5栋"+name+"家门口", wgsLat, wgsLng)
	waitStatus(t, s, tok, mine, "dispatched")
	ftok, _ := s.Login(t, "follower-of-leaver")
	dup := fileReport(t, s, ftok, category, "楼道杂物没人管", "幸福里5栋", wgsLat, wgsLng)
	waitStatus(t, s, ftok, dup, "merged")
	handle(t, s, w, mine)
	if r := s.Do(t, "POST", "/api/v1/reports/"+mine+"/feedback", tok, map[string]any{"satisfied": true, "rating": 5, "comment": name + "很满意，电话" + phone}); r.Status != 200 {
		t.Fatalf("feedback: %d %s", r.Status, r.Body)
	}
	unused := uploadPhoto(t, s, tok)["id"].(string) // an upload no report used
	var mineView report
	s.Do(t, "GET", "/api/v1/reports/"+mine, tok, nil).Decode(t, &mineView)
	photos := []string{unused, mineView.Photos[0].ID}

	// The resident's copy of their data.
	r := s.Do(t, "GET", "/api/v1/me/data", tok, nil)
	var data struct {
		Profile struct{ ID string } `json:"profile"`
		Reports []struct {
			ID, Description string
			CaseNo          string `json:"case_no"`
			Photos          []struct{ URL string }
		} `json:"reports"`
		Following []struct {
			ID, Description string
		} `json:"following"`
		Ratings []struct {
			Rating  int
			Comment string
		} `json:"ratings"`
		Subscriptions map[string]int `json:"subscriptions"`
	}
	r.Decode(t, &data)
	if r.Status != 200 || data.Profile.ID != uid || len(data.Reports) != 2 || len(data.Following) != 1 || data.Following[0].ID != theirs ||
		data.Following[0].Description != "" || len(data.Ratings) != 1 || data.Ratings[0].Rating != 5 || data.Subscriptions["tmpl_assigned"] != 1 {
		t.Fatalf("/me/data: %d %s", r.Status, r.Body)
	}
	for _, rep := range data.Reports {
		if rep.CaseNo == "" || !strings.Contains(rep.Description, name) || len(rep.Photos) == 0 || rep.Photos[0].URL == "" {
			t.Fatalf("/me/data report: %+v", rep)
		}
	}
	if strings.Contains(string(r.Body), openid) {
		t.Fatalf("/me/data shows the openid")
	}

	before := summary(t, s, c.staff)

	// A bound worker may not close their account; staff deactivate them.
	if r := s.Do(t, "DELETE", "/api/v1/me", w.token, nil); r.Status != 403 {
		t.Fatalf("a worker's 注销: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "DELETE", "/api/v1/me", tok, nil); r.Status != 204 {
		t.Fatalf("注销: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/me", tok, nil); r.Status != 401 {
		t.Fatalf("the closed account's token: %d %s", r.Status, r.Body)
	}
	if after := summary(t, s, c.staff); after != before {
		t.Fatalf("the statistics changed:\nbefore %s\nafter  %s", before, after)
	}
	// The ticket stays, for staff and for its follower, without the leaver.
	staffView := s.Do(t, "GET", "/api/v1/admin/tickets/"+mine, c.staff, nil)
	if staffView.Status != 200 || strings.Contains(string(staffView.Body), name) || !strings.Contains(string(staffView.Body), `"status":"closed"`) {
		t.Fatalf("the staff's view after the 注销: %d %s", staffView.Status, staffView.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/reports/"+mine, ftok, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"closed"`) {
		t.Fatalf("the follower's view after the 注销: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+mine+"/reveal", c.staff, nil); r.Status != 200 || strings.Contains(string(r.Body), uid) {
		t.Fatalf("a reveal after the 注销: %d %s", r.Status, r.Body)
	}
	// The same WeChat user again is a new resident with nothing.
	tok2, uid2 := s.Login(t, "leaver")
	if uid2 == uid {
		t.Fatalf("a login after the 注销 is the closed account %s", uid)
	}
	if r := s.Do(t, "GET", "/api/v1/reports/mine", tok2, nil); r.Status != 200 || strings.Contains(string(r.Body), mine) {
		t.Fatalf("the new resident's reports: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "DELETE", "/api/v1/me", tok2, nil); r.Status != 204 { // so the dump does not find the new account's openid
		t.Fatalf("the second 注销: %d %s", r.Status, r.Body)
	}

	// Nothing of theirs is left anywhere: stop the server, dump the store.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	dump := dumpStore(t, env)
	for _, secret := range []string{openid, phone, written, name, uid, uid2} {
		if i := strings.Index(dump, secret); i >= 0 {
			t.Errorf("the store still holds %q: …%s…", secret, dump[max(0, i-120):min(len(dump), i+80)])
		}
	}
	for _, id := range photos {
		if strings.Contains(dump, id) {
			t.Errorf("the store still names the photo %s", id)
		}
	}
	if dir := env["DATA_DIR"]; dir != "" {
		_ = filepath.WalkDir(filepath.Join(dir, sqlite.PhotoDir), func(path string, d fs.DirEntry, err error) error {
			for _, id := range photos {
				if err == nil && strings.HasPrefix(d.Name(), id) {
					t.Errorf("the photo file %s is left", path)
				}
			}
			return nil
		})
	}
	if !bytes.Contains([]byte(dump), []byte("楼道杂物没人管")) {
		t.Errorf("the dump lacks the follower's own report: not a dump of the store")
	}
}
