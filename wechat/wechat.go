// Package wechat is the only place the backend talks to WeChat. Every call
// goes through github.com/silenceper/wechat/v2 (mini-program API, stable
// access_token shared through the caller's cache). Errors are translated into
// *APIError / the Err* sentinels of this package and never carry access
// tokens, the app secret, login codes or session keys.
//
// In tests and local runs, WeChat is replaced in-process by
// wechat/wechatsim through Route: silenceper's HTTP client is routed to the
// simulator registered for the request's appid, so the code path exercised is
// the production one.
package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/miniprogram"
	mpconfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/miniprogram/security"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
)

// Config of one mini-program.
type Config struct {
	AppID  string
	Secret string
	// PushToken and PushAESKey are the 消息推送 Token and EncodingAESKey
	// (43 characters) configured in the mini-program admin console.
	PushToken  string
	PushAESKey string
}

// Content-security scenes (WeChat enum: 1 资料, 2 评论, 3 论坛, 4 社交日志).
const (
	sceneForum = 3
	mediaImage = 2
)

// Client calls WeChat for one mini-program. It is safe for concurrent use;
// several Clients (even in several processes) sharing one cache share one
// access_token.
type Client struct {
	cfg      Config
	mp       *miniprogram.MiniProgram
	cache    cache.Cache
	tokenKey string
}

// New returns a Client using silenceper's mini-program API with the stable
// access_token (UseStableAK) stored in c, which must not be nil (in
// production a Redis-backed cache shared by all instances).
//
// New installs the router into silenceper's util.DefaultHTTPClient (once per
// process, see Route); without registered simulators it forwards everything
// to the real WeChat.
func New(cfg Config, c cache.Cache) *Client {
	if c == nil {
		panic("wechat.New: nil cache")
	}
	installRouter()
	gc := guardedCache{c}
	mp := miniprogram.NewMiniProgram(&mpconfig.Config{
		AppID:          cfg.AppID,
		AppSecret:      cfg.Secret,
		Token:          cfg.PushToken,
		EncodingAESKey: cfg.PushAESKey,
		Cache:          gc,
		UseStableAK:    true,
	})
	return &Client{
		cfg:   cfg,
		mp:    mp,
		cache: gc,
		// Must match credential.StableAccessToken's key (see its
		// GetAccessTokenContext); a test guards it.
		tokenKey: fmt.Sprintf("%s_stable_access_token_%s", credential.CacheKeyMiniProgramPrefix, cfg.AppID),
	}
}

// AppID of the mini-program.
func (c *Client) AppID() string { return c.cfg.AppID }

// guardedCache drops Sets with a TTL under one second. silenceper caches the
// stable token for expires_in-300 s; the stable token endpoint returns the
// REMAINING lifetime, so near expiry that TTL is zero or negative, which
// Redis' SETEX rejects (making every call fail). Not caching is correct: the
// next call asks the stable endpoint again.
type guardedCache struct{ cache.Cache }

func (g guardedCache) Set(key string, val interface{}, timeout time.Duration) error {
	if timeout < time.Second {
		return nil
	}
	return g.Cache.Set(key, val, timeout)
}

// withToken runs an access-token-authenticated call; when WeChat says the
// token is invalid or expired it drops the cached token and tries once more.
func (c *Client) withToken(ctx context.Context, call func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := call()
	if err != nil && errors.Is(err, ErrAccessToken) {
		_ = c.cache.Delete(c.tokenKey)
		if ctx.Err() == nil {
			err = call()
		}
	}
	return err
}

// Session is the result of a login (jscode2session). SessionKey is a secret:
// String/GoString/LogValue redact it.
type Session struct {
	OpenID     string
	UnionID    string
	SessionKey string
}

func (s Session) String() string {
	return fmt.Sprintf("Session{OpenID:%s UnionID:%s SessionKey:REDACTED}", s.OpenID, s.UnionID)
}

// GoString redacts the session key for %#v.
func (s Session) GoString() string { return s.String() }

// LogValue redacts the session key for log/slog.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("openid", s.OpenID), slog.String("unionid", s.UnionID))
}

// codes from wx.login are short URL-safe tokens; anything else is rejected
// locally (silenceper puts the code into the URL unescaped).
var reLoginCode = regexp.MustCompile(`^[A-Za-z0-9_\-.~]{1,256}$`)

