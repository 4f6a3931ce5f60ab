package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/silenceper/wechat/v2/util"
)

type recordRT struct {
	mu   sync.Mutex
	name string
	hits []string
	body []string
}

func (r *recordRT) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	r.mu.Lock()
	r.hits = append(r.hits, req.URL.Path)
	r.body = append(r.body, string(b))
	r.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"from":"` + r.name + `"}`)), Header: http.Header{}, Request: req}, nil
}

func (r *recordRT) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.hits) }

func TestRouterDispatch(t *testing.T) {
	real := &recordRT{name: "real"}
	simA := &recordRT{name: "A"}
	simB := &recordRT{name: "B"}
	r := newRouter(real)
	unA := r.register("wxA", simA)
	unB := r.register("wxB", simB)
	c := &http.Client{Transport: r}

	get := func(u string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
	}
	post := func(u, body string) error {
		resp, err := c.Post(u, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	get("https://api.weixin.qq.com/sns/jscode2session?appid=wxA&secret=s&js_code=c")
	get("https://api.weixin.qq.com/sns/jscode2session?appid=wxC&secret=s&js_code=c") // not registered
	get("https://example.com/?appid=wxA")                                            // other host
	if err := post("https://api.weixin.qq.com/wxa/msg_sec_check?access_token=SIM.wxB.abc", "{}"); err != nil {
		t.Fatal(err)
	}
	if err := post("https://api.weixin.qq.com/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxB","secret":"x"}`); err != nil {
		t.Fatal(err)
	}
	if err := post("https://api.weixin.qq.com/cgi-bin/stable_token", `{"appid":"wxZ"}`); err != nil {
		t.Fatal(err)
	}
	if simA.count() != 1 || simB.count() != 2 || real.count() != 3 {
		t.Fatalf("A=%v B=%v real=%v", simA.hits, simB.hits, real.hits)
	}
	if real.body[2] != `{"appid":"wxZ"}` || !strings.Contains(simB.body[1], `"wxB"`) {
		t.Fatalf("body not preserved: real=%q B=%q", real.body, simB.body)
	}

	// unregistered simulator tokens never reach the real WeChat
	unB()
	if err := post("https://api.weixin.qq.com/wxa/msg_sec_check?access_token=SIM.wxB.abc", "{}"); err == nil {
		t.Fatal("SIM token of an unregistered appid must fail")
	}
	if real.count() != 3 {
		t.Fatal("SIM token leaked to the real transport")
	}
	unA()
	unA() // idempotent
	get("https://api.weixin.qq.com/sns/jscode2session?appid=wxA")
	if real.count() != 4 {
		t.Fatalf("after unregister: real=%v", real.hits)
	}

	// re-registration shadows and unregistering restores
	simA2 := &recordRT{name: "A2"}
	un1 := r.register("wxA", simA)
	un2 := r.register("wxA", simA2)
	get("https://api.weixin.qq.com/x?appid=wxA")
	un2()
	get("https://api.weixin.qq.com/x?appid=wxA")
	un1()
	if simA2.count() != 1 || simA.count() != 2 {
		t.Fatalf("shadowing: A=%v A2=%v", simA.hits, simA2.hits)
	}
}

func TestRouteInstallsOnce(t *testing.T) {
	un := Route("wxinstall", &recordRT{})
	defer un()
	c1 := util.DefaultHTTPClient
	un2 := Route("wxinstall2", &recordRT{})
	defer un2()
	if util.DefaultHTTPClient != c1 || c1.Transport != theRouter || c1 == http.DefaultClient {
		t.Fatal("router not installed exactly once into a copy of the default client")
	}
	if http.DefaultClient.Transport != nil {
		t.Fatal("http.DefaultClient must not be modified")
	}
}

func TestSimTokenAppID(t *testing.T) {
	for tok, want := range map[string]string{
		"SIM.wx123.abcdef": "wx123",
		"SIM.wx.1.2.abc":   "wx.1.2",
		"SIM.noid":         "",
	} {
		if got := simTokenAppID(tok); got != want {
			t.Errorf("%q → %q, want %q", tok, got, want)
		}
	}
}

