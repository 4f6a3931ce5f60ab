// Package wechatsim is an in-process stand-in for the parts of WeChat's
// server API the backend uses, answering with WeChat's real JSON shapes and
// error codes:
//
//	GET  /sns/jscode2session             login (openid stable per (appid, code))
//	POST /cgi-bin/stable_token           stable access_token (7200 s)
//	POST /wxa/msg_sec_check              text check v2
//	POST /wxa/media_check_async          image check v2; verdict pushed later
//	POST /cgi-bin/message/subscribe/send subscription messages
//
// Simulators with the same appid and secret behave as one WeChat, across
// restarts and processes: an openid is derived from the login code and
// carries its own check (an HMAC under the app secret), and so does an
// access_token (with its expiry), so every simulator accepts whatever any of
// them issued, with no memory shared. Only a forced refresh's revocation of
// the previous token, and the subscription allowances given with Grant, are
// local to the simulator that saw them.
//
// Faults can be injected per API (Options.Faults, SetFaults): a WeChat
// errcode, or a timeout (no answer until the caller gives up).
//
// A Simulator is reached by silenceper (and therefore by wechat.Client)
// through wechat.Route: call Install. Many simulators with distinct appids can
// live in one process.
package wechatsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/wechat"
	"github.com/silenceper/wechat/v2/util"
)

// TokenTTL is the lifetime of an access_token.
const TokenTTL = 7200 * time.Second

// Default subscription templates (template id → keywords), used when
// Options.Templates is nil:
//
//	tmpl_assigned  工单已受理/派发   thing1 问题描述, character_string2 工单编号, time3 受理时间
//	tmpl_resolved  工单处理完成       thing1 问题描述, character_string2 工单编号, time3 完成时间, thing4 处理结果
//	tmpl_rejected  工单未通过审核     thing1 问题描述, phrase2 审核状态, thing3 原因, date4 日期
//	tmpl_accepted  工单已受理         thing1 问题描述, character_string2 工单编号, phrase3 状态, time4 受理时间
const (
	TemplateAssigned = "tmpl_assigned"
	TemplateResolved = "tmpl_resolved"
	TemplateRejected = "tmpl_rejected"
	TemplateAccepted = "tmpl_accepted"
)

// DefaultTemplates returns a fresh copy of the default templates.
func DefaultTemplates() map[string][]string {
	return map[string][]string{
		TemplateAssigned: {"thing1", "character_string2", "time3"},
		TemplateAccepted: {"thing1", "character_string2", "phrase3", "time4"},
		TemplateResolved: {"thing1", "character_string2", "time3", "thing4"},
		TemplateRejected: {"thing1", "phrase2", "thing3", "date4"},
	}
}

// Labels used by the simulator's verdicts.
const (
	LabelNormal     = 100
	LabelPorn       = 20002 // 色情: risky media
	LabelIllegal    = 20006 // 违法犯罪: risky words
	LabelOther      = 21000 // 其他: review
	defaultPushWait = 10 * time.Second
)

// Options configure a Simulator. Zero values get sensible defaults.
type Options struct {
	AppID, Secret string
	// PushURL receives media-check verdicts (e.g.
	// http://127.0.0.1:8080/wechat/push); it may be set later with SetPushURL.
	PushURL string
	// PushToken / PushAESKey sign (and, if Encrypted, encrypt) pushes.
	PushToken, PushAESKey string
	Encrypted             bool
	// Templates: template id → its data keywords. Default DefaultTemplates().
	Templates map[string][]string
	// RiskyWords (default 赌博, 毒品, 枪支) make a text risky (label 20006);
	// ReviewWords (default 待审核) make it review (label 21000). Nil means
	// default; an empty non-nil slice means none.
	RiskyWords, ReviewWords []string
	// MediaVerdict decides the verdict pushed for a media URL: "pass"
	// (default), "risky", "review", or "" = never push a verdict.
	MediaVerdict func(mediaURL string) string
	// PushDelay before a verdict is pushed.
	PushDelay time.Duration
	// Now is the simulator's clock (token expiry, CreateTime, timestamps).
	Now func() time.Time
	// Client POSTs the pushes; default a plain client with a 10 s timeout
	// (never silenceper's routed client).
	Client *http.Client
	// IssueUnionID makes jscode2session return a unionid too.
	IssueUnionID bool
	// Faults make APIs fail (see Fault); nil means none. SetFaults changes
	// them later.
	Faults map[string]Fault
}

