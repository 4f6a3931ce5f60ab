package wechatsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type answer struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	OpenID      string `json:"openid"`
	SessionKey  string `json:"session_key"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TraceID     string `json:"trace_id"`
	Result      struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	} `json:"result"`
}

func do(t *testing.T, h http.Handler, method, target, body string) answer {
	t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("%s %s: HTTP %d", method, target, w.Code)
	}
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("%s %s: %v: %s", method, target, err, w.Body)
	}
	return a
}

func expectErr(t *testing.T, a answer, code int, msgPrefix string) {
	t.Helper()
	if a.ErrCode != code || !strings.HasPrefix(a.ErrMsg, msgPrefix) || !strings.Contains(a.ErrMsg, " rid: ") {
		t.Fatalf("got %d %q, want %d %q…", a.ErrCode, a.ErrMsg, code, msgPrefix)
	}
}

func TestJSCode2Session(t *testing.T) {
	s := New(Options{AppID: "wxsimtest1", Secret: "sec"})
	h := s.Handler()
	u := "/sns/jscode2session?appid=%s&secret=%s&js_code=%s&grant_type=authorization_code"
	expectErr(t, do(t, h, "GET", fmt.Sprintf(u, "wxother", "sec", "c"), ""), 40013, "invalid appid")
	expectErr(t, do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "bad", "c"), ""), 40125, "invalid appsecret")
	expectErr(t, do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "sec", ""), ""), 40029, "invalid code")
	expectErr(t, do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "sec", "invalid-1"), ""), 40029, "invalid code")
	expectErr(t, do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "sec", "used-1"), ""), 40163, "code been used")
	expectErr(t, do(t, h, "POST", fmt.Sprintf(u, "wxsimtest1", "sec", "c"), ""), 43001, "require GET method")
	a := do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "sec", "c1"), "")
	b := do(t, h, "GET", fmt.Sprintf(u, "wxsimtest1", "sec", "c1"), "")
	if a.ErrCode != 0 || a.OpenID != s.OpenIDFor("c1") || a.OpenID != b.OpenID || a.SessionKey == b.SessionKey {
		t.Fatalf("%+v %+v", a, b)
	}
}

func TestStableTokenAndAuth(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := New(Options{AppID: "wxsimtest2", Secret: "sec", Now: clk.Now})
	h := s.Handler()
	tok := func(force bool) answer {
		return do(t, h, "POST", "/cgi-bin/stable_token",
			fmt.Sprintf(`{"grant_type":"client_credential","appid":"wxsimtest2","secret":"sec","force_refresh":%v}`, force))
	}
	expectErr(t, do(t, h, "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxsimtest2","secret":"nope"}`), 40125, "invalid appsecret")
	expectErr(t, do(t, h, "POST", "/cgi-bin/stable_token", `{"grant_type":"x","appid":"wxsimtest2","secret":"sec"}`), 40002, "invalid grant_type")
	expectErr(t, do(t, h, "POST", "/cgi-bin/stable_token", `{bad json`), 47001, "data format error")
	expectErr(t, do(t, h, "POST", "/cgi-bin/stable_token", ``), 44002, "empty post data")

	t1 := tok(false)
	if !strings.HasPrefix(t1.AccessToken, "SIM.wxsimtest2.") || t1.ExpiresIn != 7200 {
		t.Fatalf("%+v", t1)
	}
	clk.Add(1000 * time.Second)
	t2 := tok(false)
	if t2.AccessToken != t1.AccessToken || t2.ExpiresIn != 6200 || s.TokensIssued() != 1 {
		t.Fatalf("stable token should be reused: %+v issued=%d", t2, s.TokensIssued())
	}

	login := do(t, h, "GET", "/sns/jscode2session?appid=wxsimtest2&secret=sec&js_code=u1&grant_type=authorization_code", "")
	check := func(token, body string) answer {
		return do(t, h, "POST", "/wxa/msg_sec_check?access_token="+token, body)
	}
	good := fmt.Sprintf(`{"version":2,"scene":3,"openid":%q,"content":"枪支买卖"}`, login.OpenID)
	if a := check(t1.AccessToken, good); a.ErrCode != 0 || a.Result.Suggest != "risky" || a.Result.Label != LabelIllegal || a.TraceID == "" {
		t.Fatalf("%+v", a)
	}
	expectErr(t, check("", good), 41001, "access_token missing")
	expectErr(t, check("SIM.wxsimtest2.unknown", good), 40001, "invalid credential")
	expectErr(t, check(t1.AccessToken, fmt.Sprintf(`{"scene":3,"openid":%q,"content":"x"}`, login.OpenID)), 40097, "invalid args")
	expectErr(t, check(t1.AccessToken, `{"version":2,"scene":3,"openid":"oNobody","content":"x"}`), 40003, "invalid openid")
	expectErr(t, do(t, h, "GET", "/wxa/msg_sec_check?access_token="+t1.AccessToken, ""), 43002, "require POST method")

	// force refresh: new token, old one invalid
	t3 := tok(true)
	if t3.AccessToken == t1.AccessToken || s.TokensIssued() != 2 {
		t.Fatalf("force refresh: %+v", t3)
	}
	expectErr(t, check(t1.AccessToken, good), 40001, "invalid credential")

	// expiry: 42001, then a new token is minted
	clk.Add(TokenTTL)
	expectErr(t, check(t3.AccessToken, good), 42001, "access_token expired")
	t4 := tok(false)
	if t4.AccessToken == t3.AccessToken || t4.ExpiresIn != 7200 || s.TokensIssued() != 3 {
		t.Fatalf("after expiry: %+v", t4)
	}
}

