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
		{model.Invalid("lat", "must be between -90 and 90"), 400, "invalid_argument", "lat: must be between -90 and 90", ""},
		{model.Errorf(model.CodeUnauthenticated, "bad token"), 401, "unauthenticated", "bad token", ""},
		{model.Errorf(model.CodePermissionDenied, "no"), 403, "permission_denied", "no", ""},
		{fmt.Errorf("get report: %w", model.Errorf(model.CodeNotFound, "no such report")), 404, "not_found", "no such report", ""},
		{model.Errorf(model.CodeConflict, "taken"), 409, "conflict", "taken", ""},
		{model.Errorf(model.CodePayloadTooLarge, "big"), 413, "payload_too_large", "big", ""},
		{model.Errorf(model.CodeUnsupportedMedia, "gif"), 415, "unsupported_media_type", "gif", ""},
		{model.Errorf(model.CodeIdempotencyKeyReused, "other body"), 422, "idempotency_key_reused", "other body", ""},
		{&model.Error{Code: model.CodeRateLimited, Message: "slow down", RetryAfterSeconds: 7}, 429, "rate_limited", "slow down", "7"},
		{model.Wrap(model.CodeUnavailable, errors.New("dial tcp: refused"), "the database is unavailable"), 503, "unavailable", "the database is unavailable", ""},
		{errors.New("mongo: secret driver detail"), 500, "internal", "internal error", ""},
		{echo.ErrNotFound, 404, "not_found", "no such route", ""},
		{echo.ErrMethodNotAllowed, 404, "not_found", "no such route", ""},
		{echo.ErrStatusRequestEntityTooLarge, 413, "payload_too_large", "the request body is too large", ""},
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

func TestDecodeNamesTheProblem(t *testing.T) {
	type req struct {
		Name  string   `json:"name"`
		Items []string `json:"items"`
	}
	tests := map[string]string{
		``:                     "the request body is empty",
		`{"name": 1}`:          "name: must be a string",
		`{"items": "x"}`:       "items: must be an array",
		`{"name": "a"`:         "malformed JSON",
		`[1,2]`:                "the body must be an object",
		`{"name":"a"} {"b":1}`: "one object expected",
	}
	e := echo.New()
	for body, want := range tests {
		c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), httptest.NewRecorder())
		var r req
		err := decode(c, &r)
		if model.ErrorCode(err) != model.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("decode(%q) = %v, want invalid_argument mentioning %q", body, err, want)
		}
	}
	big := `{"name":"` + strings.Repeat("a", maxJSONBody) + `"}`
	c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(big))), httptest.NewRecorder())
	var r req
	if err := decode(c, &r); model.ErrorCode(err) != model.CodePayloadTooLarge {
		t.Errorf("oversized body: %v, want payload_too_large", err)
	}
}