// The API names Faults are keyed by.
const (
	APICode2Session   = "jscode2session"
	APIStableToken    = "stable_token"
	APIMsgSecCheck    = "msg_sec_check"
	APIMediaCheck     = "media_check_async"
	APISubscribeSend  = "send"
	maxFaultTimeout   = 2 * time.Minute
	openIDBodyLength  = 16
	openIDCheckLength = 11
)

// APIs lists the names a Fault may be set for.
func APIs() []string {
	return []string{APICode2Session, APIStableToken, APIMsgSecCheck, APIMediaCheck, APISubscribeSend}
}

// Fault is how a simulated API fails: with ErrCode (a WeChat errcode such as
// -1, 40003, 45009 or 61010, answered with HTTP 200 as WeChat does), or, with
// Timeout, by not answering until the caller's context ends (at most two
// minutes, then errcode -1).
type Fault struct {
	ErrCode int
	Timeout bool
}

// ParseFaults reads the WECHAT_SIMULATOR_FAULTS syntax: a comma-separated
// list of api=errcode or api=timeout, e.g.
// "msg_sec_check=40003,media_check_async=-1,send=timeout". The api names are
// those of APIs. An empty string means no faults.
func ParseFaults(spec string) (map[string]Fault, error) {
	out := map[string]Fault{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		api, val, ok := strings.Cut(item, "=")
		api, val = strings.TrimSpace(api), strings.TrimSpace(val)
		if !ok || !slices.Contains(APIs(), api) {
			return nil, fmt.Errorf("%q: the api must be one of %s, as api=errcode or api=timeout", item, strings.Join(APIs(), ", "))
		}
		if val == "timeout" {
			out[api] = Fault{Timeout: true}
			continue
		}
		code, err := strconv.Atoi(val)
		if err != nil || code == 0 {
			return nil, fmt.Errorf("%q: the fault must be a non-zero WeChat errcode or timeout", item)
		}
		out[api] = Fault{ErrCode: code}
	}
	return out, nil
}

// Media verdict names for MediaVerdictOf (WECHAT_SIMULATOR_MEDIA_VERDICT).
const (
	VerdictPass   = "pass"
	VerdictRisky  = "risky"
	VerdictReview = "review"
	VerdictNone   = "none"
)

// MediaVerdictOf returns an Options.MediaVerdict that gives every photo the
// same verdict: pass, risky, review, or none (never push one). It reports
// false for any other name.
func MediaVerdictOf(name string) (func(mediaURL string) string, bool) {
	switch name {
	case VerdictPass, VerdictRisky, VerdictReview:
		return func(string) string { return name }, true
	case VerdictNone:
		return func(string) string { return "" }, true
	}
	return nil, false
}

// SentMessage is a subscription message the simulator accepted.
type SentMessage struct {
	ToUser, TemplateID, Page string
	Data                     map[string]string
	MiniprogramState, Lang   string
	At                       time.Time
}

// PushAttempt records one delivery attempt of a media-check verdict.
type PushAttempt struct {
	TraceID    string
	Suggest    string
	URL        string // without query
	StatusCode int    // 0 if the request failed
	Err        string
}

type grantKey struct{ openID, templateID string }

// Simulator is an in-process WeChat for one appid. Safe for concurrent use.
type Simulator struct {
	AppID string

	o       Options
	handler http.Handler

	mu      sync.Mutex
	pushURL string
	// current is the token stable_token answers until it expires or is
	// force-refreshed; revoked are the ones a forced refresh replaced here.
	current        string
	currentExpires time.Time
	revoked        map[string]bool
	tokensIssued   int
	faults         map[string]Fault
	grants         map[grantKey]int
	sent           []SentMessage
	pushes         []PushAttempt
	closed         bool
	wg             sync.WaitGroup
}

