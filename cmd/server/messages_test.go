package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBadRequestsGetChineseEnvelopes sends a sample of bad requests, at
// least one for every error code the API can be made to answer from
// outside, and checks that each gets its status and the error envelope
// with a Chinese message naming the field or value, and that an
// invalid_argument carries the field's JSON path. The bad input changes
// nothing: the resident still has no report.
func TestBadRequestsGetChineseEnvelopes(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["LOGIN_RATE_PER_ACCOUNT"] = "3"
	s := startServer(t, env, options{})
	tok, _ := s.Login(t, "messages-resident")
	staff := s.LoginStaff(t, adminUser, adminPass)
	photo := uploadPhoto(t, s, tok)["id"].(string)
	good := func(k string, v any) map[string]any { b := reportBody("0101", photo); b[k] = v; return b }
	raw := func(b map[string]any) string { j, _ := json.Marshal(b); return string(j) }
	goodJSON := raw(reportBody("0101", photo))

	tests := []struct {
		name, method, path, token string
		body                      any
		headers                   []string
		status                    int
		code, field, message      string // message: a part the message must hold
	}{
		{"malformed JSON", "POST", "/api/v1/reports", tok, `{"category": "0101", "description" 5}`, nil, 400, "invalid_argument", "description", "JSON 格式有误"},
		{"truncated JSON", "POST", "/api/v1/reports", tok, `{"category": "0101",`, nil, 400, "invalid_argument", "", "请求体不完整"},
		{"wrong type", "POST", "/api/v1/reports", tok, good("location", map[string]any{"lat": "北纬32度", "lng": 118, "coord_type": "wgs84"}), nil, 400, "invalid_argument", "location.lat", "必须是数字"},
		{"photo id of the wrong type", "POST", "/api/v1/reports", tok, good("photo_ids", []any{photo, "x", 3}), nil, 400, "invalid_argument", "photo_ids[2]", "必须是字符串"},
		{"lat out of range", "POST", "/api/v1/reports", tok, good("location", map[string]any{"lat": 91, "lng": 118, "coord_type": "wgs84"}), nil, 400, "invalid_argument", "location.lat", "必须在 -90 到 90 之间"},
		{"invalid UTF-8", "POST", "/api/v1/reports", tok, strings.Replace(goodJSON, "垃圾", "\xff\xfe", 1), nil, 400, "invalid_argument", "description", "无效的 UTF-8"},
		{"lone surrogate", "POST", "/api/v1/reports", tok, strings.Replace(goodJSON, "垃圾", `\ud83d`, 1), nil, 400, "invalid_argument", "description", "代理项"},
		{"NUL in the address", "POST", "/api/v1/reports", tok, good("address", "幸福路\x0012号"), nil, 400, "invalid_argument", "address", "NUL"},
		{"escape in the description", "POST", "/api/v1/reports", tok, good("description", "垃圾\x1b[31m"), nil, 400, "invalid_argument", "description", "控制字符 U+001B"},
		{"invisible description", "POST", "/api/v1/reports", tok, good("description", "\u200b\u200b\u3000 "), nil, 400, "invalid_argument", "description", "不可见字符"},
		{"unknown category", "POST", "/api/v1/reports", tok, good("category", "9999"), nil, 400, "invalid_argument", "category", `"9999"`},
		{"cursor never issued", "GET", "/api/v1/reports/mine?cursor=zzzz", tok, nil, nil, 400, "invalid_argument", "cursor", "翻页游标"},
		{"a bare id as cursor", "GET", "/api/v1/reports/mine?cursor=66aa00000000000000000001", tok, nil, nil, 400, "invalid_argument", "cursor", "翻页游标"},
		{"limit", "GET", "/api/v1/tasks?limit=0", staff, nil, nil, 403, "permission_denied", "", "网格员或在职党员"},
		{"control character in a search", "GET", "/api/v1/admin/tickets?q=%E4%BA%95%07", staff, nil, nil, 400, "invalid_argument", "q", "控制字符 U+0007"},
		{"bad limit", "GET", "/api/v1/reports/mine?limit=1000", tok, nil, nil, 400, "invalid_argument", "limit", "1 到 100"},
		{"bad date", "GET", "/api/v1/stats/summary?from=2026-02-30", staff, nil, nil, 400, "invalid_argument", "from", `"2026-02-30"`},
		{"activity too long", "POST", "/api/v1/admin/activities", staff, map[string]string{"title": "巡查", "kind": "volunteer", "community": "幸福里社区",
			"starts_at": "2026-05-01T09:00:00+08:00", "ends_at": "2026-05-09T09:00:00+08:00"}, nil, 400, "invalid_argument", "ends_at", "最多比 starts_at 晚 7 天"},
		{"grid of a point", "POST", "/api/v1/admin/grids", staff, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"G1","name":"一网格","community":"社区"},"geometry":{"type":"Point","coordinates":[118,32]}}]}`,
			nil, 400, "invalid_argument", "features[0]", "不支持 geometry 类型 Point"},
		{"invisible grid name", "POST", "/api/v1/admin/grids", staff, strings.Replace(gridsGeoJSON, "幸福里一网格", "\u200b", 1), nil, 400, "invalid_argument", "features[0].properties.name", "不可见字符"},
		{"no token", "GET", "/api/v1/me", "", nil, nil, 401, "unauthenticated", "", "请先登录"},
		{"bad token", "GET", "/api/v1/me", "x.y.z", nil, nil, 401, "unauthenticated", "", "登录凭证无效"},
		{"wrong password", "POST", "/api/v1/auth/staff", "", map[string]string{"username": adminUser, "password": "nope"}, nil, 401, "unauthenticated", "", "用户名或密码错误"},
		{"not staff", "GET", "/api/v1/admin/tickets", tok, nil, nil, 403, "permission_denied", "", "工作人员"},
		{"unknown report", "GET", "/api/v1/reports/000000000000000000000000", tok, nil, nil, 404, "not_found", "", "000000000000000000000000"},
		{"unknown route", "GET", "/nope", "", nil, nil, 404, "not_found", "", "没有这个接口：GET /nope"},
		{"wrong method", "DELETE", "/healthz", "", nil, nil, 404, "not_found", "", "不支持 DELETE"},
		{"body too large", "POST", "/api/v1/auth/wechat", "", `{"code":"` + strings.Repeat("a", 70<<10) + `"}`, nil, 413, "payload_too_large", "", "字节的上限"},
		{"headers too large", "GET", "/healthz", "", nil, []string{"Cookie", strings.Repeat("c", 40<<10)}, 431, "payload_too_large", "", "请求头共"},
		{"not multipart", "POST", "/api/v1/photos", tok, `{}`, nil, 400, "invalid_argument", "", "multipart/form-data"},
	}
	for _, tt := range tests {
		r := s.Do(t, tt.method, tt.path, tt.token, tt.body, tt.headers...)
		checkEnvelope(t, tt.name, r.Status, r.Body)
		var e struct {
			Error struct {
				Code, Message string
				Field         *string
			}
		}
		_ = json.Unmarshal(r.Body, &e)
		if r.Status != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.message) {
			t.Errorf("%s: %d %s; want %d %s with %q", tt.name, r.Status, r.Body, tt.status, tt.code, tt.message)
		}
		if tt.code == "invalid_argument" && (e.Error.Field == nil || *e.Error.Field != tt.field) {
			t.Errorf("%s: field %v, want %q", tt.name, e.Error.Field, tt.field)
		}
		if tt.field != "" && !strings.HasPrefix(e.Error.Message, tt.field) {
			t.Errorf("%s: message %q does not name %s", tt.name, e.Error.Message, tt.field)
		}
	}

	// Headers past what net/http reads at all get Go's own text 431: no
	// handler runs, so no envelope can be written (see handler.MaxHeaderBytes).
	if r := s.Do(t, "GET", "/healthz", "", nil, "Cookie", strings.Repeat("c", 80<<10)); r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge headers: %d", r.Status)
	}

	// A bad upload, an idempotency key reused with another body, and a login
	// rate limit.
	if r := s.Upload(t, tok, "a.jpg", []byte("not an image at all")); r.Status != 415 {
		t.Errorf("text upload: %d %s", r.Status, r.Body)
	} else {
		checkEnvelope(t, "text upload", r.Status, r.Body)
	}
	p2 := uploadPhoto(t, s, tok)["id"].(string)
	if r := s.Do(t, "POST", "/api/v1/reports", tok, reportBody("0101", p2), "Idempotency-Key", "k-1"); r.Status != 201 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	r := s.Do(t, "POST", "/api/v1/reports", tok, good("description", "另一件事：路灯坏了"), "Idempotency-Key", "k-1")
	if r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Errorf("reused key: %d %s", r.Status, r.Body)
	}
	checkEnvelope(t, "reused key", r.Status, r.Body)
	// (Wrong passwords for one account from one address are slowed from
	// the fifth on: the next try right after is refused.)
	for range 5 {
		s.Do(t, "POST", "/api/v1/auth/staff", "", map[string]string{"username": "ghost", "password": "x"})
	}
	r = s.Do(t, "POST", "/api/v1/auth/staff", "", map[string]string{"username": "ghost", "password": "x"})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("login flood: %d %s", r.Status, r.Body)
	}
	checkEnvelope(t, "login flood", r.Status, r.Body)

	// Nothing bad was stored: one report, the good one.
	var mine struct {
		Items []report `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/reports/mine", tok, nil).Decode(t, &mine)
	if len(mine.Items) != 1 || strings.ContainsRune(mine.Items[0].Category+mine.Items[0].Status, '\uFFFD') {
		t.Errorf("after the bad requests the resident has %d reports: %+v", len(mine.Items), mine.Items)
	}
}
