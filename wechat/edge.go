package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/citizen-city/chengguantong/model"
)

// Login adapts Client to the login service: it returns only the openid (the
// session_key stays here and is dropped) and speaks model errors.
type Login struct {
	Client *Client
}

// Code2Session exchanges a wx.login code for the user's openid. Errors:
// unauthenticated (a bad, used or blocked code), unavailable (WeChat cannot
// be reached or is busy), internal (our app credentials are wrong).
func (l Login) Code2Session(ctx context.Context, code string) (string, error) {
	s, err := l.Client.Code2Session(ctx, code)
	if err != nil {
		return "", ToModel(err)
	}
	return s.OpenID, nil
}

// ToModel translates a WeChat error into a model error at this edge.
func ToModel(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalidCode):
		return model.Wrap(model.CodeUnauthenticated, err, "登录 code 无效或已被使用；请重新调用 wx.login")
	case errors.Is(err, ErrUserBlocked):
		return model.Wrap(model.CodeUnauthenticated, err, "微信拒绝了该用户的登录")
	case errors.Is(err, ErrNoAllowance):
		return model.Wrap(model.CodeConflict, err, "该用户已没有可用的订阅消息次数")
	case errors.Is(err, ErrBadTemplateData), errors.Is(err, ErrInvalidTemplate), errors.Is(err, ErrInvalidArgs):
		return model.Wrap(model.CodeInvalidArgument, err, "微信拒绝了消息内容")
	case IsTransient(err):
		return model.Wrap(model.CodeUnavailable, err, "微信服务暂时不可用，请稍后重试")
	}
	return model.Wrap(model.CodeInternal, err, "调用微信接口失败")
}

// Content adapts Client to screening's content checks.
type Content struct {
	Client *Client
}

// CheckText runs msgSecCheck v2 for the user and returns its suggestion.
// Errors: unavailable (WeChat busy, rate-limited, unreachable or timing
// out), internal (anything else); the message, in Chinese, names the API and
// WeChat's errcode, for the staff who review a report held by it.
func (c Content) CheckText(ctx context.Context, openID, text string) (string, error) {
	v, err := c.Client.MsgSecCheck(ctx, openID, text)
	if err != nil {
		return "", contentError("msgSecCheck", err)
	}
	return v.Suggest, nil
}

// CheckImage starts mediaCheckAsync for an image URL. Errors: as CheckText.
func (c Content) CheckImage(ctx context.Context, openID, url string) (string, error) {
	trace, err := c.Client.MediaCheckAsync(ctx, openID, url)
	if err != nil {
		return "", contentError("mediaCheckAsync", err)
	}
	return trace, nil
}

// errcodeMeaning says in Chinese what WeChat's errcodes mean.
var errcodeMeaning = map[int]string{
	-1:    "微信系统繁忙",
	40001: "access_token 无效",
	40003: "openid 无效",
	40013: "AppID 无效",
	40097: "参数错误",
	40125: "AppSecret 无效",
	40164: "调用 IP 不在白名单内",
	42001: "access_token 已过期",
	45009: "当日调用次数已达上限",
	45011: "调用过于频繁",
	61010: "用户访问记录已过期",
}

// contentError is a content-security failure as a model error whose message
// names the API and WeChat's errcode.
func contentError(api string, err error) error {
	code := model.CodeInternal
	if IsTransient(err) {
		code = model.CodeUnavailable
	}
	var ae *APIError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		msg := fmt.Sprintf("微信 %s 接口返回错误码 %d", api, ae.Code)
		if m := errcodeMeaning[ae.Code]; m != "" {
			msg += "：" + m
		}
		return model.Wrap(code, err, msg)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return model.Wrap(code, err, fmt.Sprintf("微信 %s 接口超时未应答", api))
	case IsTransient(err):
		return model.Wrap(code, err, fmt.Sprintf("无法连接微信 %s 接口", api))
	}
	return model.Wrap(code, err, fmt.Sprintf("调用微信 %s 接口失败", api))
}

// PushReceiver answers WeChat's message push (/wechat/push): the URL check
// and the events, of which it acts on wxa_media_check verdicts.
type PushReceiver struct {
	Client         *Client
	OnMediaVerdict func(ctx context.Context, traceID, suggest string) error
}

// Verify answers WeChat's GET check of the push URL with its echostr.
// Errors: unauthenticated (bad signature).
func (p PushReceiver) Verify(q url.Values) (string, error) {
	s, err := p.Client.VerifyURL(q)
	if err != nil {
		return "", model.Wrap(model.CodeUnauthenticated, err, "消息推送签名无效")
	}
	return s, nil
}

// Receive checks and decodes one pushed event and acts on it. Errors:
// unauthenticated (bad signature), invalid_argument (malformed).
func (p PushReceiver) Receive(ctx context.Context, q url.Values, body []byte) error {
	ev, err := p.Client.ParsePush(q, body)
	switch {
	case errors.Is(err, ErrBadSignature):
		return model.Wrap(model.CodeUnauthenticated, err, "消息推送签名无效")
	case err != nil:
		return model.Wrap(model.CodeInvalidArgument, err, "消息推送格式有误")
	}
	if ev.Event != EventMediaCheck {
		return nil
	}
	return p.OnMediaVerdict(ctx, ev.TraceID, ev.Suggest)
}

// Subscriber adapts Client to the notifier: it sends subscribe messages
// (订阅消息) and speaks model errors.
type Subscriber struct {
	Client *Client
	// State is the version of the mini-program the card opens: "formal"
	// (default when empty), "trial" or "developer".
	State string
}

// Send sends one subscribe message to openID. Errors: conflict (43101: the
// user has no allowance left for the template), invalid_argument (WeChat
// refuses the data, the template or the openid — sending again cannot
// help), unavailable (WeChat busy, rate-limited or unreachable; try later),
// internal (anything else, e.g. our app credentials are wrong).
func (s Subscriber) Send(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	err := s.Client.SendSubscribe(ctx, SubscribeMessage{
		ToOpenID: openID, TemplateID: templateID, Page: page, Data: data, MiniprogramState: s.State,
	})
	if errors.Is(err, ErrInvalidOpenID) {
		// For a send, an unknown openid is the message's fault, not WeChat's.
		return model.Wrap(model.CodeInvalidArgument, err, "微信不认识这个接收者")
	}
	return ToModel(err)
}
