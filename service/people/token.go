package people

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/citizen-city/chengguantong/model"
)

// Tokens issues and verifies the signed, expiring bearer tokens (HS256 JWTs).
// They carry only the user id, the account kind and the account's session
// version: roles are read from the database (at most UserCacheTTL old), so
// binding or revoking a role takes effect without a new token, and a token
// of an older session version (signed out, a new password, a disabled
// account) is refused.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

const tokenIssuer = "chengguantong"

// NewTokens returns a token issuer with the given HMAC secret and lifetime.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{secret: secret, ttl: ttl, now: now}
}

type claims struct {
	Kind     string `json:"knd"`
	Sessions int64  `json:"sv,omitempty"`
	jwt.RegisteredClaims
}

// Issue signs a token for the principal.
func (t *Tokens) Issue(p model.Principal) (token string, expiresAt time.Time, err error) {
	now := t.now()
	expiresAt = now.Add(t.ttl).Truncate(time.Second)
	c := claims{Kind: string(p.Kind), Sessions: p.Sessions, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: tokenIssuer, Subject: p.UserID,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(expiresAt),
	}}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return token, expiresAt, nil
}

// Verify checks the signature, issuer and expiry and returns the principal.
// Any failure is unauthenticated.
func (t *Tokens) Verify(token string) (model.Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now))
	if err != nil {
		msg := "登录凭证无效，请重新登录"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "登录已过期，请重新登录"
		}
		return model.Principal{}, model.Wrap(model.CodeUnauthenticated, err, msg)
	}
	kind := model.UserKind(c.Kind)
	if c.Subject == "" || (kind != model.KindWeChat && kind != model.KindStaff) {
		return model.Principal{}, model.Errorf(model.CodeUnauthenticated, "登录凭证无效，请重新登录")
	}
	return model.Principal{UserID: c.Subject, Kind: kind, Sessions: c.Sessions}, nil
}