// New creates a simulator. It panics on an invalid configuration (empty
// AppID, Encrypted without a 43-character PushAESKey).
func New(o Options) *Simulator {
	if o.AppID == "" {
		panic("wechatsim.New: empty AppID")
	}
	if o.Encrypted && len(o.PushAESKey) != 43 {
		panic("wechatsim.New: Encrypted requires a 43-character PushAESKey")
	}
	if o.Templates == nil {
		o.Templates = DefaultTemplates()
	} else {
		t := make(map[string][]string, len(o.Templates))
		for k, v := range o.Templates {
			t[k] = append([]string(nil), v...)
		}
		o.Templates = t
	}
	if o.RiskyWords == nil {
		o.RiskyWords = []string{"赌博", "毒品", "枪支"}
	}
	if o.ReviewWords == nil {
		o.ReviewWords = []string{"待审核"}
	}
	if o.MediaVerdict == nil {
		o.MediaVerdict = func(string) string { return wechat.SuggestPass }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: defaultPushWait}
	}
	s := &Simulator{
		AppID:   o.AppID,
		o:       o,
		pushURL: o.PushURL,
		revoked: map[string]bool{},
		faults:  map[string]Fault{},
		grants:  map[grantKey]int{},
	}
	for k, v := range o.Faults {
		s.faults[k] = v
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/sns/jscode2session", s.faulty(APICode2Session, s.jscode2session))
	mux.HandleFunc("/cgi-bin/stable_token", s.faulty(APIStableToken, s.stableToken))
	mux.HandleFunc("/wxa/msg_sec_check", s.faulty(APIMsgSecCheck, s.msgSecCheck))
	mux.HandleFunc("/wxa/media_check_async", s.faulty(APIMediaCheck, s.mediaCheckAsync))
	mux.HandleFunc("/cgi-bin/message/subscribe/send", s.faulty(APISubscribeSend, s.subscribeSend))
	s.handler = mux
	return s
}

// Handler serves the simulated API over real HTTP if wanted.
func (s *Simulator) Handler() http.Handler { return s.handler }

// Install routes silenceper's calls for this appid to the simulator.
func (s *Simulator) Install() (unregister func()) { return wechat.Route(s.AppID, s) }

// SetFaults replaces the injected faults (nil or empty: none), so a test
// can make WeChat fail and recover.
func (s *Simulator) SetFaults(f map[string]Fault) {
	s.mu.Lock()
	s.faults = map[string]Fault{}
	for k, v := range f {
		s.faults[k] = v
	}
	s.mu.Unlock()
}

// faulty answers with the fault set for api, if any, before h.
func (s *Simulator) faulty(api string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		f, ok := s.faults[api]
		s.mu.Unlock()
		switch {
		case !ok:
			h(w, r)
		case f.Timeout:
			select {
			case <-r.Context().Done():
			case <-time.After(maxFaultTimeout):
			}
			fail(w, -1, "system error")
		default:
			fail(w, f.ErrCode, faultMessage(f.ErrCode))
		}
	}
}

func faultMessage(code int) string {
	switch code {
	case -1:
		return "system error"
	case 40003:
		return "invalid openid"
	case 45009:
		return "reach max api daily quota limit"
	case 45011:
		return "api minute-quota reach limit  mustslower  retry next minute"
	case 43101:
		return "user refuse to accept the msg"
	case 61010:
		return "code is expired"
	}
	return "simulated failure"
}

// SetPushURL sets where verdicts are POSTed.
func (s *Simulator) SetPushURL(u string) {
	s.mu.Lock()
	s.pushURL = u
	s.mu.Unlock()
}

// Grant records that openID accepted templateID n more times (as
// wx.requestSubscribeMessage does); each successful send consumes one.
func (s *Simulator) Grant(openID, templateID string, n int) {
	s.mu.Lock()
	s.grants[grantKey{openID, templateID}] += n
	s.mu.Unlock()
}

// Allowance returns the remaining sends of templateID to openID.
func (s *Simulator) Allowance(openID, templateID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grantKey{openID, templateID}]
}

// Sent returns a copy of the accepted subscription messages, oldest first.
func (s *Simulator) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentMessage, len(s.sent))
	for i, m := range s.sent {
		m.Data = copyMap(m.Data)
		out[i] = m
	}
	return out
}

// Pushes returns a copy of the verdict delivery attempts, oldest first.
func (s *Simulator) Pushes() []PushAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PushAttempt(nil), s.pushes...)
}

