package wechat_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// memCache is a tiny concurrency-safe cache.Cache.
type memCache struct {
	mu   sync.Mutex
	data map[string]memItem
}

type memItem struct {
	v   interface{}
	exp time.Time
}

func newMemCache() *memCache { return &memCache{data: map[string]memItem{}} }

func (m *memCache) Get(key string) interface{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.data[key]
	if !ok || time.Now().After(it.exp) {
		delete(m.data, key)
		return nil
	}
	return it.v
}

func (m *memCache) Set(key string, val interface{}, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("memCache: non-positive ttl") // like Redis SETEX
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[key] = memItem{val, time.Now().Add(ttl)}
	return nil
}

func (m *memCache) IsExist(key string) bool { return m.Get(key) != nil }

func (m *memCache) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

// clock is a settable clock for the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var appSeq atomic.Int64

func newAESKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(b), "=")
}

type env struct {
	sim *wechatsim.Simulator
	cfg wechat.Config
}

// newEnv creates and installs a simulator with a fresh appid. mod may adjust
// the options before creation.
func newEnv(t *testing.T, mod func(*wechatsim.Options)) *env {
	t.Helper()
	cfg := wechat.Config{
		AppID:      fmt.Sprintf("wx%016x", 0xabc000+appSeq.Add(1)),
		Secret:     "s3cr3t-" + t.Name(),
		PushToken:  "pushtoken",
		PushAESKey: newAESKey(t),
	}
	o := wechatsim.Options{AppID: cfg.AppID, Secret: cfg.Secret, PushToken: cfg.PushToken, PushAESKey: cfg.PushAESKey}
	if mod != nil {
		mod(&o)
	}
	sim := wechatsim.New(o)
	unregister := sim.Install()
	t.Cleanup(func() { sim.Close(); unregister() })
	return &env{sim: sim, cfg: cfg}
}

func (e *env) client() *wechat.Client { return wechat.New(e.cfg, newMemCache()) }

func login(t *testing.T, c *wechat.Client, code string) wechat.Session {
	t.Helper()
	s, err := c.Code2Session(context.Background(), code)
	if err != nil {
		t.Fatalf("Code2Session(%q): %v", code, err)
	}
	return s
}

