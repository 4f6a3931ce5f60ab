package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleCookie: the staff login sets the console's cookie (HttpOnly,
// SameSite=Strict, Path=/, expiring with the session); staff routes take
// it in place of the bearer token, reads as they are and writes only with
// X-Requested-With; a resident's token in the cookie counts for nothing;
// logout clears it.
func TestConsoleCookie(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	r := s.Do(t, http.MethodPost, "/api/v1/auth/staff", "", map[string]string{"username": adminUser, "password": adminPass})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "cgt_staff" {
			ck = c
		}
	}
	token, _ := r.JSON(t)["token"].(string)
	if ck == nil || ck.Value != token || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure ||
		ck.Expires.Before(time.Now().Add(time.Hour)) {
		t.Fatalf("the staff login's cookie is %+v, want the token, HttpOnly, SameSite=Strict, Path=/, not Secure over http, expiring with the session", ck)
	}
	cookie := "cgt_staff=" + ck.Value

	if r := s.Do(t, http.MethodGet, "/api/v1/admin/tickets", "", nil, "Cookie", cookie); r.Status != 200 {
		t.Errorf("GET /admin/tickets by cookie = %d %s, want 200", r.Status, r.Body)
	}
	if r := s.Do(t, http.MethodGet, "/api/v1/me", "", nil, "Cookie", cookie); r.Status != 200 || r.JSON(t)["username"] != adminUser {
		t.Errorf("GET /me by cookie = %d %s, want the staff user", r.Status, r.Body)
	}
	// A write by cookie without the header is what a forged form would
	// send: refused before anything runs.
	body := map[string]any{"name": "汪网格", "phone": "13912340000", "grid_codes": []string{"320106001001"}}
	if r := s.Do(t, http.MethodPost, "/api/v1/admin/workers", "", body, "Cookie", cookie); r.Status != 403 || !strings.Contains(string(r.Body), "X-Requested-With") {
		t.Errorf("POST by cookie without X-Requested-With = %d %s, want 403 naming the header", r.Status, r.Body)
	}
	// With the header it goes through to the handler (400: no grids yet).
	if r := s.Do(t, http.MethodPost, "/api/v1/admin/workers", "", body, "Cookie", cookie, "X-Requested-With", "XMLHttpRequest"); r.Status == 401 || r.Status == 403 {
		t.Errorf("POST by cookie with X-Requested-With = %d %s, want it authenticated", r.Status, r.Body)
	}
	// A bearer token wins over the cookie: a resident's bearer stays a resident.
	resident, _ := s.Login(t, "cookie-resident")
	if r := s.Do(t, http.MethodGet, "/api/v1/admin/tickets", resident, nil, "Cookie", cookie); r.Status != 403 {
		t.Errorf("a resident's bearer token with the staff cookie = %d, want 403", r.Status)
	}
	// Only staff tokens count in the cookie.
	if r := s.Do(t, http.MethodGet, "/api/v1/me", "", nil, "Cookie", "cgt_staff="+resident); r.Status != 401 {
		t.Errorf("a resident's token in the cookie = %d %s, want 401", r.Status, r.Body)
	}
	if r := s.Do(t, http.MethodGet, "/api/v1/me", "", nil, "Cookie", "cgt_staff=forged"); r.Status != 401 {
		t.Errorf("a forged cookie = %d, want 401", r.Status)
	}

	// Logout by cookie needs the header too, then clears the cookie.
	if r := s.Do(t, http.MethodPost, "/api/v1/auth/logout", "", nil, "Cookie", cookie); r.Status != 403 {
		t.Errorf("logout by cookie without X-Requested-With = %d, want 403", r.Status)
	}
	r = s.Do(t, http.MethodPost, "/api/v1/auth/logout", "", nil, "Cookie", cookie, "X-Requested-With", "XMLHttpRequest")
	cleared := false
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		cleared = cleared || c.Name == "cgt_staff" && c.Value == "" && c.MaxAge < 0 && c.HttpOnly && c.Path == "/"
	}
	if r.Status != 204 || !cleared {
		t.Errorf("logout = %d %v, want 204 clearing cgt_staff", r.Status, r.Header["Set-Cookie"])
	}
}