// TokensIssued counts stable_token calls that minted a new token.
func (s *Simulator) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// OpenIDFor returns the openid jscode2session answers for code, 28
// characters like WeChat's: "o", 16 characters derived from the code, and 11
// that check them, both HMAC-SHA256 under the app's secret. Every simulator
// of the same appid and secret derives the same openid and accepts it,
// whether or not it saw the login.
func (s *Simulator) OpenIDFor(code string) string {
	body := s.mac("openid", code)[:openIDBodyLength]
	return "o" + body + s.mac("openid-check", body)[:openIDCheckLength]
}

// validOpenID reports whether openID is one a simulator of this app could
// have issued.
func (s *Simulator) validOpenID(openID string) bool {
	if len(openID) != 1+openIDBodyLength+openIDCheckLength || openID[0] != 'o' {
		return false
	}
	body, check := openID[1:1+openIDBodyLength], openID[1+openIDBodyLength:]
	return hmac.Equal([]byte(check), []byte(s.mac("openid-check", body)[:openIDCheckLength]))
}

// mac is base64url(HMAC-SHA256(appid+secret, purpose+msg)).
func (s *Simulator) mac(purpose, msg string) string {
	m := hmac.New(sha256.New, []byte(s.AppID+"\x00"+s.o.Secret))
	m.Write([]byte(purpose + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newToken mints "SIM.<appid>.<hex expiry><hex nonce><check>".
func (s *Simulator) newToken(expires time.Time) string {
	body := fmt.Sprintf("%016x%s", expires.Unix(), hex.EncodeToString(randBytes(12)))
	return wechat.SimTokenPrefix + s.AppID + "." + body + s.mac("token", body)[:22]
}

// tokenExpiry checks a token minted by any simulator of this app and
// returns its expiry.
func (s *Simulator) tokenExpiry(tok string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(tok, wechat.SimTokenPrefix+s.AppID+".")
	if !ok || len(rest) != 16+24+22 {
		return time.Time{}, false
	}
	body, check := rest[:40], rest[40:]
	if !hmac.Equal([]byte(check), []byte(s.mac("token", body)[:22])) {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(body[:16], 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

func (s *Simulator) unionIDFor(code string) string {
	m := hmac.New(sha256.New, []byte("unionid"))
	m.Write([]byte(s.OpenIDFor(code)))
	return "o" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:27]
}

// Close stops scheduling pushes and waits for the pending ones.
func (s *Simulator) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// RoundTrip serves the request with Handler in memory.
func (s *Simulator) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, 10<<20))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	sreq := req.Clone(req.Context())
	sreq.Body = io.NopCloser(bytes.NewReader(body))
	sreq.ContentLength = int64(len(body))
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:0"
	sreq.Host = req.URL.Host
	if sreq.Proto == "" {
		sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	}
	rec := &recorder{header: http.Header{}}
	s.handler.ServeHTTP(rec, sreq)
	if err := req.Context().Err(); err != nil {
		// A timeout fault held the answer until the caller gave up.
		return nil, err
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// ---- helpers ----

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	b, _ := json.Marshal(v)
	_, _ = w.Write(b)
}

type errBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// fail answers HTTP 200 with {"errcode","errmsg"}, errmsg suffixed with a
// request id like WeChat's "… rid: 6523b3f0-7f2a6c24-1b8e8f2d".
func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, errBody{code, msg + " rid: " + rid()})
}

func rid() string {
	b := randBytes(12)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:16] + "-" + h[16:24]
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func requireMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	if method == http.MethodPost {
		fail(w, 43002, "require POST method")
	} else {
		fail(w, 43001, "require GET method")
	}
	return false
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(b)) == 0 {
		fail(w, 44002, "empty post data")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		fail(w, 47001, "data format error")
		return false
	}
	return true
}

// checkToken validates the access_token query parameter.
func (s *Simulator) checkToken(w http.ResponseWriter, r *http.Request) bool {
	tok := r.URL.Query().Get("access_token")
	if tok == "" {
		fail(w, 41001, "access_token missing")
		return false
	}
	now := s.o.Now()
	expires, ok := s.tokenExpiry(tok)
	s.mu.Lock()
	revoked := s.revoked[tok]
	s.mu.Unlock()
	switch {
	case !ok || revoked:
		fail(w, 40001, "invalid credential, access_token is invalid or not latest")
		return false
	case !now.Before(expires):
		fail(w, 42001, "access_token expired")
		return false
	}
	return true
}

