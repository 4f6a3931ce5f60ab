package people

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/limit"
)

// WeChatLogin exchanges a wx.login code for the user's openid
// (code2Session). A bad or used code is unauthenticated; the session_key
// WeChat returns never leaves the implementation.
type WeChatLogin interface {
	Code2Session(ctx context.Context, code string) (openID string, err error)
}

// UserStore keeps accounts.
type UserStore interface {
	UpsertWeChat(ctx context.Context, openID string) (*model.User, error)
	Get(ctx context.Context, id string) (*model.User, error)
	GetStaff(ctx context.Context, id string) (*model.User, error)
	StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error)
	UpsertStaff(ctx context.Context, username string, hash []byte) (*model.User, error)
	StaffExists(ctx context.Context, username string) (bool, error)
	Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error)
	SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error)
}

// InviteStore keeps single-use invite codes by their hash.
type InviteStore interface {
	Create(ctx context.Context, codeHash string, inv model.Invite) error
	Redeem(ctx context.Context, codeHash, userID string) (*model.Invite, error)
}

// ProfileLinker records which WeChat user holds a worker or party-member profile.
type ProfileLinker interface {
	LinkUser(ctx context.Context, role model.Role, profileID, userID string) error
}

// AuthLimits are the login rate limits.
type AuthLimits struct {
	PerAccountPerMinute int
	PerIPPerMinute      int
}

// Auth is login, authentication, invite binding and duty.
type Auth struct {
	wechat     WeChatLogin
	users      UserStore
	invites    InviteStore
	profiles   ProfileLinker
	limiter    limit.Limiter
	tokens     *Tokens
	limits     AuthLimits
	bcryptCost int
	logger     *slog.Logger
	// dummyHash makes a login for an unknown username cost as much as one
	// for a known username, so timing does not reveal which exist.
	dummyHash []byte
	// users is a short-lived cache of authenticated users (see
	// Authenticate).
	cache userCache
}

// UserCacheTTL is how long Authenticate trusts a user it has read: a role
// change or deactivation made through another instance takes effect on
// this one within it; through this instance (Bind, SetDuty, ForgetUser),
// at once.
const UserCacheTTL = 5 * time.Second

// userCache holds users by id for UserCacheTTL, bounded in size.
type userCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u  model.User
	at time.Time
}

// userCacheMax bounds the cache; past it, it starts afresh.
const userCacheMax = 50_000

func (c *userCache) get(id string, now time.Time) (*model.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) >= UserCacheTTL || now.Before(e.at) {
		return nil, false
	}
	u := e.u
	u.Roles = slices.Clone(u.Roles) // the caller's own copy
	return &u, true
}

func (c *userCache) put(u *model.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= userCacheMax {
		c.m = map[string]cachedUser{}
	}
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	c.m[u.ID] = cachedUser{u: cp, at: now}
}

func (c *userCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// ForgetUser drops a user from this instance's authentication cache, so
// that a change of their account (a deactivation, a role taken away) made
// here takes effect on the next request; other instances see it within
// UserCacheTTL. Call it after the change is stored.
func (a *Auth) ForgetUser(userID string) { a.cache.forget(userID) }

// AuthDeps are Auth's collaborators.
type AuthDeps struct {
	WeChat     WeChatLogin
	Users      UserStore
	Invites    InviteStore
	Profiles   ProfileLinker
	Limiter    limit.Limiter
	Tokens     *Tokens
	Limits     AuthLimits
	BcryptCost int // 0 means bcrypt.DefaultCost
	Logger     *slog.Logger
}

// NewAuth returns the login service.
func NewAuth(d AuthDeps) *Auth {
	cost := d.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), cost)
	return &Auth{
		wechat: d.WeChat, users: d.Users, invites: d.Invites, profiles: d.Profiles, limiter: d.Limiter,
		tokens: d.Tokens, limits: d.Limits, bcryptCost: cost, logger: d.Logger, dummyHash: dummy,
	}
}

// LoginWeChat logs a resident in with a wx.login code. Errors:
// invalid_argument (no code), unauthenticated (WeChat refused the code),
// rate_limited, unavailable.
func (a *Auth) LoginWeChat(ctx context.Context, code, clientIP string) (*model.Session, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, model.Invalid("code", "不能为空（wx.login 得到的 code）")
	}
	if len(code) > 128 {
		return nil, model.Invalid("code", "过长，不是 wx.login 给出的 code")
	}
	if err := a.limit(ctx, "login:ip:"+clientIP, a.limits.PerIPPerMinute); err != nil {
		return nil, err
	}
	if err := a.limit(ctx, "login:code:"+model.Digest(code), a.limits.PerAccountPerMinute); err != nil {
		return nil, err
	}
	openID, err := a.wechat.Code2Session(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("wechat login: %w", err)
	}
	if err := a.limit(ctx, "login:openid:"+model.Digest(openID), a.limits.PerAccountPerMinute); err != nil {
		return nil, err
	}
	u, err := a.users.UpsertWeChat(ctx, openID)
	if err != nil {
		return nil, fmt.Errorf("wechat login: %w", err)
	}
	return a.session(u)
}