// Code2Session exchanges a wx.login code for the user's identity. An invalid
// or already used code yields an error satisfying errors.Is(err,
// ErrInvalidCode).
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	if !reLoginCode.MatchString(code) {
		return Session{}, &APIError{Code: 40029, Msg: "invalid code (rejected locally: empty or malformed)"}
	}
	if err := ctx.Err(); err != nil {
		return Session{}, err
	}
	res, err := c.mp.GetAuth().Code2SessionContext(ctx, code)
	if err != nil {
		return Session{}, translate("code2session", err)
	}
	if res.ErrCode != 0 {
		return Session{}, &APIError{Code: int(res.ErrCode), Msg: redact(res.ErrMsg)}
	}
	if res.OpenID == "" {
		return Session{}, errors.New("wechat: code2session: empty openid in response")
	}
	return Session{OpenID: res.OpenID, UnionID: res.UnionID, SessionKey: res.SessionKey}, nil
}

// Suggestions of the content-security API.
const (
	SuggestPass   = "pass"
	SuggestReview = "review"
	SuggestRisky  = "risky"
)

// TextVerdict of msg_sec_check v2. Suggest is always one of SuggestPass,
// SuggestReview, SuggestRisky (an empty suggestion is reported as review).
// Label: 100 正常, 10001 广告, 20001 时政, 20002 色情, 20003 辱骂, 20006 违法犯罪,
// 20008 欺诈, 20012 低俗, 20013 版权, 21000 其他.
type TextVerdict struct {
	Suggest string
	Label   int
	TraceID string
}

// MsgSecCheck checks a text written by openID (who must have used the
// mini-program in the last two hours) with msg_sec_check v2, scene 3 (论坛).
// WeChat limits content to 2500 characters.
func (c *Client) MsgSecCheck(ctx context.Context, openID, content string) (TextVerdict, error) {
	var res security.MsgCheckResponse
	err := c.withToken(ctx, func() error {
		var err error
		res, err = c.mp.GetSecurity().MsgCheckContext(ctx, &security.MsgCheckRequest{
			OpenID:  openID,
			Scene:   sceneForum,
			Content: content,
		})
		return translate("msg_sec_check", err)
	})
	if err != nil {
		return TextVerdict{}, err
	}
	v := TextVerdict{Suggest: string(res.Result.Suggest), Label: int(res.Result.Label), TraceID: res.TraceID}
	switch v.Suggest {
	case SuggestPass, SuggestReview, SuggestRisky:
	default:
		v.Suggest = SuggestReview
	}
	return v, nil
}

// MediaCheckAsync submits an image URL (media_type 2, version 2, scene 3) for
// asynchronous checking. The verdict arrives later as a wxa_media_check push
// carrying the returned trace id (see ParsePush).
func (c *Client) MediaCheckAsync(ctx context.Context, openID, mediaURL string) (traceID string, err error) {
	err = c.withToken(ctx, func() error {
		var err error
		traceID, err = c.mp.GetSecurity().MediaCheckAsyncContext(ctx, &security.MediaCheckAsyncRequest{
			MediaURL:  mediaURL,
			MediaType: mediaImage,
			OpenID:    openID,
			Scene:     sceneForum,
		})
		return translate("media_check_async", err)
	})
	if err != nil {
		return "", err
	}
	if traceID == "" {
		return "", errors.New("wechat: media_check_async: empty trace_id in response")
	}
	return traceID, nil
}

// SubscribeMessage is one subscription (订阅消息) to send. Data maps the
// template's keywords (e.g. "thing1") to values.
type SubscribeMessage struct {
	ToOpenID   string
	TemplateID string
	Page       string
	Data       map[string]string
	// MiniprogramState: "formal" (default), "trial" or "developer" — which
	// version of the mini-program the card opens.
	MiniprogramState string
}

// SendSubscribe sends a subscription message. errors.Is(err, ErrNoAllowance)
// when the user has no remaining subscription for the template,
// ErrBadTemplateData when a value violates its keyword type,
// ErrInvalidTemplate for an unknown template.
//
// silenceper's Send takes no context: ctx is checked before sending; the HTTP
// call itself is bounded by the router client's timeout.
func (c *Client) SendSubscribe(ctx context.Context, m SubscribeMessage) error {
	data := make(map[string]*subscribe.DataItem, len(m.Data))
	for k, v := range m.Data {
		data[k] = &subscribe.DataItem{Value: v}
	}
	state := m.MiniprogramState
	if state == "" {
		state = "formal"
	}
	msg := &subscribe.Message{
		ToUser:           m.ToOpenID,
		TemplateID:       m.TemplateID,
		Page:             m.Page,
		Data:             data,
		MiniprogramState: state,
		Lang:             "zh_CN",
	}
	return c.withToken(ctx, func() error {
		return translate("subscribe_send", c.mp.GetSubscribe().Send(msg))
	})
}