// ---- /sns/jscode2session ----

func (s *Simulator) jscode2session(w http.ResponseWriter, r *http.Request) {
	if !requireMethod(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("appid") != s.AppID:
		fail(w, 40013, "invalid appid")
		return
	case q.Get("secret") != s.o.Secret:
		fail(w, 40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "authorization_code":
		fail(w, 40002, "invalid grant_type")
		return
	}
	code := q.Get("js_code")
	switch {
	case code == "" || strings.HasPrefix(code, "invalid"):
		fail(w, 40029, "invalid code")
		return
	case strings.HasPrefix(code, "used"):
		fail(w, 40163, "code been used")
		return
	case strings.HasPrefix(code, "blocked"):
		fail(w, 40226, "high risk user, login blocked")
		return
	}
	openID := s.OpenIDFor(code)
	resp := struct {
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid,omitempty"`
	}{OpenID: openID, SessionKey: base64.StdEncoding.EncodeToString(randBytes(16))}
	if s.o.IssueUnionID {
		resp.UnionID = s.unionIDFor(code)
	}
	writeJSON(w, resp)
}

// ---- /cgi-bin/stable_token ----

func (s *Simulator) stableToken(w http.ResponseWriter, r *http.Request) {
	if !requireMethod(w, r, http.MethodPost) {
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.GrantType != "client_credential":
		fail(w, 40002, "invalid grant_type")
		return
	case req.AppID != s.AppID:
		fail(w, 40013, "invalid appid")
		return
	case req.Secret != s.o.Secret:
		fail(w, 40125, "invalid appsecret")
		return
	}
	now := s.o.Now()
	s.mu.Lock()
	if req.ForceRefresh || s.current == "" || !now.Before(s.currentExpires) {
		if s.current != "" && req.ForceRefresh {
			s.revoked[s.current] = true
		}
		s.currentExpires = now.Add(TokenTTL)
		s.current = s.newToken(s.currentExpires)
		s.tokensIssued++
	}
	tok, remaining := s.current, int64(s.currentExpires.Sub(now)/time.Second)
	s.mu.Unlock()
	writeJSON(w, struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}{tok, remaining})
}

// ---- /wxa/msg_sec_check ----

type detail struct {
	Strategy string `json:"strategy"`
	ErrCode  int    `json:"errcode"`
	Suggest  string `json:"suggest"`
	Label    int    `json:"label"`
	Prob     int    `json:"prob,omitempty"`
	Level    int    `json:"level,omitempty"`
	Keyword  string `json:"keyword,omitempty"`
}

type result struct {
	Suggest string `json:"suggest"`
	Label   int    `json:"label"`
}

func traceID() string { return rid() }

