package handler

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

func TestW3CParam(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	for _, c := range []struct {
		in   string
		end  bool
		want time.Time
		ok   bool
	}{
		{"2026-01-02T03:04:05Z", false, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2026-01-02T03:04:05+08:00", false, time.Date(2026, 1, 2, 3, 4, 5, 0, cst), true},
		{"2026-01-02T03:04:05 08:00", false, time.Date(2026, 1, 2, 3, 4, 5, 0, cst), true}, // an unencoded +
		{"2026-01-02T03:04:05.5-05:00", false, time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.FixedZone("", -5*3600)), true},
		{"2026-01-02T03:04Z", false, time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), true},
		{"2026-01-02", false, time.Date(2026, 1, 2, 0, 0, 0, 0, cst), true},
		{"2026-01-02", true, time.Date(2026, 1, 2, 23, 59, 59, 0, cst), true},
		{"2026-01-02T03:04:05", false, time.Time{}, false}, // no zone
		{"yesterday", false, time.Time{}, false},
	} {
		got, err := w3cParam(url.Values{"d": {c.in}}, "d", c.end)
		if c.ok != (err == nil) || (c.ok && !got.Equal(c.want)) {
			t.Errorf("%q end=%v: %v %v, want %v", c.in, c.end, got, err, c.want)
		}
		var me *model.Error
		if err != nil && (!errors.As(err, &me) || me.Field != "d") {
			t.Errorf("%q: error %v does not name the parameter", c.in, err)
		}
	}
	if got, err := w3cParam(url.Values{"d": {"  "}}, "d", false); got != nil || err != nil {
		t.Errorf("an empty parameter is absent: %v %v", got, err)
	}
}

func TestOpen311ListParams(t *testing.T) {
	v := url.Values{"status": {"open, closed", "", ","}, "empty": {" "}}
	if got := strings.Join(list(v, "status"), "|"); got != "open|closed" {
		t.Errorf("list: %q", got)
	}
	if param(v, "empty") != "" || list(v, "empty") != nil {
		t.Error("a blank parameter is absent")
	}
}

// TestOpen311Routing checks what needs no store: a method a resource does
// not take is 400 with Allow, a path that names nothing 404, each in the
// format the path asks for.
func TestOpen311Routing(t *testing.T) {
	e := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, c := range []struct {
		method, path string
		status       int
		ctype, allow string
	}{
		{http.MethodDelete, "/open311/v2/requests.json", 400, mimeJSON, "GET, POST"},
		{http.MethodPut, "/open311/v2/services/0101.xml", 400, mimeXML, "GET"},
		{http.MethodPost, "/open311/v2/discovery.xml", 400, mimeXML, "GET"},
		{http.MethodPost, "/open311/v2/tokens/1.json", 400, mimeJSON, "GET"},
		{http.MethodGet, "/open311/v2/requests.csv", 404, mimeXML, ""},
		{http.MethodGet, "/open311/v2/v3/services.json", 404, mimeJSON, ""},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.ctype || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q Allow %q: %s", c.method, c.path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Allow"), rec.Body)
		}
		if !strings.Contains(rec.Body.String(), "errors") && !strings.HasPrefix(rec.Body.String(), "[{\"code\":") {
			t.Errorf("%s %s: no errors body: %s", c.method, c.path, rec.Body)
		}
	}
}
