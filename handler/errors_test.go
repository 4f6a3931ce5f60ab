package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

func TestErrorHandlerMapsEveryCode(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		code       string
		message    string
		retryAfter string
	}{
		{model.Invalid("location.lat", "必须在 -90 到 90 之间"), 400, "invalid_argument", "location.lat 必须在 -90 到 90 之间", ""},
		{model.Errorf(model.CodeUnauthenticated, "用户名或密码错误"), 401, "unauthenticated", "用户名或密码错误", ""},
		{model.Errorf(model.CodePermissionDenied, "此操作需要工作人员身份"), 403, "permission_denied", "此操作需要工作人员身份", ""},
		{fmt.Errorf("get report: %w", model.Errorf(model.CodeNotFound, "没有这条上报 r1")), 404, "not_found", "没有这条上报 r1", ""},
		{model.Errorf(model.CodeConflict, "这个任务已被别人抢先认领"), 409, "conflict", "这个任务已被别人抢先认领", ""},
		{model.Errorf(model.CodePayloadTooLarge, "照片超过了 10 MB 的上限"), 413, "payload_too_large", "照片超过了 10 MB 的上限", ""},
		{model.Errorf(model.CodeUnsupportedMedia, "不支持的文件类型"), 415, "unsupported_media_type", "不支持的文件类型", ""},
		{model.Errorf(model.CodeIdempotencyKeyReused, "这个 Idempotency-Key 已用于另一条内容不同的上报"), 422, "idempotency_key_reused", "这个 Idempotency-Key", ""},
		{&model.Error{Code: model.CodeRateLimited, Message: "操作过于频繁", RetryAfterSeconds: 7}, 429, "rate_limited", "操作过于频繁", "7"},
		{model.Wrap(model.CodeUnavailable, errors.New("dial tcp: refused"), "数据库暂时不可用，请稍后重试"), 503, "unavailable", "数据库暂时不可用", ""},
		{errors.New("mongo: secret driver detail"), 500, "internal", "服务器内部错误", ""},
		{&model.Error{Code: model.CodeConflict}, 409, "conflict", "当前状态不允许此操作", ""},
		{echo.ErrNotFound, 404, "not_found", "没有这个接口：GET /x", ""},
		{echo.ErrMethodNotAllowed, 404, "not_found", "接口 /x 不支持 GET 方法", ""},
		{echo.ErrStatusRequestEntityTooLarge, 413, "payload_too_large", "请求体过大", ""},
		{echo.ErrUnsupportedMediaType, 415, "unsupported_media_type", "不支持的内容类型", ""},
		{echo.ErrBadRequest, 400, "invalid_argument", "请求有误", ""},
		{echo.ErrUnauthorized, 401, "unauthenticated", "请先登录", ""},
		{echo.ErrForbidden, 403, "permission_denied", "无权执行此操作", ""},
		{echo.ErrTooManyRequests, 429, "rate_limited", "操作过于频繁", ""},
		{echo.ErrServiceUnavailable, 503, "unavailable", "服务暂时不可用", ""},
		{errHeaderTooLarge{size: 40000, limit: 32768}, 431, "payload_too_large", "请求头共 40000 字节，超过了 32768 字节的上限", ""},
	}
	var logs strings.Builder
	h := errorHandler(slog.New(slog.NewJSONHandler(&logs, nil)))
	e := echo.New()
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/x", nil), rec)
		h(tt.err, c)
		if rec.Code != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, rec.Code, tt.status)
		}
		var body ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q is not the envelope", tt.err, rec.Body)
		}
		if body.Error.Code != tt.code || !strings.HasPrefix(body.Error.Message, tt.message) {
			t.Errorf("%v: envelope %+v, want %s %q", tt.err, body.Error, tt.code, tt.message)
		}
		if !hasCJK(body.Error.Message) {
			t.Errorf("%v: message %q is not Chinese", tt.err, body.Error.Message)
		}
		if (body.Error.Field != nil) != (tt.code == "invalid_argument") {
			t.Errorf("%v: field %v; invalid_argument, and only it, carries field", tt.err, body.Error.Field)
		}
		if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("%v: Retry-After %q, want %q", tt.err, got, tt.retryAfter)
		}
		if strings.Contains(rec.Body.String(), "secret driver detail") || strings.Contains(rec.Body.String(), "dial tcp") {
			t.Errorf("%v: internal detail leaked: %s", tt.err, rec.Body)
		}
	}
	if !strings.Contains(logs.String(), "secret driver detail") {
		t.Error("the 500's cause was not logged")
	}
}