func TestRoundTripInMemory(t *testing.T) {
	s := New(Options{AppID: "wxsimtest3", Secret: "sec"})
	c := &http.Client{Transport: s}
	resp, err := c.Get("https://api.weixin.qq.com/sns/jscode2session?appid=wxsimtest3&secret=sec&js_code=zz&grant_type=authorization_code")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), s.OpenIDFor("zz")) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp2, err := c.Get("https://api.weixin.qq.com/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp2.StatusCode)
	}
}

func TestValidValue(t *testing.T) {
	for _, tc := range []struct {
		key, v string
		ok     bool
	}{
		{"thing1", "人行道井盖缺失", true},
		{"thing1", strings.Repeat("长", 20), true},
		{"thing1", strings.Repeat("长", 21), false},
		{"thing1", "a\nb", false},
		{"thing1", "", false},
		{"character_string2", "CG-2024_0501#42", true},
		{"character_string2", strings.Repeat("a", 33), false},
		{"character_string2", "中文", false},
		{"character_string2", "a b", false},
		{"number3", "12345", true},
		{"number3", "12.50", true},
		{"number3", "12a", false},
		{"number3", strings.Repeat("9", 33), false},
		{"letter4", "abcXYZ", true},
		{"letter4", "abc1", false},
		{"symbol5", "#@!", true},
		{"symbol5", "#@!%^&", false},
		{"amount6", "¥100.50", true},
		{"amount6", "100元", true},
		{"amount6", "abc", false},
		{"phone_number7", "+86-0766-66888866", true},
		{"phone_number7", "1380013800012345678", false},
		{"phone_number7", "call me", false},
		{"car_number8", "粤A8Z8F8", true},
		{"car_number8", "粤A8Z8F8学", true},
		{"car_number8", "A粤8", false},
		{"name9", "张三", true},
		{"name9", "John Smith", true},
		{"name9", strings.Repeat("张", 11), false},
		{"name9", "张3", false},
		{"phrase10", "配送中", true},
		{"phrase10", "已经处理完成了", false},
		{"phrase10", "ok", false},
		{"time11", "15:01", true},
		{"time11", "2019年10月1日 15:01", true},
		{"time11", "2024-05-01 10:30", true},
		{"time11", "2024/05/01 10:30:59", true},
		{"time11", "2024-05-01", true},
		{"time11", "15:01~16:30", true},
		{"time11", "25:01", false},
		{"time11", "明天", false},
		{"date12", "2019年10月1日", true},
		{"date12", "2019-10-01 15:01", true},
		{"date12", "2019年10月1日~2019年10月3日", true},
		{"date12", "15:01", false},
		{"date12", "2019-13-01", false},
		{"short_thing13", "待处理", true},
		{"short_thing13", "待处理工单啊", false},
		{"unknown14", "anything", true},
	} {
		if got := ValidValue(tc.key, tc.v); got != tc.ok {
			t.Errorf("ValidValue(%q, %q) = %v, want %v", tc.key, tc.v, got, tc.ok)
		}
	}
	if KeywordType("character_string12") != "character_string" {
		t.Error("KeywordType")
	}
}

func TestNewValidates(t *testing.T) {
	for name, o := range map[string]Options{
		"no appid":      {},
		"encrypted key": {AppID: "wx1", Encrypted: true, PushAESKey: "short"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: expected panic", name)
				}
			}()
			New(o)
		}()
	}
}