// LoginStaff logs a staff member in. Errors: invalid_argument,
// unauthenticated (wrong username or password, one message for both),
// rate_limited, unavailable.
func (a *Auth) LoginStaff(ctx context.Context, username, password, clientIP string) (*model.Session, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, model.Invalid("username", "不能为空")
	}
	if password == "" {
		return nil, model.Invalid("password", "不能为空")
	}
	if len(password) > 72 {
		// bcrypt reads 72 bytes at most; a longer one is not ours.
		return nil, model.Errorf(model.CodeUnauthenticated, "用户名或密码错误")
	}
	if err := a.limit(ctx, "login:ip:"+clientIP, a.limits.PerIPPerMinute); err != nil {
		return nil, err
	}
	if err := a.limit(ctx, "login:staff:"+model.Digest(strings.ToLower(username)), a.limits.PerAccountPerMinute); err != nil {
		return nil, err
	}
	u, hash, err := a.users.StaffCredentials(ctx, username)
	if errors.Is(err, model.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
		return nil, model.Errorf(model.CodeUnauthenticated, "用户名或密码错误")
	}
	if err != nil {
		return nil, fmt.Errorf("staff login: %w", err)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return nil, model.Errorf(model.CodeUnauthenticated, "用户名或密码错误")
	}
	return a.session(u)
}

func (a *Auth) session(u *model.User) (*model.Session, error) {
	token, exp, err := a.tokens.Issue(model.Principal{UserID: u.ID, Kind: u.Kind})
	if err != nil {
		return nil, err
	}
	return &model.Session{Token: token, ExpiresAt: exp, User: u}, nil
}

// Authenticate verifies a bearer token and loads its user. Errors:
// unauthenticated (bad, expired, or for a user that no longer exists),
// unavailable.
//
// The token is verified every time (an HMAC); the user is read from the
// store at most once per UserCacheTTL per instance, so a resident's
// requests in a row cost no user read each.
func (a *Auth) Authenticate(ctx context.Context, token string) (*model.User, error) {
	p, err := a.tokens.Verify(token)
	if err != nil {
		return nil, err
	}
	now := a.tokens.now()
	if u, ok := a.cache.get(p.UserID, now); ok && u.Kind == p.Kind {
		return u, nil
	}
	var u *model.User
	if p.Kind == model.KindStaff {
		u, err = a.users.GetStaff(ctx, p.UserID)
	} else {
		u, err = a.users.Get(ctx, p.UserID)
	}
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeUnauthenticated, "登录凭证对应的账号已不存在，请重新登录")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	a.cache.put(u, now)
	return u, nil
}

// EnsureAdmin creates the first staff account, or resets its password to
// the configured one.
func (a *Auth) EnsureAdmin(ctx context.Context, username, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.bcryptCost)
	if err != nil {
		return fmt.Errorf("hash admin password: %w", err)
	}
	if _, err := a.users.UpsertStaff(ctx, username, hash); err != nil {
		return fmt.Errorf("ensure admin: %w", err)
	}
	return nil
}

// Bind redeems an invite code for a WeChat user, granting the invite's role.
// Errors: invalid_argument (no code), permission_denied (staff accounts
// cannot bind), not_found (unknown, expired or used code), conflict (the
// profile is already held by someone else), rate_limited.
func (a *Auth) Bind(ctx context.Context, u *model.User, code string) (*model.User, error) {
	code = NormalizeInviteCode(code)
	if code == "" {
		return nil, model.Invalid("invite_code", "不能为空")
	}
	if u.Kind != model.KindWeChat {
		return nil, model.Errorf(model.CodePermissionDenied, "只有微信用户能绑定邀请码")
	}
	// Codes are long enough not to be guessed; this stops anyone trying.
	if err := a.limit(ctx, "bind:"+u.ID, a.limits.PerAccountPerMinute); err != nil {
		return nil, err
	}
	inv, err := a.invites.Redeem(ctx, model.Digest(code), u.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "邀请码不存在、已过期或已被使用")
	}
	if err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := a.profiles.LinkUser(ctx, inv.Role, inv.ProfileID, u.ID); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	bound, err := a.users.Bind(ctx, u.ID, inv.Role, inv.ProfileID)
	a.cache.forget(u.ID)
	if err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	a.logger.InfoContext(ctx, "invite redeemed", "user_id", u.ID, "role", inv.Role)
	return bound, nil
}

// SetDuty puts a grid worker or party member on or off duty. Errors:
// permission_denied for anyone else.
func (a *Auth) SetDuty(ctx context.Context, u *model.User, onDuty bool) (*model.User, error) {
	if !u.HasAny(model.RoleGridWorker, model.RolePartyMember) {
		return nil, model.Errorf(model.CodePermissionDenied, "只有网格员和在职党员需要上岗")
	}
	out, err := a.users.SetDuty(ctx, u.ID, onDuty)
	a.cache.forget(u.ID)
	if err != nil {
		return nil, fmt.Errorf("set duty: %w", err)
	}
	return out, nil
}

func (a *Auth) limit(ctx context.Context, key string, perMinute int) error {
	ok, retry, err := a.limiter.Allow(ctx, key, perMinute, time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		secs := int(retry.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return &model.Error{Code: model.CodeRateLimited, Message: "尝试次数过多，请稍后再试", RetryAfterSeconds: secs}
	}
	return nil
}