func (s *Simulator) msgSecCheck(w http.ResponseWriter, r *http.Request) {
	if !requireMethod(w, r, http.MethodPost) || !s.checkToken(w, r) {
		return
	}
	var req struct {
		Content   string `json:"content"`
		Version   int    `json:"version"`
		Scene     int    `json:"scene"`
		OpenID    string `json:"openid"`
		Title     string `json:"title"`
		Nickname  string `json:"nickname"`
		Signature string `json:"signature"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.Version != 2:
		fail(w, 40097, "invalid args, version must be 2")
		return
	case req.Scene < 1 || req.Scene > 4:
		fail(w, 40097, "invalid args, invalid scene")
		return
	case !s.validOpenID(req.OpenID):
		fail(w, 40003, "invalid openid")
		return
	case utf8.RuneCountInString(req.Content) > 2500:
		fail(w, 40097, "invalid args, content exceeds 2500 characters")
		return
	}
	text := req.Content + "\n" + req.Title + "\n" + req.Nickname + "\n" + req.Signature
	res := result{wechat.SuggestPass, LabelNormal}
	details := []detail{}
	var hit string
	for _, wd := range s.o.RiskyWords {
		if wd != "" && strings.Contains(text, wd) {
			res, hit = result{wechat.SuggestRisky, LabelIllegal}, wd
			break
		}
	}
	if hit == "" {
		for _, wd := range s.o.ReviewWords {
			if wd != "" && strings.Contains(text, wd) {
				res, hit = result{wechat.SuggestReview, LabelOther}, wd
				break
			}
		}
	}
	details = append(details, detail{Strategy: "content_model", Suggest: res.Suggest, Label: res.Label, Prob: 90})
	if hit != "" {
		details = append(details, detail{Strategy: "keyword", Suggest: res.Suggest, Label: res.Label, Level: 20, Keyword: hit})
	}
	writeJSON(w, struct {
		ErrCode int      `json:"errcode"`
		ErrMsg  string   `json:"errmsg"`
		Result  result   `json:"result"`
		Detail  []detail `json:"detail"`
		TraceID string   `json:"trace_id"`
	}{0, "ok", res, details, traceID()})
}

// ---- /wxa/media_check_async ----

func (s *Simulator) mediaCheckAsync(w http.ResponseWriter, r *http.Request) {
	if !requireMethod(w, r, http.MethodPost) || !s.checkToken(w, r) {
		return
	}
	var req struct {
		MediaURL  string `json:"media_url"`
		MediaType int    `json:"media_type"`
		Version   int    `json:"version"`
		Scene     int    `json:"scene"`
		OpenID    string `json:"openid"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	u, perr := url.Parse(req.MediaURL)
	switch {
	case req.Version != 2:
		fail(w, 40097, "invalid args, version must be 2")
		return
	case req.MediaType != 1 && req.MediaType != 2:
		fail(w, 40097, "invalid args, invalid media_type")
		return
	case req.Scene < 1 || req.Scene > 4:
		fail(w, 40097, "invalid args, invalid scene")
		return
	case req.MediaURL == "" || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		fail(w, 40097, "invalid args, invalid media_url")
		return
	case !s.validOpenID(req.OpenID):
		fail(w, 40003, "invalid openid")
		return
	}
	tid := strings.ReplaceAll(traceID(), "-", "")
	if verdict := s.o.MediaVerdict(req.MediaURL); verdict != "" {
		s.schedulePush(tid, req.OpenID, verdict)
	}
	writeJSON(w, struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		TraceID string `json:"trace_id"`
	}{0, "ok", tid})
}

// mediaCheckEvent is WeChat's wxa_media_check push.
type mediaCheckEvent struct {
	ToUserName   string   `json:"ToUserName"`
	FromUserName string   `json:"FromUserName"`
	CreateTime   int64    `json:"CreateTime"`
	MsgType      string   `json:"MsgType"`
	Event        string   `json:"Event"`
	AppID        string   `json:"appid"`
	TraceID      string   `json:"trace_id"`
	Version      int      `json:"version"`
	Detail       []detail `json:"detail"`
	ErrCode      int      `json:"errcode"`
	ErrMsg       string   `json:"errmsg"`
	Result       result   `json:"result"`
}

// OriginalID is the simulated 原始 ID (ToUserName) of the mini-program.
func (s *Simulator) OriginalID() string {
	h := sha256.Sum256([]byte(s.AppID))
	return "gh_" + hex.EncodeToString(h[:6])
}

func (s *Simulator) schedulePush(tid, openID, verdict string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if s.o.PushDelay > 0 {
			time.Sleep(s.o.PushDelay)
		}
		s.deliver(tid, openID, verdict)
	}()
}

func (s *Simulator) deliver(tid, openID, verdict string) {
	res := result{verdict, LabelNormal}
	switch verdict {
	case wechat.SuggestRisky:
		res.Label = LabelPorn
	case wechat.SuggestReview:
		res.Label = LabelOther
	}
	now := s.o.Now()
	ev := mediaCheckEvent{
		ToUserName:   s.OriginalID(),
		FromUserName: openID,
		CreateTime:   now.Unix(),
		MsgType:      "event",
		Event:        wechat.EventMediaCheck,
		AppID:        s.AppID,
		TraceID:      tid,
		Version:      2,
		Detail:       []detail{{Strategy: "content_model", Suggest: res.Suggest, Label: res.Label, Prob: 90}},
		ErrCode:      0,
		ErrMsg:       "ok",
		Result:       res,
	}
	msg, _ := json.Marshal(ev)

	for attempt := 1; attempt <= 3; attempt++ {
		s.mu.Lock()
		target := s.pushURL
		s.mu.Unlock()
		rec := PushAttempt{TraceID: tid, Suggest: verdict, URL: target}
		if target == "" {
			rec.Err = "no PushURL set"
			s.record(rec)
			return
		}
		timestamp := strconv.FormatInt(now.Unix(), 10)
		nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(randBytes(4))), 10)
		q := url.Values{}
		q.Set("signature", util.Signature(s.o.PushToken, timestamp, nonce))
		q.Set("timestamp", timestamp)
		q.Set("nonce", nonce)
		body := msg
		if s.o.Encrypted {
			var msgSig string
			body, msgSig = wechat.EncryptPush(s.o.PushToken, s.o.PushAESKey, s.AppID, msg, timestamp, nonce)
			q.Set("openid", openID)
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", msgSig)
		}
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		req, err := http.NewRequest(http.MethodPost, target+sep+q.Encode(), bytes.NewReader(body))
		if err != nil {
			rec.Err = err.Error()
			s.record(rec)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.o.Client.Do(req)
		if err != nil {
			rec.Err = err.Error()
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
			rec.StatusCode = resp.StatusCode
		}
		s.record(rec)
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
}

