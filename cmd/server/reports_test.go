package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// A point in Nanjing, as the camera (WGS-84) and as the map (GCJ-02) see it.
const (
	wgsLat, wgsLng = 32.0415, 118.7845
	takenAt        = "2026:11:20 09:30:00"
)

type report struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Category    string `json:"category"`
	DuplicateOf string `json:"duplicate_of"`
	Reporters   int    `json:"reporters"`
	Reject      string `json:"reject_reason"`
	Location    struct {
		Lat, Lng  float64
		CoordType string `json:"coord_type"`
	} `json:"location"`
	Photos []struct {
		ID, URL      string
		ThumbnailURL string `json:"thumbnail_url"`
	} `json:"photos"`
	Timeline []struct {
		Type, Status, Note string
	} `json:"timeline"`
}

func uploadPhoto(t *testing.T, s *testServer, token string) map[string]any {
	t.Helper()
	r := s.Upload(t, token, "IMG_0001.jpg", apitest.JPEGWithGPS(t, 320, 240, wgsLat, wgsLng, takenAt))
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func reportBody(category string, photoIDs ...string) map[string]any {
	return map[string]any{
		"category": category, "description": "小区门口堆了一大堆建筑垃圾，已经好几天没人清理",
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"},
		"address":  "南京市鼓楼区幸福路12号", "photo_ids": photoIDs,
	}
}

// waitStatus polls the report until its status is one of want.
func waitStatus(t *testing.T, s *testServer, token, id string, want ...string) report {
	t.Helper()
	deadline := time.Now().Add(patience)
	var rep report
	for time.Now().Before(deadline) {
		r := s.Do(t, "GET", "/api/v1/reports/"+id, token, nil)
		if r.Status != 200 {
			t.Fatalf("get report: %d %s", r.Status, r.Body)
		}
		r.Decode(t, &rep)
		for _, w := range want {
			if rep.Status == w {
				return rep
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	last := s.Do(t, "GET", "/api/v1/reports/"+id, token, nil)
	t.Fatalf("report %s stayed %s; want %v: %s", id, rep.Status, want, last.Body)
	return rep
}

func TestResidentReportsAsTheMiniProgramWould(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	tok, _ := s.Login(t, "resident-reporter")

	// Three photos, one request each, as wx.uploadFile sends them.
	var ids []string
	for range 3 {
		p := uploadPhoto(t, s, tok)
		loc, _ := p["exif_location"].(map[string]any)
		if loc == nil || abs(loc["lat"].(float64)-wgsLat) > 1e-5 || abs(loc["lng"].(float64)-wgsLng) > 1e-5 || loc["coord_type"] != "wgs84" {
			t.Fatalf("exif_location = %v", p["exif_location"])
		}
		if p["taken_at"] != "2026-11-20T09:30:00+08:00" || p["width"] != 320.0 || p["height"] != 240.0 {
			t.Fatalf("photo = %v", p)
		}
		ids = append(ids, p["id"].(string))
	}

	key := "6f1c2a9e-retry-key"
	r := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0102", ids...), "Idempotency-Key", key)
	if r.Status != 201 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	var rep report
	r.Decode(t, &rep)
	if rep.Status != "submitted" || rep.Location.Lat != wgsLat || rep.Location.CoordType != "wgs84" || len(rep.Photos) != 3 {
		t.Fatalf("report = %+v", rep)
	}

	// A retry on a weak network makes no second ticket.
	again := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0102", ids...), "Idempotency-Key", key)
	if again.Status != 201 || again.JSON(t)["id"] != rep.ID {
		t.Fatalf("retry: %d %s; want 201 with id %s", again.Status, again.Body, rep.ID)
	}
	other := reportBody("0102", ids...)
	other["description"] = "换了一个描述"
	if r := s.Do(t, "POST", "/api/v1/reports", tok, other, "Idempotency-Key", key); r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", r.Status, r.Body)
	}

	// Listed, readable, screened and registered.
	var mine struct {
		Items      []report `json:"items"`
		NextCursor string   `json:"next_cursor"`
	}
	s.Do(t, "GET", "/api/v1/reports/mine", tok, nil).Decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != rep.ID || mine.NextCursor != "" {
		t.Fatalf("mine = %+v", mine)
	}
	rep = waitTimeline(t, s, tok, rep.ID, "reported,registered,queued") // no grids: the staff's queue

	// The photos, by their signed URLs, with no Authorization and no EXIF.
	for _, p := range rep.Photos {
		for _, u := range []string{p.URL, p.ThumbnailURL} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if bytes.Contains(body.Bytes(), []byte("Exif")) || bytes.Contains(body.Bytes(), []byte(takenAt)) {
				t.Fatalf("%s still carries EXIF", u)
			}
			if _, _, err := image.Decode(bytes.NewReader(body.Bytes())); err != nil {
				t.Fatalf("%s is not an image: %v", u, err)
			}
			etag := resp.Header.Get("ETag")
			if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
				t.Fatalf("caching headers: %v", resp.Header)
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("If-None-Match", etag)
			if r := s.Send(t, req); r.Status != 304 {
				t.Fatalf("If-None-Match: %d", r.Status)
			}
		}
		if r, _ := http.Get(strings.Replace(p.URL, "sig=", "sig=x", 1)); r.StatusCode != 404 {
			t.Fatalf("tampered signature: %d", r.StatusCode)
		}
	}

	// Another resident learns nothing, not even that it exists.
	stranger, _ := s.Login(t, "resident-stranger")
	if r := s.Do(t, "GET", "/api/v1/reports/"+rep.ID, stranger, nil); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("stranger: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/reports/mine", stranger, nil); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("stranger's list: %s", r.Body)
	}
	// Staff may read it.
	staff := s.LoginStaff(t, adminUser, adminPass)
	if r := s.Do(t, "GET", "/api/v1/reports/"+rep.ID, staff, nil); r.Status != 200 {
		t.Fatalf("staff: %d", r.Status)
	}
	// A used photo cannot go into a second report.
	r = s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0102", ids[0]))
	if r.Status != 400 || !strings.Contains(string(r.Body), "photo_ids[0]") {
		t.Fatalf("reused photo: %d %s", r.Status, r.Body)
	}

	// Nearby shows it, in the caller's coordinate system, without identities.
	r = s.Do(t, "GET", fmt.Sprintf("/api/v1/reports/nearby?lat=%f&lng=%f&coord_type=gcj02&radius_m=1000", wgsLat+0.0025, wgsLng+0.005), stranger, nil)
	var near struct {
		Items []map[string]any `json:"items"`
	}
	r.Decode(t, &near)
	if r.Status != 200 || len(near.Items) != 1 || near.Items[0]["id"] != rep.ID {
		t.Fatalf("nearby: %d %s", r.Status, r.Body)
	}
	loc := near.Items[0]["location"].(map[string]any)
	if loc["coord_type"] != "gcj02" || abs(loc["lat"].(float64)-wgsLat) < 1e-4 {
		t.Fatalf("nearby location not converted to GCJ-02: %v", loc)
	}
	if strings.Contains(string(r.Body), "reporter") && !strings.Contains(string(r.Body), `"reporters"`) {
		t.Fatalf("nearby leaks identities: %s", r.Body)
	}
}

func TestDuplicateReportsMerge(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	a, _ := s.Login(t, "dup-a")
	b, _ := s.Login(t, "dup-b")
	c, _ := s.Login(t, "dup-c")

	first := s.Do(t, "POST", "/api/v1/reports", a, reportBody("0101", uploadPhoto(t, s, a)["id"].(string))).JSON(t)["id"].(string)
	waitStatus(t, s, a, first, "pending")

	// 20 m away, same category: a duplicate. The body's point is GCJ-02 this time.
	body := reportBody("0101", uploadPhoto(t, s, b)["id"].(string))
	body["location"] = map[string]any{"lat": 32.0396254, "lng": 118.7897009, "coord_type": "gcj02"}
	second := s.Do(t, "POST", "/api/v1/reports", b, body).JSON(t)["id"].(string)
	dup := waitStatus(t, s, b, second, "merged")
	if dup.DuplicateOf != first {
		t.Fatalf("merged into %q, want %s", dup.DuplicateOf, first)
	}
	// Another category at the same spot is its own ticket.
	third := s.Do(t, "POST", "/api/v1/reports", c, reportBody("0201", uploadPhoto(t, s, c)["id"].(string))).JSON(t)["id"].(string)
	waitStatus(t, s, c, third, "pending")

	// The open ticket counts two reporters, and the second resident follows it.
	var orig report
	if r := s.Do(t, "GET", "/api/v1/reports/"+first, b, nil); r.Status != 200 {
		t.Fatalf("follower reading the open ticket: %d %s", r.Status, r.Body)
	} else {
		r.Decode(t, &orig)
	}
	if orig.Reporters != 2 || !strings.Contains(timelineTypes(orig), "joined") {
		t.Fatalf("open ticket = %+v", orig)
	}
	if r := s.Do(t, "GET", "/api/v1/reports/"+first, c, nil); r.Status != 404 {
		t.Fatalf("a non-follower reads the ticket: %d", r.Status)
	}
}

func TestScreeningOutcomes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["WECHAT_PUSH_TOKEN"] = "push-token-for-tests"
	var mu sync.Mutex
	riskyPhotos := map[string]bool{}
	sim := wechatsim.New(wechatsim.Options{
		AppID: env["WECHAT_APPID"], Secret: "simulator-secret", PushToken: env["WECHAT_PUSH_TOKEN"],
		MediaVerdict: func(mediaURL string) string {
			mu.Lock()
			defer mu.Unlock()
			for id := range riskyPhotos {
				if strings.Contains(mediaURL, id) {
					return "risky"
				}
			}
			return "pass"
		},
	})
	t.Cleanup(sim.Install())
	t.Cleanup(sim.Close)
	s := startServer(t, env, options{simulator: sim})
	sim.SetPushURL(s.Base + "/wechat/push")
	tok, _ := s.Login(t, "screened-resident")

	risky := reportBody("0201", uploadPhoto(t, s, tok)["id"].(string))
	risky["description"] = "有人在这里聚众赌博"
	rid := s.Do(t, "POST", "/api/v1/reports", tok, risky).JSON(t)["id"].(string)
	if rep := waitStatus(t, s, tok, rid, "rejected"); rep.Reject == "" || !strings.Contains(timelineTypes(rep), "rejected") {
		t.Fatalf("risky text: %+v", rep)
	}

	review := reportBody("0502", uploadPhoto(t, s, tok)["id"].(string))
	review["description"] = "此内容待审核的自行车"
	vid := s.Do(t, "POST", "/api/v1/reports", tok, review).JSON(t)["id"].(string)
	deadline := time.Now().Add(patience)
	for !strings.Contains(timelineTypes(waitStatus(t, s, tok, vid, "submitted")), "held") {
		if time.Now().After(deadline) {
			t.Fatal("review text was not held for staff")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A photo that WeChat later finds risky withdraws its report and stops being served.
	p := uploadPhoto(t, s, tok)
	mu.Lock()
	riskyPhotos[p["id"].(string)] = true
	mu.Unlock()
	pid := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("1102", p["id"].(string))).JSON(t)["id"].(string)
	rep := waitStatus(t, s, tok, pid, "rejected")
	if !strings.Contains(rep.Reject, "照片") {
		t.Fatalf("risky photo reason = %q", rep.Reject)
	}
	if resp, _ := http.Get(rep.Photos[0].URL); resp.StatusCode != 404 {
		t.Fatalf("a risky photo is still served: %d", resp.StatusCode)
	}
	// A push with a bad signature is refused.
	if r := s.Do(t, "POST", "/wechat/push?signature=bad&timestamp=1&nonce=2", "", `{"Event":"wxa_media_check"}`); r.Status != 401 {
		t.Fatalf("forged push: %d %s", r.Status, r.Body)
	}
}

func TestReportingInputErrorsChangeNothing(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["PHOTO_MAX_BYTES"] = "150000"
	env["PHOTO_MAX_PIXELS"] = "1000000"
	s := startServer(t, env, options{})
	tok, _ := s.Login(t, "careless-resident")
	otherTok, _ := s.Login(t, "other-resident")
	mine := uploadPhoto(t, s, tok)["id"].(string)
	theirs := uploadPhoto(t, s, otherTok)["id"].(string)

	withLoc := func(loc any) map[string]any { b := reportBody("0101", mine); b["location"] = loc; return b }
	with := func(k string, v any) map[string]any { b := reportBody("0101", mine); b[k] = v; return b }
	many := []string{mine, "a", "b", "c", "d", "e", "f", "g", "h", "i"}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"unknown category", with("category", "9999"), "category"},
		{"no description", with("description", "  "), "description"},
		{"long description", with("description", strings.Repeat("脏", 1001)), "description"},
		{"lat out of range", withLoc(map[string]any{"lat": 91, "lng": 118, "coord_type": "wgs84"}), "location.lat"},
		{"lng out of range", withLoc(map[string]any{"lat": 32, "lng": 200, "coord_type": "wgs84"}), "location.lng"},
		{"outside China", withLoc(map[string]any{"lat": 48.8566, "lng": 2.3522, "coord_type": "wgs84"}), "不在中国境内"},
		{"no coord_type", withLoc(map[string]any{"lat": 32, "lng": 118}), "location.coord_type"},
		{"bd09", withLoc(map[string]any{"lat": 32, "lng": 118, "coord_type": "bd09"}), "location.coord_type"},
		{"no lat", withLoc(map[string]any{"lng": 118, "coord_type": "wgs84"}), "location.lat"},
		{"no location", with("location", nil), "location"},
		{"lat as string", withLoc(map[string]any{"lat": "32", "lng": 118, "coord_type": "wgs84"}), "location.lat"},
		{"no photos", with("photo_ids", []string{}), "photo_ids"},
		{"ten photos", with("photo_ids", many), "photo_ids"},
		{"repeated photo", with("photo_ids", []string{mine, mine}), "photo_ids[1]"},
		{"someone else's photo", with("photo_ids", []string{mine, theirs}), "photo_ids[1]"},
		{"unknown photo", with("photo_ids", []string{"000000000000000000000000"}), "photo_ids[0]"},
		{"malformed JSON", `{"category": "0101",`, "请求体不完整"},
	}
	for _, tt := range tests {
		r := s.Do(t, "POST", "/api/v1/reports", tok, tt.body)
		if r.Status != 400 || r.ErrorCode() != "invalid_argument" || !strings.Contains(string(r.Body), tt.field) {
			t.Errorf("%s: %d %s; want 400 naming %s", tt.name, r.Status, r.Body, tt.field)
		}
	}

	// Uploads that are not acceptable photos.
	big := apitest.JPEGWithGPS(t, 1200, 900, wgsLat, wgsLng, takenAt)
	var noisy bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 900, 900))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7919 % 251)
	}
	_ = jpeg.Encode(&noisy, img, &jpeg.Options{Quality: 100})
	uploads := []struct {
		name   string
		data   []byte
		status int
		code   string
	}{
		{"text file named .jpg", []byte("just some text, not an image at all"), 415, "unsupported_media_type"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), 415, "unsupported_media_type"},
		{"over the byte limit", noisy.Bytes(), 413, "payload_too_large"},
		{"over the pixel limit", big, 413, "payload_too_large"},
		{"empty", nil, 415, "unsupported_media_type"},
	}
	for _, u := range uploads {
		r := s.Upload(t, tok, "photo.jpg", u.data)
		if r.Status != u.status || r.ErrorCode() != u.code {
			t.Errorf("upload %s (%d bytes): %d %s; want %d %s", u.name, len(u.data), r.Status, r.Body, u.status, u.code)
		}
	}
	if r := s.Do(t, "POST", "/api/v1/photos", tok, map[string]string{"file": "x"}); r.Status != 400 {
		t.Errorf("JSON instead of multipart: %d %s", r.Status, r.Body)
	}

	// Nothing was made: no report, and the photo is still free to use.
	if r := s.Do(t, "GET", "/api/v1/reports/mine", tok, nil); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("invalid requests left reports: %s", r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0101", mine)); r.Status != 201 {
		t.Fatalf("the valid report after the invalid ones: %d %s", r.Status, r.Body)
	}

	// Nearby and subscriptions validate too.
	for q, field := range map[string]string{
		"lat=32&lng=118": "coord_type",
		"lat=32&lng=118&coord_type=wgs84&radius_m=5000": "radius_m",
		"lat=abc&lng=118&coord_type=wgs84":              "lat",
	} {
		if r := s.Do(t, "GET", "/api/v1/reports/nearby?"+q, tok, nil); r.Status != 400 || !strings.Contains(string(r.Body), field) {
			t.Errorf("nearby?%s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "POST", "/api/v1/me/subscriptions", tok, map[string]any{"accepted": []string{"tmpl_assigned", "nope"}}); r.Status != 400 || !strings.Contains(string(r.Body), "accepted[1]") {
		t.Errorf("unknown template: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/me/subscriptions", tok, map[string]any{"accepted": []string{"tmpl_assigned", "tmpl_resolved"}}); r.Status != 204 {
		t.Errorf("subscriptions: %d %s", r.Status, r.Body)
	}
}

func TestAbuseLimits(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["REPORTS_PER_DAY"] = "2"
	env["UPLOADS_PER_MINUTE"] = "3"
	s := startServer(t, env, options{})
	tok, _ := s.Login(t, "eager-resident")
	var ids []string
	for range 3 {
		ids = append(ids, uploadPhoto(t, s, tok)["id"].(string))
	}
	r := s.Upload(t, tok, "4.jpg", apitest.JPEGWithGPS(t, 64, 64, wgsLat, wgsLng, takenAt))
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth upload in a minute: %d %s", r.Status, r.Body)
	}
	for i := range 2 {
		if r := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0101", ids[i])); r.Status != 201 {
			t.Fatalf("report %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0101", ids[2])); r.Status != 429 || r.ErrorCode() != "rate_limited" {
		t.Fatalf("third report in a day: %d %s", r.Status, r.Body)
	}
	// The refused report did not keep the photo.
	other, _ := s.Login(t, "another-resident")
	if r := s.Do(t, "POST", "/api/v1/reports", other, reportBody("0101", uploadPhoto(t, s, other)["id"].(string))); r.Status != 201 {
		t.Fatalf("another resident is not limited: %d", r.Status)
	}
}

func TestCategories(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	var cats struct {
		Items []map[string]any `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/categories", "", nil).Decode(t, &cats)
	if len(cats.Items) < 10 {
		t.Fatalf("%d categories; want the default catalogue of at least 10", len(cats.Items))
	}
	names := map[string]bool{}
	for _, c := range cats.Items {
		names[c["name"].(string)] = true
	}
	for _, want := range []string{"暴露垃圾", "井盖缺失/破损", "路灯不亮", "占道经营"} {
		if !names[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	staff := s.LoginStaff(t, adminUser, adminPass)
	body := map[string]any{"name": "暴露垃圾", "major": "市容环境", "sla_hours": 2, "volunteer_suitable": false, "duplicate_radius_m": 80}
	if r := s.Do(t, "PUT", "/api/v1/admin/categories/0101", staff, body); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "GET", "/api/v1/categories", "", nil)
	if !bytes.Contains(r.Body, []byte(`{"code":"0101","name":"暴露垃圾","major":"市容环境","sla_hours":2,"volunteer_suitable":false,"duplicate_radius_m":80}`)) {
		t.Fatalf("change not visible: %s", r.Body)
	}
	resident, _ := s.Login(t, "not-staff")
	if r := s.Do(t, "PUT", "/api/v1/admin/categories/0101", resident, body); r.Status != 403 {
		t.Fatalf("resident changes a category: %d", r.Status)
	}
	for name, b := range map[string]map[string]any{
		"no sla":       {"name": "x", "volunteer_suitable": true},
		"sla too long": {"name": "x", "sla_hours": 5000, "volunteer_suitable": true},
		"no name":      {"sla_hours": 4, "volunteer_suitable": true},
	} {
		if r := s.Do(t, "PUT", "/api/v1/admin/categories/0101", staff, b); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "PUT", "/api/v1/admin/categories/abc", staff, body); r.Status != 400 || !strings.Contains(string(r.Body), "code") {
		t.Errorf("bad code: %d %s", r.Status, r.Body)
	}
}

// waitTimeline polls the report until its timeline is want.
func waitTimeline(t *testing.T, s *testServer, token, id, want string) report {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		var rep report
		s.Do(t, "GET", "/api/v1/reports/"+id, token, nil).Decode(t, &rep)
		got := timelineTypes(rep)
		if got == want {
			return rep
		}
		if !strings.HasPrefix(want, got) || time.Now().After(deadline) {
			t.Fatalf("report %s: timeline %s; want %s (%+v)", id, got, want, rep.Timeline)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func timelineTypes(r report) string {
	var out []string
	for _, e := range r.Timeline {
		out = append(out, e.Type)
	}
	return strings.Join(out, ",")
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestConcurrentRetriesMakeOneReport fires the same keyed submission from
// many connections at once, as a mini-program on a flaky network might:
// each gets the one report or 409 (still in flight), and exactly one
// ticket exists.
func TestConcurrentRetriesMakeOneReport(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	tok, _ := s.Login(t, "resident-concurrent-retries")
	ids := []string{uploadPhoto(t, s, tok)["id"].(string), uploadPhoto(t, s, tok)["id"].(string)}
	body := reportBody("0102", ids...)

	const n = 12
	results := make([]*apitest.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Do(t, "POST", "/api/v1/reports", tok, body, "Idempotency-Key", "one-key-many-tries")
		}()
	}
	wg.Wait()
	made := ""
	for _, r := range results {
		switch r.Status {
		case 201:
			id := r.JSON(t)["id"].(string)
			if made != "" && id != made {
				t.Fatalf("two reports for one key: %s and %s", made, id)
			}
			made = id
		case 409:
			if r.ErrorCode() != "conflict" {
				t.Fatalf("409 with code %q", r.ErrorCode())
			}
		default:
			t.Fatalf("submission: %d %s", r.Status, r.Body)
		}
	}
	if made == "" {
		t.Fatal("no attempt made the report")
	}
	// Once the first has finished, a retry gets it.
	if r := s.Do(t, "POST", "/api/v1/reports", tok, body, "Idempotency-Key", "one-key-many-tries"); r.Status != 201 || r.JSON(t)["id"] != made {
		t.Fatalf("late retry: %d %s", r.Status, r.Body)
	}
	var mine struct {
		Items []report `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/reports/mine", tok, nil).Decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != made {
		t.Fatalf("the resident has %d reports; want exactly %s", len(mine.Items), made)
	}
}
