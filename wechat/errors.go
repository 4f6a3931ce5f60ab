package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// APIError is a non-zero errcode returned by WeChat (parsed out of
// silenceper's errors or out of a response body). Msg is WeChat's errmsg with
// anything that looks like a credential redacted.
//
// Use errors.Is with the Err* sentinels below to classify it, or errors.As to
// get the raw code.
type APIError struct {
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat: errcode=%d errmsg=%s", e.Code, e.Msg)
}

// Is makes errors.Is(err, ErrInvalidCode) (and the other sentinels) work, and
// also errors.Is(err, &APIError{Code: n}) for a specific code.
func (e *APIError) Is(target error) bool {
	if t, ok := target.(*APIError); ok {
		return t != nil && t.Code == e.Code
	}
	for _, c := range codeClasses[target] {
		if c == e.Code {
			return true
		}
	}
	return false
}

// Sentinel errors. The errcodes each one matches are listed; an *APIError
// whose code is listed satisfies errors.Is(err, sentinel).
var (
	// ErrInvalidCode: the wx.login code is invalid (40029) or already used
	// (40163). The user should log in again on the mini-program side.
	ErrInvalidCode = errors.New("wechat: invalid or already used login code")
	// ErrUserBlocked: WeChat refused the login of a high-risk user (40226).
	ErrUserBlocked = errors.New("wechat: login of high-risk user blocked by WeChat")
	// ErrInvalidOpenID: openid unknown to this appid / not recently active (40003).
	ErrInvalidOpenID = errors.New("wechat: invalid openid")
	// ErrAppCredentials: the server's own configuration is wrong: invalid
	// appid (40013), invalid secret (40125), missing appid/secret (41002,
	// 41004), caller IP not in the whitelist (40164). Not retryable.
	ErrAppCredentials = errors.New("wechat: invalid appid/secret or IP not whitelisted")
	// ErrAccessToken: access_token invalid (40001, 40014), missing (41001) or
	// expired (42001). The Client already dropped its cached token and retried
	// once before returning this.
	ErrAccessToken = errors.New("wechat: access_token invalid or expired")
	// ErrNoAllowance: the user has no remaining subscription for this
	// template (43101 "user refuse to accept the msg").
	ErrNoAllowance = errors.New("wechat: user has not subscribed to this template")
	// ErrBadTemplateData: a data value does not satisfy its keyword type (47003).
	ErrBadTemplateData = errors.New("wechat: subscribe message data invalid")
	// ErrInvalidTemplate: template_id unknown to this appid (40037).
	ErrInvalidTemplate = errors.New("wechat: invalid template_id")
	// ErrInvalidArgs: WeChat rejected the request shape (40097 invalid args,
	// 47001 data format error, 44002 empty post data).
	ErrInvalidArgs = errors.New("wechat: invalid arguments")
	// ErrRateLimited: quota or frequency limit (45009 daily quota, 45011
	// minute quota). Transient.
	ErrRateLimited = errors.New("wechat: api quota/frequency limit reached")
	// ErrSystemBusy: WeChat's "-1 system error". Transient.
	ErrSystemBusy = errors.New("wechat: system busy")

	// ErrBadSignature: a push (or URL verification) failed authentication:
	// signature/msg_signature mismatch, undecryptable payload, appid inside the
	// ciphertext not ours, or no PushToken configured.
	ErrBadSignature = errors.New("wechat: bad push signature")
	// ErrBadPush: an authenticated push whose body is malformed, or whose
	// appid field belongs to another mini-program.
	ErrBadPush = errors.New("wechat: malformed push")
)

var codeClasses = map[error][]int{
	ErrInvalidCode:     {40029, 40163},
	ErrUserBlocked:     {40226},
	ErrInvalidOpenID:   {40003},
	ErrAppCredentials:  {40013, 40125, 41002, 41004, 40164},
	ErrAccessToken:     {40001, 40014, 41001, 42001},
	ErrNoAllowance:     {43101},
	ErrBadTemplateData: {47003},
	ErrInvalidTemplate: {40037},
	ErrInvalidArgs:     {40097, 47001, 44002},
	ErrRateLimited:     {45009, 45011},
	ErrSystemBusy:      {-1},
}

// IsTransient reports whether err is worth retrying later: network/transport
// failures, timeouts, HTTP 5xx/429 from WeChat, errcode -1 (system busy),
// 45009/45011 (quota/frequency limits) and access_token errors that survived
// the Client's own refresh-and-retry.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return errors.Is(ae, ErrSystemBusy) || errors.Is(ae, ErrRateLimited) || errors.Is(ae, ErrAccessToken)
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || se.StatusCode == 429
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// httpStatusError replaces silenceper's "http get error : uri=..., statusCode=N"
// (whose uri carries secrets/access tokens).
type httpStatusError struct {
	Op         string
	StatusCode int
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("wechat: %s: unexpected HTTP status %d", e.Op, e.StatusCode)
}

var (
	reErrCode    = regexp.MustCompile(`errcode\s*[=:]\s*(-?\d+)\s*,?\s*(?:errmsg|errormsg)\s*[=:]\s*(.*)$`)
	reStatusCode = regexp.MustCompile(`statusCode=(\d+)`)
	reSecrets    = regexp.MustCompile(`(?i)(^|[?&\s;,])(access_token|appsecret|secret|js_code|session_key|code)=([^&\s"',]*)`)
)

// redact removes credentials from a string that may contain a URL.
func redact(s string) string {
	return reSecrets.ReplaceAllString(s, "${1}${2}=REDACTED")
}

// translate converts an error coming out of silenceper into this package's
// vocabulary: *APIError for WeChat errcodes, *httpStatusError for non-200
// responses, *url.Error with a redacted URL for transport failures. Nothing it
// returns contains access tokens, the app secret or the login code.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *util.CommonError
	if errors.As(err, &ce) {
		return &APIError{Code: int(ce.ErrCode), Msg: redact(ce.ErrMsg)}
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		cp := *ue
		cp.URL = redactURL(ue.URL)
		if strings.Contains(redact(cp.Err.Error()), "REDACTED") {
			cp.Err = errors.New(redact(cp.Err.Error()))
		}
		return fmt.Errorf("wechat: %s: %w", op, &cp)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("wechat: %s: %w", op, err)
	}
	msg := err.Error()
	if m := reErrCode.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		if code != 0 {
			return &APIError{Code: code, Msg: redact(strings.TrimSpace(m[2]))}
		}
	}
	if m := reStatusCode.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &httpStatusError{Op: op, StatusCode: code}
	}
	if r := redact(msg); r != msg {
		// Do not wrap: the original would leak through Unwrap().Error().
		return fmt.Errorf("wechat: %s: %s", op, r)
	}
	return fmt.Errorf("wechat: %s: %w", op, err)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redact(raw)
	}
	q := u.Query()
	changed := false
	for k := range q {
		switch strings.ToLower(k) {
		case "access_token", "secret", "appsecret", "js_code", "code", "session_key":
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