func (s *Simulator) record(a PushAttempt) {
	s.mu.Lock()
	s.pushes = append(s.pushes, a)
	s.mu.Unlock()
}

// ---- /cgi-bin/message/subscribe/send ----

func (s *Simulator) subscribeSend(w http.ResponseWriter, r *http.Request) {
	if !requireMethod(w, r, http.MethodPost) || !s.checkToken(w, r) {
		return
	}
	var req struct {
		ToUser           string                     `json:"touser"`
		TemplateID       string                     `json:"template_id"`
		Page             string                     `json:"page"`
		Data             map[string]json.RawMessage `json:"data"`
		MiniprogramState string                     `json:"miniprogram_state"`
		Lang             string                     `json:"lang"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	keys, ok := s.o.Templates[req.TemplateID]
	if !ok {
		fail(w, 40037, "invalid template_id")
		return
	}
	key := grantKey{req.ToUser, req.TemplateID}
	s.mu.Lock()
	_, granted := s.grants[key]
	s.mu.Unlock()
	known := s.validOpenID(req.ToUser) || (req.ToUser != "" && granted)
	if !known {
		fail(w, 40003, "invalid openid")
		return
	}
	switch req.MiniprogramState {
	case "", "developer", "trial", "formal":
	default:
		fail(w, 40097, "invalid args, invalid miniprogram_state")
		return
	}
	switch req.Lang {
	case "", "zh_CN", "en_US", "zh_HK", "zh_TW":
	default:
		fail(w, 40097, "invalid args, invalid lang")
		return
	}
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	for k := range req.Data {
		if !allowed[k] {
			fail(w, 47003, fmt.Sprintf("argument invalid! data.%s not exist", k))
			return
		}
	}
	values := make(map[string]string, len(keys))
	for _, k := range keys {
		raw, ok := req.Data[k]
		if !ok {
			fail(w, 47003, fmt.Sprintf("argument invalid! data.%s.value is empty", k))
			return
		}
		var item struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &item); err != nil {
			fail(w, 47001, "data format error")
			return
		}
		v, ok := scalar(item.Value)
		if !ok {
			fail(w, 47003, fmt.Sprintf("argument invalid! data.%s.value invalid", k))
			return
		}
		if v == "" {
			fail(w, 47003, fmt.Sprintf("argument invalid! data.%s.value is empty", k))
			return
		}
		if !ValidValue(k, v) {
			fail(w, 47003, fmt.Sprintf("argument invalid! data.%s.value invalid", k))
			return
		}
		values[k] = v
	}
	s.mu.Lock()
	if s.grants[key] <= 0 {
		s.mu.Unlock()
		fail(w, 43101, "user refuse to accept the msg")
		return
	}
	s.grants[key]--
	s.sent = append(s.sent, SentMessage{
		ToUser: req.ToUser, TemplateID: req.TemplateID, Page: req.Page, Data: values,
		MiniprogramState: req.MiniprogramState, Lang: req.Lang, At: s.o.Now(),
	})
	s.mu.Unlock()
	writeJSON(w, struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		MsgID   int64  `json:"msgid"`
	}{0, "ok", time.Now().UnixNano() & 0x7fffffffffff})
}

// scalar turns a JSON string or number into its text.
func scalar(raw json.RawMessage) (string, bool) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}
