package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

type fixedCategories struct{ CategoryService }

func (fixedCategories) List(context.Context) ([]model.Category, error) {
	return []model.Category{{Code: "0101", Name: "暴露垃圾"}}, nil
}

// TestLabels: every enumeration, every value, each with a Chinese word —
// and an escalated ticket is 已升级.
func TestLabels(t *testing.T) {
	h := &handlers{Deps: Deps{Categories: fixedCategories{}}}
	e := echo.New()
	e.GET("/api/v1/labels", h.labels)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/labels", nil))
	var out map[string][]labelJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	sizes := map[string]int{"statuses": len(model.Statuses), "event_types": len(model.EventTypes), "sources": 4, "roles": 4 + len(model.StaffRoles),
		"activity_kinds": 3, "categories": 1, "flags": len(model.TicketFlags), "address_kinds": 4, "layer_kinds": 3,
		"audit_actions": len(model.AuditActions)}
	for k, n := range sizes {
		if len(out[k]) != n {
			t.Errorf("%s: %d labels, want %d", k, len(out[k]), n)
		}
		for _, l := range out[k] {
			if l.Key == "" || !containsHan(l.Label) {
				t.Errorf("%s: %+v has no Chinese label", k, l)
			}
		}
	}
	for _, l := range out["flags"] {
		if l.Key == "escalated" && l.Label != "已升级" {
			t.Errorf("escalated is %q", l.Label)
		}
	}
	for _, l := range out["event_types"] {
		if l.Stage == "" {
			t.Errorf("event %s has no stage", l.Key)
		}
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