func TestTranslateRedacts(t *testing.T) {
	secretURL := "https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret=TOPSECRET&js_code=LOGINCODE&grant_type=authorization_code"
	tokURL := "https://api.weixin.qq.com/wxa/msg_sec_check?access_token=SIM.wx1.TOKENVALUE"
	for name, in := range map[string]error{
		"url.Error":   &url.Error{Op: "Post", URL: tokURL, Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
		"url.Error2":  &url.Error{Op: "Get", URL: secretURL, Err: context.DeadlineExceeded},
		"status":      fmt.Errorf("http get error : uri=%v , statusCode=%v", secretURL, 502),
		"status post": fmt.Errorf("http post error : uri=%v , statusCode=%v", tokURL, 404),
		"other":       fmt.Errorf("weird failure at %s", tokURL),
	} {
		out := translate("op", in)
		s := out.Error()
		for _, secret := range []string{"TOPSECRET", "LOGINCODE", "TOKENVALUE"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s: %q leaks %s", name, s, secret)
			}
		}
		if errors.Unwrap(out) != nil && strings.Contains(fmt.Sprint(errors.Unwrap(out)), "TOKENVALUE") {
			t.Errorf("%s: leaks through Unwrap", name)
		}
	}
	if !IsTransient(translate("op", &url.Error{Op: "Post", URL: tokURL, Err: errors.New("EOF")})) {
		t.Error("transport error should be transient")
	}
	if !errors.Is(translate("op", &url.Error{Op: "Get", URL: secretURL, Err: context.DeadlineExceeded}), context.DeadlineExceeded) {
		t.Error("deadline should stay detectable")
	}
	if !IsTransient(translate("op", fmt.Errorf("http get error : uri=%v , statusCode=%v", secretURL, 503))) {
		t.Error("503 should be transient")
	}
	if IsTransient(translate("op", fmt.Errorf("http get error : uri=%v , statusCode=%v", secretURL, 404))) {
		t.Error("404 should not be transient")
	}
}

func TestTranslateErrcodes(t *testing.T) {
	for _, tc := range []struct {
		in        error
		code      int
		sentinel  error
		transient bool
	}{
		{fmt.Errorf("Code2Session error : errcode=%v , errmsg=%v", 40029, "invalid code, rid: 1-2-3"), 40029, ErrInvalidCode, false},
		{fmt.Errorf("Code2Session error : errcode=%v , errmsg=%v", 40163, "code been used, rid: x"), 40163, ErrInvalidCode, false},
		{fmt.Errorf("get stable access_token error : errcode=%v , errormsg=%v", 40125, "invalid appsecret"), 40125, ErrAppCredentials, false},
		{util.NewCommonError("Send", 43101, "user refuse to accept the msg"), 43101, ErrNoAllowance, false},
		{util.NewCommonError("Send", 47003, "argument invalid! data.thing1.value invalid"), 47003, ErrBadTemplateData, false},
		{util.NewCommonError("Send", -1, "system error"), -1, ErrSystemBusy, true},
		{util.NewCommonError("Send", 45009, "reach max api daily quota limit"), 45009, ErrRateLimited, true},
		{util.NewCommonError("Send", 42001, "access_token expired"), 42001, ErrAccessToken, true},
	} {
		out := translate("op", tc.in)
		var ae *APIError
		if !errors.As(out, &ae) || ae.Code != tc.code {
			t.Errorf("%v → %v", tc.in, out)
			continue
		}
		if !errors.Is(out, tc.sentinel) {
			t.Errorf("%v: not %v", out, tc.sentinel)
		}
		if !errors.Is(out, &APIError{Code: tc.code}) {
			t.Errorf("%v: errors.Is by code failed", out)
		}
		if IsTransient(out) != tc.transient {
			t.Errorf("%v: transient=%v", out, !tc.transient)
		}
	}
	if IsTransient(nil) || IsTransient(context.Canceled) || !IsTransient(context.DeadlineExceeded) {
		t.Error("IsTransient basics")
	}
	if got := redact("errcode=40029, errmsg=invalid code"); got != "errcode=40029, errmsg=invalid code" {
		t.Errorf("redact mangled errcode: %q", got)
	}
}