func hasCJK(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestDecodeNamesTheProblem(t *testing.T) {
	type loc struct {
		Lat *float64 `json:"lat"`
	}
	type req struct {
		Name     string            `json:"name"`
		Items    []string          `json:"items"`
		Location *loc              `json:"location"`
		Tags     map[string]string `json:"tags"`
		Any      any               `json:"any"`
		Password string            `json:"password" text:"raw"`
	}
	tests := []struct{ body, field, message string }{
		{``, "", "请求体为空"},
		{`{"name": 1}`, "name", "name 必须是字符串，不能是数字"},
		{`{"items": "x"}`, "items", "items 必须是数组"},
		{`{"items": ["a", 2]}`, "items[1]", "items[1] 必须是字符串，不能是数字"},
		{`{"location": {"lat": "north"}}`, "location.lat", "location.lat 必须是数字，不能是字符串"},
		{`{"name": "a"`, "", "请求体不完整"},
		{`{"name": "a", "items": [1 2]}`, "items[1]", "items[1] 处的 JSON 格式有误"},
		{`{"location": {"lat": 1,}}`, "location", "location 处的 JSON 格式有误"},
		{`[1,2]`, "", "请求体必须是 JSON 对象，不能是数组"},
		{`{"name":"a"} {"b":1}`, "", "请求体只能是一个 JSON 对象"},
		{"{\"name\": \"a\xff\"}", "name", "name 含有无效的 UTF-8 字节（第 11 字节）"},
		{"{\"items\": [\"ok\", \"\xc3\"]}", "items[1]", "items[1] 含有无效的 UTF-8 字节"},
		{`{"name": "\ud800"}`, "name", "name 含有不成对的 UTF-16 代理项"},
		{`{"name": "\udc00x"}`, "name", "name 含有不成对的 UTF-16 代理项"},
		{`{"name": "a\u0000b"}`, "name", "name 不能含有 NUL 字符"},
		{`{"items": ["ok", "bell\u0007"]}`, "items[1]", "items[1] 不能含有控制字符 U+0007"},
		{`{"name": "\u200b\u200b"}`, "name", "name 只有空白或不可见字符"},
		{`{"name": "\u3000 \t\n"}`, "name", "name 只有空白或不可见字符"},
		{`{"tags": {"k": "\u3164"}}`, "tags.k", "tags.k 只有空白或不可见字符"},
		{`{"any": {"deep": ["\u001b[31m"]}}`, "any.deep[0]", "any.deep[0] 不能含有控制字符 U+001B"},
	}
	e := echo.New()
	for _, tt := range tests {
		c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body)), httptest.NewRecorder())
		var r req
		err := decode(c, &r)
		var me *model.Error
		if !errors.As(err, &me) || me.Code != model.CodeInvalidArgument || !strings.HasPrefix(me.Message, tt.message) || me.Field != tt.field {
			t.Errorf("decode(%q) = %#v, want invalid_argument field %q message %q…", tt.body, err, tt.field, tt.message)
		}
	}
	// What must pass: surrogate pairs, CRLF, tabs, text with spaces, an
	// empty optional string, a raw password.
	ok := `{"name": "\ud83d\ude00 井盖\r\n\t破损", "items": ["", "a b"], "password": "\u0001  "}`
	c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(ok)), httptest.NewRecorder())
	var r req
	if err := decode(c, &r); err != nil || r.Name != "😀 井盖\r\n\t破损" {
		t.Errorf("decode(%q) = %v, %q", ok, err, r.Name)
	}
	big := `{"name":"` + strings.Repeat("a", maxJSONBody) + `"}`
	c = e.NewContext(httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(big))), httptest.NewRecorder())
	if err := decode(c, &r); model.ErrorCode(err) != model.CodePayloadTooLarge {
		t.Errorf("oversized body: %v, want payload_too_large", err)
	}
}

func TestCursorsAreSigned(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Use(withCursorKey(cursorKey([]byte("a secret of at least thirty-two bytes"))))
	var got string
	e.GET("/list", func(c echo.Context) error {
		cur, _, err := pageParams(c)
		if err != nil {
			return err
		}
		got = cur
		return c.String(http.StatusOK, signCursor(c, "66aa00000000000000000001"))
	})
	e.GET("/other", func(c echo.Context) error {
		_, _, err := pageParams(c)
		return err
	})
	get := func(url string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		return rec
	}
	next := get("/list").Body.String()
	if rec := get("/list?cursor=" + next); rec.Code != 200 || got != "66aa00000000000000000001" {
		t.Fatalf("own cursor: %d, store cursor %q", rec.Code, got)
	}
	for _, bad := range []string{"zzzz", "66aa00000000000000000001", next + "x", "x" + next, strings.Repeat("a", 600)} {
		if rec := get("/list?cursor=" + bad); rec.Code != 400 {
			t.Errorf("cursor %q: %d, want 400", bad, rec.Code)
		}
	}
	// A cursor of one list is no cursor of another.
	if rec := get("/other?cursor=" + next); rec.Code != 400 {
		t.Errorf("another list's cursor: %d, want 400", rec.Code)
	}
	if c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), nil); signCursor(c, "") != "" {
		t.Error("the end must stay an empty next_cursor")
	}
}

func TestHeaderSizeLimit(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Use(checkHeaderSize(1024))
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", strings.Repeat("x", 900))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("small headers: %d", rec.Code)
	}
	req.Header.Set("Cookie", strings.Repeat("x", 1100))
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var body ErrorBody
	if rec.Code != http.StatusRequestHeaderFieldsTooLarge || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
		body.Error.Code != "payload_too_large" || !strings.Contains(body.Error.Message, "1024 字节的上限") {
		t.Errorf("big headers: %d %s", rec.Code, rec.Body)
	}
}