func apiCode(err error) int {
	var ae *wechat.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

func TestLoginStableOpenID(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	a1 := login(t, c, "alice-code")
	a2 := login(t, c, "alice-code")
	b := login(t, c, "bob-code")
	if a1.OpenID != a2.OpenID {
		t.Fatalf("same code gave different openids: %s %s", a1.OpenID, a2.OpenID)
	}
	if a1.OpenID == b.OpenID {
		t.Fatalf("different codes gave the same openid %s", a1.OpenID)
	}
	if a1.OpenID != e.sim.OpenIDFor("alice-code") || len(a1.OpenID) != 28 || a1.OpenID[0] != 'o' {
		t.Fatalf("unexpected openid %q", a1.OpenID)
	}
	if a1.SessionKey == "" || a1.SessionKey == a2.SessionKey {
		t.Fatalf("session keys should be fresh per login: %q %q", a1.SessionKey, a2.SessionKey)
	}
	if k, err := base64.StdEncoding.DecodeString(a1.SessionKey); err != nil || len(k) != 16 {
		t.Fatalf("session_key not base64 of 16 bytes: %v", err)
	}
	for _, s := range []string{a1.String(), fmt.Sprintf("%v", a1), fmt.Sprintf("%+v", a1), fmt.Sprintf("%#v", a1)} {
		if strings.Contains(s, a1.SessionKey) {
			t.Fatalf("session key leaked by formatting: %s", s)
		}
	}
	// Another appid gives another openid for the same code.
	other := newEnv(t, nil)
	if o := login(t, other.client(), "alice-code"); o.OpenID == a1.OpenID {
		t.Fatal("openid should depend on the appid")
	}
}

func TestLoginUnionID(t *testing.T) {
	e := newEnv(t, func(o *wechatsim.Options) { o.IssueUnionID = true })
	s := login(t, e.client(), "carol")
	if s.UnionID == "" || s.UnionID == s.OpenID {
		t.Fatalf("unionid = %q", s.UnionID)
	}
}

func TestLoginInvalidCode(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	for _, tc := range []struct {
		code string
		want int
	}{
		{"invalid-123", 40029},
		{"used-abc", 40163},
		{"", 40029},        // rejected locally
		{"a&b=c", 40029},   // rejected locally: would inject URL parameters
		{"x y", 40029},     // rejected locally
		{"abc#def", 40029}, // rejected locally
	} {
		_, err := c.Code2Session(context.Background(), tc.code)
		if !errors.Is(err, wechat.ErrInvalidCode) {
			t.Errorf("code %q: err = %v, want ErrInvalidCode", tc.code, err)
		}
		if got := apiCode(err); got != tc.want {
			t.Errorf("code %q: errcode %d, want %d", tc.code, got, tc.want)
		}
		if wechat.IsTransient(err) {
			t.Errorf("code %q: invalid code must not be transient", tc.code)
		}
	}
	_, err := c.Code2Session(context.Background(), "blocked-user")
	if !errors.Is(err, wechat.ErrUserBlocked) || errors.Is(err, wechat.ErrInvalidCode) {
		t.Errorf("blocked: err = %v", err)
	}
}

func TestWrongSecretIsNotLeaked(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.cfg
	cfg.Secret = "WRONG-SECRET-value"
	c := wechat.New(cfg, newMemCache())
	_, err := c.Code2Session(context.Background(), "dave")
	if !errors.Is(err, wechat.ErrAppCredentials) || apiCode(err) != 40125 {
		t.Fatalf("Code2Session with wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), cfg.Secret) {
		t.Fatalf("secret leaked: %v", err)
	}
	// token-authenticated call: stable_token fails with 40125
	_, err = c.MsgSecCheck(context.Background(), e.sim.OpenIDFor("dave"), "hello")
	if !errors.Is(err, wechat.ErrAppCredentials) || apiCode(err) != 40125 {
		t.Fatalf("MsgSecCheck with wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), cfg.Secret) || wechat.IsTransient(err) {
		t.Fatalf("bad error: %v (transient=%v)", err, wechat.IsTransient(err))
	}
	if e.sim.TokensIssued() != 0 {
		t.Fatalf("no token should be issued with a wrong secret")
	}
}

func TestTokenSharedThroughCache(t *testing.T) {
	e := newEnv(t, nil)
	shared := newMemCache()
	c1 := wechat.New(e.cfg, shared)
	c2 := wechat.New(e.cfg, shared)
	u := login(t, c1, "erin")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		for _, c := range []*wechat.Client{c1, c2} {
			if _, err := c.MsgSecCheck(ctx, u.OpenID, "路灯坏了"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := e.sim.TokensIssued(); n != 1 {
		t.Fatalf("TokensIssued = %d, want 1", n)
	}
	// The cache key silenceper uses (the Client relies on it to drop a bad token).
	key := "gowechat_miniprogram__stable_access_token_" + e.cfg.AppID
	tok, _ := shared.Get(key).(string)
	if !strings.HasPrefix(tok, wechat.SimTokenPrefix+e.cfg.AppID+".") {
		t.Fatalf("cached token under %q = %q", key, tok)
	}
	// Separate caches: the stable token endpoint still returns the same token.
	c3 := e.client()
	if _, err := c3.MsgSecCheck(ctx, u.OpenID, "井盖丢失"); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.TokensIssued(); n != 1 {
		t.Fatalf("TokensIssued = %d after a third instance, want 1", n)
	}
}

func TestTokenConcurrentInstances(t *testing.T) {
	e := newEnv(t, nil)
	shared := newMemCache()
	u := login(t, e.client(), "frank")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 8; i++ {
		c := wechat.New(e.cfg, shared)
		for j := 0; j < 5; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.MsgSecCheck(context.Background(), u.OpenID, "占道经营"); err != nil {
					errs <- err
				}
				if _, err := c.Code2Session(context.Background(), "frank"); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.sim.TokensIssued(); n != 1 {
		t.Fatalf("TokensIssued = %d, want 1", n)
	}
}

func TestTokenExpiredIsRefreshed(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(o *wechatsim.Options) { o.Now = clk.Now })
	c := e.client()
	u := login(t, c, "gina")
	if _, err := c.MsgSecCheck(context.Background(), u.OpenID, "a"); err != nil {
		t.Fatal(err)
	}
	clk.Add(2*time.Hour + time.Minute) // simulator's token expired, client's cache does not know
	v, err := c.MsgSecCheck(context.Background(), u.OpenID, "b")
	if err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if v.Suggest != wechat.SuggestPass {
		t.Fatalf("verdict %+v", v)
	}
	if n := e.sim.TokensIssued(); n != 2 {
		t.Fatalf("TokensIssued = %d, want 2", n)
	}
}

func TestTokenNearExpiryNotCached(t *testing.T) {
	// The stable endpoint returns the remaining lifetime; silenceper caches
	// for expires_in-300s, which is negative near expiry (Redis would reject
	// it). The client must keep working.
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(o *wechatsim.Options) { o.Now = clk.Now })
	u := login(t, e.client(), "hank")
	if _, err := e.client().MsgSecCheck(context.Background(), u.OpenID, "x"); err != nil {
		t.Fatal(err)
	}
	clk.Add(7200*time.Second - 100*time.Second)
	c := e.client() // fresh cache
	for i := 0; i < 2; i++ {
		if _, err := c.MsgSecCheck(context.Background(), u.OpenID, "y"); err != nil {
			t.Fatalf("near expiry: %v", err)
		}
	}
	if n := e.sim.TokensIssued(); n != 1 {
		t.Fatalf("TokensIssued = %d, want 1", n)
	}
}

func TestTokenRevokedByForceRefresh(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	u := login(t, c, "iris")
	if _, err := c.MsgSecCheck(context.Background(), u.OpenID, "a"); err != nil {
		t.Fatal(err)
	}
	// Someone else force-refreshes: the cached token becomes invalid (40001).
	srv := httptest.NewServer(e.sim.Handler())
	defer srv.Close()
	body := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":true}`, e.cfg.AppID, e.cfg.Secret)
	resp, err := http.Post(srv.URL+"/cgi-bin/stable_token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.MsgSecCheck(context.Background(), u.OpenID, "b"); err != nil {
		t.Fatalf("after forced refresh elsewhere: %v", err)
	}
	if n := e.sim.TokensIssued(); n != 2 {
		t.Fatalf("TokensIssued = %d, want 2", n)
	}
}

func TestMsgSecCheck(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	u := login(t, c, "jack")
	ctx := context.Background()
	for _, tc := range []struct {
		text    string
		suggest string
		label   int
	}{
		{"小区门口路灯不亮了", wechat.SuggestPass, 100},
		{"这条待审核的内容", wechat.SuggestReview, 21000},
		{"楼下有人聚众赌博", wechat.SuggestRisky, 20006},
	} {
		v, err := c.MsgSecCheck(ctx, u.OpenID, tc.text)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if v.Suggest != tc.suggest || v.Label != tc.label || v.TraceID == "" {
			t.Errorf("%q: got %+v, want %s/%d", tc.text, v, tc.suggest, tc.label)
		}
	}
	// An openid no simulator of this app could have issued (the last
	// character of a real one changed).
	forged := e.sim.OpenIDFor("never-logged-in")
	forged = forged[:len(forged)-1] + string(rune('A'+(forged[len(forged)-1]+1)%26))
	_, err := c.MsgSecCheck(ctx, forged, "hello")
	if !errors.Is(err, wechat.ErrInvalidOpenID) {
		t.Fatalf("unknown openid: %v", err)
	}
	if strings.Contains(err.Error(), wechat.SimTokenPrefix) {
		t.Fatalf("token leaked: %v", err)
	}
	_, err = c.MsgSecCheck(ctx, u.OpenID, strings.Repeat("长", 2501))
	if !errors.Is(err, wechat.ErrInvalidArgs) {
		t.Fatalf("too long: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.MsgSecCheck(cctx, u.OpenID, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}
}

// pushSink is an httptest server that parses pushes with the client.
type pushSink struct {
	srv    *httptest.Server
	events chan wechat.PushEvent
	errs   chan error
}

func newPushSink(t *testing.T, c *wechat.Client) *pushSink {
	t.Helper()
	p := &pushSink{events: make(chan wechat.PushEvent, 10), errs: make(chan error, 10)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			echo, err := c.VerifyURL(r.URL.Query())
			if err != nil {
				http.Error(w, "bad signature", http.StatusForbidden)
				return
			}
			io.WriteString(w, echo)
			return
		}
		body, _ := io.ReadAll(r.Body)
		ev, err := c.ParsePush(r.URL.Query(), body)
		if err != nil {
			p.errs <- err
			http.Error(w, "bad push", http.StatusForbidden)
			return
		}
		p.events <- ev
		io.WriteString(w, "success")
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pushSink) wait(t *testing.T) wechat.PushEvent {
	t.Helper()
	select {
	case ev := <-p.events:
		return ev
	case err := <-p.errs:
		t.Fatalf("push rejected: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no push arrived")
	}
	return wechat.PushEvent{}
}

func testMediaCheck(t *testing.T, encrypted bool) {
	verdicts := map[string]string{
		"https://img.example.com/ok.jpg":     "pass",
		"https://img.example.com/bad.jpg":    "risky",
		"https://img.example.com/unsure.jpg": "review",
	}
	e := newEnv(t, func(o *wechatsim.Options) {
		o.Encrypted = encrypted
		o.PushDelay = 10 * time.Millisecond
		o.MediaVerdict = func(u string) string { return verdicts[u] }
	})
	c := e.client()
	sink := newPushSink(t, c)
	e.sim.SetPushURL(sink.srv.URL + "/wechat/push")
	u := login(t, c, "kate")
	for mediaURL, want := range verdicts {
		trace, err := c.MediaCheckAsync(context.Background(), u.OpenID, mediaURL)
		if err != nil {
			t.Fatal(err)
		}
		ev := sink.wait(t)
		if ev.Event != wechat.EventMediaCheck || ev.TraceID != trace || ev.Suggest != want || ev.AppID != e.cfg.AppID || ev.ErrCode != 0 {
			t.Errorf("%s: event %+v, want trace %s suggest %s", mediaURL, ev, trace, want)
		}
		var raw map[string]any
		if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw["MsgType"] != "event" || raw["version"] != float64(2) {
			t.Errorf("raw push %s (%v)", ev.Raw, err)
		}
	}
	// MediaVerdict "" → no push at all.
	if _, err := c.MediaCheckAsync(context.Background(), u.OpenID, "https://img.example.com/silent.jpg"); err != nil {
		t.Fatal(err)
	}
	e.sim.Close()
	select {
	case ev := <-sink.events:
		t.Fatalf("unexpected push %+v", ev)
	default:
	}
	if n := len(e.sim.Pushes()); n != 3 {
		t.Fatalf("push attempts = %d, want 3: %+v", n, e.sim.Pushes())
	}
}

func TestMediaCheckPushPlain(t *testing.T)     { testMediaCheck(t, false) }
func TestMediaCheckPushEncrypted(t *testing.T) { testMediaCheck(t, true) }

func TestMediaCheckErrors(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	u := login(t, c, "leo")
	if _, err := c.MediaCheckAsync(context.Background(), "oUnknown", "https://img.example.com/a.jpg"); !errors.Is(err, wechat.ErrInvalidOpenID) {
		t.Fatalf("unknown openid: %v", err)
	}
	if _, err := c.MediaCheckAsync(context.Background(), u.OpenID, "not a url"); !errors.Is(err, wechat.ErrInvalidArgs) {
		t.Fatalf("bad url: %v", err)
	}
}

func TestVerifyURL(t *testing.T) {
	c := wechat.New(wechat.Config{AppID: "wxverify", PushToken: "tok"}, newMemCache())
	q := url.Values{"timestamp": {"1700000000"}, "nonce": {"42"}, "echostr": {"hello123"}}
	q.Set("signature", util.Signature("tok", "1700000000", "42"))
	if echo, err := c.VerifyURL(q); err != nil || echo != "hello123" {
		t.Fatalf("VerifyURL = %q, %v", echo, err)
	}
	q.Set("nonce", "43")
	if _, err := c.VerifyURL(q); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
	noTok := wechat.New(wechat.Config{AppID: "wxverify"}, newMemCache())
	q = url.Values{"timestamp": {"1"}, "nonce": {"2"}, "echostr": {"x"}, "signature": {util.Signature("", "1", "2")}}
	if _, err := noTok.VerifyURL(q); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("empty token must reject: %v", err)
	}
}

func TestParsePushRejects(t *testing.T) {
	key := newAESKey(t)
	cfg := wechat.Config{AppID: "wxpushapp", PushToken: "tok", PushAESKey: key}
	c := wechat.New(cfg, newMemCache())
	msg := []byte(`{"ToUserName":"gh_1","FromUserName":"o1","CreateTime":1700000000,"MsgType":"event","Event":"wxa_media_check","appid":"wxpushapp","trace_id":"t1","version":2,"detail":[],"errcode":0,"errmsg":"ok","result":{"suggest":"risky","label":20002}}`)
	ts, nonce := "1700000000", "777"

	// plain: good, then tampered signature
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature("tok", ts, nonce)}}
	ev, err := c.ParsePush(q, msg)
	if err != nil || ev.TraceID != "t1" || ev.Suggest != "risky" || ev.Label != 20002 {
		t.Fatalf("plain: %+v %v", ev, err)
	}
	bad := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature("other", ts, nonce)}}
	if _, err := c.ParsePush(bad, msg); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("plain bad signature: %v", err)
	}
	if _, err := c.ParsePush(url.Values{"timestamp": {ts}, "nonce": {nonce}}, msg); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("plain no signature: %v", err)
	}
	if _, err := c.ParsePush(q, []byte("{not json")); !errors.Is(err, wechat.ErrBadPush) {
		t.Fatalf("plain garbage: %v", err)
	}
	foreign := []byte(strings.Replace(string(msg), `"appid":"wxpushapp"`, `"appid":"wxother"`, 1))
	if _, err := c.ParsePush(q, foreign); !errors.Is(err, wechat.ErrBadPush) {
		t.Fatalf("plain foreign appid: %v", err)
	}

	// encrypted: good
	body, msgSig := wechat.EncryptPush("tok", key, "wxpushapp", msg, ts, nonce)
	eq := url.Values{"timestamp": {ts}, "nonce": {nonce}, "encrypt_type": {"aes"}, "msg_signature": {msgSig}, "signature": {util.Signature("tok", ts, nonce)}}
	ev, err = c.ParsePush(eq, body)
	if err != nil || ev.TraceID != "t1" || string(ev.Raw) != string(msg) {
		t.Fatalf("encrypted: %+v %v", ev, err)
	}
	var env map[string]string
	if err := json.Unmarshal(body, &env); err != nil || env["ToUserName"] != "gh_1" || env["Encrypt"] == "" {
		t.Fatalf("encrypted body %s", body)
	}
	// tampered msg_signature
	eqBad := url.Values{}
	for k, v := range eq {
		eqBad[k] = v
	}
	eqBad.Set("msg_signature", strings.Repeat("0", 40))
	if _, err := c.ParsePush(eqBad, body); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("encrypted bad msg_signature: %v", err)
	}
	// tampered ciphertext with a matching msg_signature (attacker lacks the key)
	other := newAESKey(t)
	forged, forgedSig := wechat.EncryptPush("tok", other, "wxpushapp", msg, ts, nonce)
	eqForged := url.Values{"timestamp": {ts}, "nonce": {nonce}, "encrypt_type": {"aes"}, "msg_signature": {forgedSig}}
	if _, err := c.ParsePush(eqForged, forged); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("encrypted with another key: %v", err)
	}
	// encrypted for another appid
	wrongApp, wrongSig := wechat.EncryptPush("tok", key, "wxother", msg, ts, nonce)
	eqWrong := url.Values{"timestamp": {ts}, "nonce": {nonce}, "encrypt_type": {"aes"}, "msg_signature": {wrongSig}}
	if _, err := c.ParsePush(eqWrong, wrongApp); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("encrypted for another appid: %v", err)
	}
	// signed with another token
	_, sigOtherTok := wechat.EncryptPush("nottok", key, "wxpushapp", msg, ts, nonce)
	eqTok := url.Values{"timestamp": {ts}, "nonce": {nonce}, "encrypt_type": {"aes"}, "msg_signature": {sigOtherTok}}
	if _, err := c.ParsePush(eqTok, body); !errors.Is(err, wechat.ErrBadSignature) {
		t.Fatalf("encrypted other token: %v", err)
	}
}

