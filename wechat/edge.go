package wechat

import (
	"context"
	"errors"

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
		return model.Wrap(model.CodeUnauthenticated, err, "the login code is invalid or already used; call wx.login again")
	case errors.Is(err, ErrUserBlocked):
		return model.Wrap(model.CodeUnauthenticated, err, "WeChat refused this user's login")
	case errors.Is(err, ErrNoAllowance):
		return model.Wrap(model.CodeConflict, err, "the user has no subscribe-message allowance left")
	case errors.Is(err, ErrBadTemplateData), errors.Is(err, ErrInvalidTemplate), errors.Is(err, ErrInvalidArgs):
		return model.Wrap(model.CodeInvalidArgument, err, "WeChat refused the message's content")
	case IsTransient(err):
		return model.Wrap(model.CodeUnavailable, err, "WeChat is unavailable; try again shortly")
	}
	return model.Wrap(model.CodeInternal, err, "WeChat call failed")
}
