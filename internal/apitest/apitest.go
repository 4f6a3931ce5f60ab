// Package apitest is a small HTTP client for end-to-end tests that talk to
// the server the way the mini-program and the staff console do.
package apitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Client calls one server.
type Client struct {
	Base string
	HTTP *http.Client
}

// New returns a client for the server at base (http://host:port).
func New(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Response is a decoded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("response %d is not a JSON object: %q", r.Status, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %d %q: %v", r.Status, r.Body, err)
	}
}

// ErrorCode returns the envelope's error code, or "" if there is none.
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request; body is JSON-encoded unless it is []byte or nil.
func (c *Client) Do(tb testing.TB, method, path, token string, body any, headers ...string) *Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.Send(tb, req)
}

// Send sends a prepared request.
func (c *Client) Send(tb testing.TB, req *http.Request) *Response {
	tb.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream never ends: its first event (the greeting) is enough.
		first, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(first)}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Login logs a WeChat user in with a simulator code and returns the token
// and user id.
func (c *Client) Login(tb testing.TB, code string) (token, userID string) {
	tb.Helper()
	r := c.Do(tb, http.MethodPost, "/api/v1/auth/wechat", "", map[string]string{"code": code})
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", code, r.Status, r.Body)
	}
	var s struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.Decode(tb, &s)
	return s.Token, s.User.ID
}

// LoginStaff logs a staff member in and returns the token.
func (c *Client) LoginStaff(tb testing.TB, username, password string) string {
	tb.Helper()
	r := c.Do(tb, http.MethodPost, "/api/v1/auth/staff", "", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		tb.Fatalf("staff login: %d %s", r.Status, r.Body)
	}
	return r.JSON(tb)["token"].(string)
}
