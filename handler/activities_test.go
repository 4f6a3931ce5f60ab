package handler

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

// fakeActivities records what the handlers pass on.
type fakeActivities struct {
	ActivityService // the methods these tests do not call
	in              people.ActivityInput
	user            *model.User
	id              string
	first           bool
	err             error
}

func (f *fakeActivities) Create(_ context.Context, staff *model.User, in people.ActivityInput) (*model.Activity, error) {
	f.user, f.in = staff, in
	if f.err != nil {
		return nil, f.err
	}
	return &model.Activity{ID: "a1"}, nil
}

func (f *fakeActivities) CheckIn(_ context.Context, u *model.User, id string) (model.Checkin, bool, error) {
	f.user, f.id = u, id
	if f.err != nil {
		return model.Checkin{}, false, f.err
	}
	at := time.Date(2026, 5, 1, 8, 30, 0, 0, shanghai)
	return model.Checkin{ActivityID: id, MemberID: "m1", At: at}, f.first, nil
}

func activityServer(svc ActivityService, u *model.User) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := &handlers{Deps: Deps{Activities: svc}}
	as := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { c.Set(userKey, u); return next(c) }
	}
	e.POST("/api/v1/admin/activities", h.createActivity, as)
	e.POST("/api/v1/activities/:id/checkin", h.checkIn, as)
	return e
}

func TestActivityHandlers(t *testing.T) {
	staff := &model.User{ID: "s1", Roles: []model.Role{model.RoleStaff}}
	svc := &fakeActivities{}
	e := activityServer(svc, staff)

	body := `{"title":"清理小广告","kind":"volunteer","community":"幸福里社区","starts_at":"2026-05-01T09:00:00+08:00","ends_at":"2026-05-01T11:00:00+08:00","id":"mine","created_by":"x"}`
	req := httptest.NewRequest(http.MethodPost, "/api/v1/admin/activities", strings.NewReader(body))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated || strings.TrimSpace(rec.Body.String()) != `{"id":"a1"}` {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	want := people.ActivityInput{Title: "清理小广告", Kind: "volunteer", Community: "幸福里社区",
		StartsAt: "2026-05-01T09:00:00+08:00", EndsAt: "2026-05-01T11:00:00+08:00"}
	if svc.in != want || svc.user != staff {
		t.Fatalf("service got %+v from %+v", svc.in, svc.user)
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/admin/activities", strings.NewReader(`{"title": 5}`)))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"title 必须是字符串，不能是数字","field":"title"`) {
		t.Fatalf("wrong type: %d %s", rec.Code, rec.Body)
	}

	for _, first := range []bool{true, false} {
		svc.first = first
		rec = httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/activities/a9/checkin", nil))
		var got map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
			t.Fatalf("check-in: %d %s", rec.Code, rec.Body)
		}
		if got["activity_id"] != "a9" || got["already_checked_in"] != !first || got["checked_in_at"] != "2026-05-01T00:30:00Z" {
			t.Fatalf("check-in (first=%v) = %v", first, got)
		}
	}

	for _, tt := range []struct {
		err    error
		status int
	}{
		{model.Errorf(model.CodeNotFound, "no such activity"), 404},
		{model.Errorf(model.CodePermissionDenied, "only party members check in to activities"), 403},
		{model.Errorf(model.CodeConflict, "check-in for this activity opens at …"), 409},
	} {
		svc.err = tt.err
		rec = httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/activities/a9/checkin", nil))
		if rec.Code != tt.status {
			t.Fatalf("%v: status %d, want %d", tt.err, rec.Code, tt.status)
		}
	}
}