func TestPushRejectedBySinkIsRetried(t *testing.T) {
	e := newEnv(t, nil)
	// a client with the wrong push token rejects every push
	cfg := e.cfg
	cfg.PushToken = "not-the-token"
	c := wechat.New(cfg, newMemCache())
	sink := newPushSink(t, c)
	e.sim.SetPushURL(sink.srv.URL)
	u := login(t, c, "mia")
	if _, err := c.MediaCheckAsync(context.Background(), u.OpenID, "https://img.example.com/x.png"); err != nil {
		t.Fatal(err)
	}
	e.sim.Close()
	at := e.sim.Pushes()
	if len(at) != 3 || at[0].StatusCode != http.StatusForbidden {
		t.Fatalf("attempts %+v", at)
	}
	for i := 0; i < 3; i++ {
		if err := <-sink.errs; !errors.Is(err, wechat.ErrBadSignature) {
			t.Fatalf("sink error %v", err)
		}
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	u := login(t, c, "nina")
	ctx := context.Background()
	msg := wechat.SubscribeMessage{
		ToOpenID:   u.OpenID,
		TemplateID: wechatsim.TemplateAssigned,
		Page:       "pages/report/detail?id=42",
		Data: map[string]string{
			"thing1":            "人行道井盖缺失",
			"character_string2": "CG20240501-0042",
			"time3":             "2024-05-01 10:30",
		},
	}
	err := c.SendSubscribe(ctx, msg)
	if !errors.Is(err, wechat.ErrNoAllowance) || apiCode(err) != 43101 {
		t.Fatalf("without grant: %v", err)
	}
	e.sim.Grant(u.OpenID, wechatsim.TemplateAssigned, 2)

	long := msg
	long.Data = map[string]string{"thing1": strings.Repeat("长", 21), "character_string2": "A1", "time3": "15:01"}
	err = c.SendSubscribe(ctx, long)
	if !errors.Is(err, wechat.ErrBadTemplateData) || apiCode(err) != 47003 {
		t.Fatalf("21-char thing: %v", err)
	}
	var ae *wechat.APIError
	if errors.As(err, &ae); !strings.Contains(ae.Msg, "data.thing1.value invalid") {
		t.Fatalf("errmsg %q", ae.Msg)
	}
	if n := e.sim.Allowance(u.OpenID, wechatsim.TemplateAssigned); n != 2 {
		t.Fatalf("failed send consumed allowance: %d", n)
	}

	if err := c.SendSubscribe(ctx, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := e.sim.Allowance(u.OpenID, wechatsim.TemplateAssigned); n != 1 {
		t.Fatalf("allowance after send = %d, want 1", n)
	}
	sent := e.sim.Sent()
	if len(sent) != 1 || sent[0].ToUser != u.OpenID || sent[0].Data["thing1"] != "人行道井盖缺失" || sent[0].Page != msg.Page || sent[0].MiniprogramState != "formal" || sent[0].Lang != "zh_CN" {
		t.Fatalf("sent %+v", sent)
	}
	if err := c.SendSubscribe(ctx, msg); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if err := c.SendSubscribe(ctx, msg); !errors.Is(err, wechat.ErrNoAllowance) {
		t.Fatalf("third send: %v", err)
	}

	unknown := msg
	unknown.TemplateID = "tmpl_nope"
	if err := c.SendSubscribe(ctx, unknown); !errors.Is(err, wechat.ErrInvalidTemplate) || apiCode(err) != 40037 {
		t.Fatalf("unknown template: %v", err)
	}

	e.sim.Grant(u.OpenID, wechatsim.TemplateAssigned, 1)
	for _, data := range []map[string]string{
		{"thing1": "x", "character_string2": "含中文", "time3": "15:01"},               // character_string must be ASCII
		{"thing1": "x", "character_string2": "A1", "time3": "明天下午"},                 // not a time
		{"thing1": "x", "character_string2": "A1"},                                  // missing key
		{"thing1": "x", "character_string2": "A1", "time3": "15:01", "thing9": "y"}, // extra key
		{"thing1": "", "character_string2": "A1", "time3": "15:01"},                 // empty
	} {
		m := msg
		m.Data = data
		if err := c.SendSubscribe(ctx, m); !errors.Is(err, wechat.ErrBadTemplateData) {
			t.Errorf("data %v: %v", data, err)
		}
	}
	if n := e.sim.Allowance(u.OpenID, wechatsim.TemplateAssigned); n != 1 {
		t.Fatalf("allowance = %d, want 1", n)
	}
}

func TestSubscribeCustomTemplates(t *testing.T) {
	e := newEnv(t, func(o *wechatsim.Options) {
		o.Templates = map[string][]string{"T1": {"phrase1", "number2", "name3", "phone_number4", "date5"}}
	})
	c := e.client()
	u := login(t, c, "olga")
	e.sim.Grant(u.OpenID, "T1", 1)
	m := wechat.SubscribeMessage{ToOpenID: u.OpenID, TemplateID: "T1", Data: map[string]string{
		"phrase1": "已办结", "number2": "12.5", "name3": "张三", "phone_number4": "+86-0766-66888866", "date5": "2019年10月1日",
	}}
	if err := c.SendSubscribe(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSubscribe(context.Background(), wechat.SubscribeMessage{ToOpenID: u.OpenID, TemplateID: wechatsim.TemplateAssigned, Data: map[string]string{}}); !errors.Is(err, wechat.ErrInvalidTemplate) {
		t.Fatalf("default templates replaced: %v", err)
	}
}