// Two simulators of one app (two instances, or one before and after a
// restart) are one WeChat: an openid or token either issued is good on the
// other, and nothing issued by another app or forged is.
func TestSimulatorsOfOneAppAgree(t *testing.T) {
	a := New(Options{AppID: "wxsimone", Secret: "sec"})
	b := New(Options{AppID: "wxsimone", Secret: "sec"})
	other := New(Options{AppID: "wxsimone", Secret: "another-secret"})
	login := do(t, a.Handler(), "GET", "/sns/jscode2session?appid=wxsimone&secret=sec&js_code=resident-1&grant_type=authorization_code", "")
	if login.OpenID != b.OpenIDFor("resident-1") || len(login.OpenID) != 28 || login.OpenID[0] != 'o' {
		t.Fatalf("openid %q, want %q (28 characters)", login.OpenID, b.OpenIDFor("resident-1"))
	}
	if other.OpenIDFor("resident-1") == login.OpenID {
		t.Fatal("another secret derived the same openid")
	}
	tokA := do(t, a.Handler(), "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxsimone","secret":"sec"}`)
	check := func(s *Simulator, token, openID string) answer {
		return do(t, s.Handler(), "POST", "/wxa/msg_sec_check?access_token="+token,
			fmt.Sprintf(`{"version":2,"scene":3,"openid":%q,"content":"井盖坏了"}`, openID))
	}
	if r := check(b, tokA.AccessToken, login.OpenID); r.ErrCode != 0 || r.Result.Suggest != "pass" {
		t.Fatalf("b with a's token and login: %+v", r)
	}
	expectErr(t, check(other, tokA.AccessToken, other.OpenIDFor("x")), 40001, "invalid credential")
	forged := login.OpenID[:27] + map[bool]string{true: "B", false: "A"}[login.OpenID[27] == 'A']
	expectErr(t, check(b, tokA.AccessToken, forged), 40003, "invalid openid")
	expectErr(t, check(b, tokA.AccessToken, other.OpenIDFor("resident-1")), 40003, "invalid openid")
	// Subscribe messages accept the openid too (43101 without an allowance,
	// not 40003).
	send := do(t, b.Handler(), "POST", "/cgi-bin/message/subscribe/send?access_token="+tokA.AccessToken,
		fmt.Sprintf(`{"touser":%q,"template_id":"tmpl_accepted","data":{}}`, login.OpenID))
	if send.ErrCode == 40003 {
		t.Fatalf("send to a login of another simulator: %+v", send)
	}
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults(" msg_sec_check=40003, media_check_async=-1,send=timeout,")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Fault{APIMsgSecCheck: {ErrCode: 40003}, APIMediaCheck: {ErrCode: -1}, APISubscribeSend: {Timeout: true}}
	if fmt.Sprint(f) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", f, want)
	}
	for _, bad := range []string{"msg_sec_check", "nope=1", "send=0", "send=slow"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if f, err := ParseFaults(""); err != nil || len(f) != 0 {
		t.Fatalf("empty: %v %v", f, err)
	}
}

func TestFaultsAndRecovery(t *testing.T) {
	s := New(Options{AppID: "wxsimfault", Secret: "sec", Faults: map[string]Fault{APIMsgSecCheck: {ErrCode: 61010}}})
	h := s.Handler()
	tok := do(t, h, "POST", "/cgi-bin/stable_token", `{"grant_type":"client_credential","appid":"wxsimfault","secret":"sec"}`)
	body := fmt.Sprintf(`{"version":2,"scene":3,"openid":%q,"content":"x"}`, s.OpenIDFor("u"))
	expectErr(t, do(t, h, "POST", "/wxa/msg_sec_check?access_token="+tok.AccessToken, body), 61010, "code is expired")
	s.SetFaults(map[string]Fault{APIMsgSecCheck: {Timeout: true}})
	c := &http.Client{Transport: s, Timeout: 50 * time.Millisecond}
	_, err := c.Post("https://api.weixin.qq.com/wxa/msg_sec_check?access_token="+tok.AccessToken, "application/json", strings.NewReader(body))
	if err == nil {
		t.Fatal("a timeout fault answered")
	}
	s.SetFaults(nil)
	if a := do(t, h, "POST", "/wxa/msg_sec_check?access_token="+tok.AccessToken, body); a.ErrCode != 0 {
		t.Fatalf("after recovery: %+v", a)
	}
}

func TestMediaVerdictOf(t *testing.T) {
	for name, want := range map[string]string{"pass": "pass", "risky": "risky", "review": "review", "none": ""} {
		f, ok := MediaVerdictOf(name)
		if !ok || f("http://x/p.jpg") != want {
			t.Errorf("%s: ok=%v", name, ok)
		}
	}
	if _, ok := MediaVerdictOf("maybe"); ok {
		t.Error("maybe accepted")
	}
}
