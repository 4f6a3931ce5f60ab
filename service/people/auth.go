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

// LoginPolicy is how repeated wrong passwords for one staff account from one
// address are answered: from the SlowAfter-th failure on, each further try
// waits twice as long as the one before (1 s, 2 s, 4 s …); at the
// LockAfter-th the account is locked for that address for LockFor. Other
// addresses are not affected, so a stranger cannot lock the bureau out.
type LoginPolicy struct {
	SlowAfter int
	LockAfter int
	LockFor   time.Duration
}

// DefaultLoginPolicy: slow from the 5th failure, locked at the 10th, for
// 15 minutes.
var DefaultLoginPolicy = LoginPolicy{SlowAfter: 5, LockAfter: 10, LockFor: 15 * time.Minute}

// FailureCounter counts failed logins per key across instances.
type FailureCounter interface {
	Add(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	Count(ctx context.Context, key string) (n int, last time.Time, left time.Duration, err error)
	Clear(ctx context.Context, key string) error
}

// Recorder records an action in the access trail (package audit's Trail).
type Recorder interface {
	Record(ctx context.Context, action model.AuditAction, target, detail string)
	RecordAs(ctx context.Context, actorID, actorName string, action model.AuditAction, target, detail string)
}

// StaffStore keeps the staff's accounts beyond the login (store.Staff).
type StaffStore interface {
	Create(ctx context.Context, u *model.User, hash []byte) (*model.User, error)
	List(ctx context.Context) ([]*model.User, error)
	Update(ctx context.Context, id string, name *string, roles []model.Role, disabled *bool) (*model.User, error)
	SetPassword(ctx context.Context, id string, hash, seed []byte) (*model.User, error)
	Seed(ctx context.Context, id string) ([]byte, error)
	EndSessions(ctx context.Context, kind model.UserKind, id string) (int64, error)
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
	staff      StaffStore
	failures   FailureCounter
	trail      Recorder
	policy     LoginPolicy
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
	WeChat   WeChatLogin
	Users    UserStore
	Invites  InviteStore
	Profiles ProfileLinker
	Limiter  limit.Limiter
	Tokens   *Tokens
	Limits   AuthLimits
	// Staff keeps the staff accounts' roles and session versions;
	// Failures counts wrong passwords per account and address (Policy says
	// what they lead to); Trail records failures and locks.
	Staff      StaffStore
	Failures   FailureCounter
	Trail      Recorder
	Policy     LoginPolicy
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
	policy := d.Policy
	if policy.LockAfter == 0 {
		policy = DefaultLoginPolicy
	}
	return &Auth{
		wechat: d.WeChat, users: d.Users, invites: d.Invites, profiles: d.Profiles, limiter: d.Limiter,
		tokens: d.Tokens, limits: d.Limits, staff: d.Staff, failures: d.Failures, trail: d.Trail, policy: policy,
		bcryptCost: cost, logger: d.Logger, dummyHash: dummy,
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

// LoginStaff logs a staff member in. Repeated wrong passwords for one
// account from one address are slowed and then stopped (LoginPolicy), each
// failure and the lock recorded in the access trail; other addresses can
// still log in. Errors: invalid_argument, unauthenticated (wrong username
// or password, one message for both; a disabled account, once its
// password was right), rate_limited (Retry-After: the address's ceiling,
// or this account's failures from this address), unavailable.
func (a *Auth) LoginStaff(ctx context.Context, username, password, clientIP string) (*model.Session, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, model.Invalid("username", "不能为空")
	}
	if password == "" {
		return nil, model.Invalid("password", "不能为空")
	}
	if err := a.limit(ctx, "login:ip:"+clientIP, a.limits.PerIPPerMinute); err != nil {
		return nil, err
	}
	key := "staff:" + model.Digest(strings.ToLower(username)) + ":" + clientIP
	if err := a.checkFailures(ctx, key, username); err != nil {
		return nil, err
	}
	u, hash, err := a.users.StaffCredentials(ctx, username)
	switch {
	case errors.Is(err, model.ErrNotFound):
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
		return nil, a.failed(ctx, key, nil, username)
	case err != nil:
		return nil, fmt.Errorf("staff login: %w", err)
	case len(password) > model.MaxPasswordBytes, bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil:
		// bcrypt reads 72 bytes at most; a longer password is not ours.
		return nil, a.failed(ctx, key, u, username)
	}
	if err := a.failures.Clear(ctx, key); err != nil {
		a.logger.WarnContext(ctx, "clear login failures", "error", err.Error())
	}
	if u.Disabled {
		return nil, model.Errorf(model.CodeUnauthenticated, "账号 %s 已停用；如需使用请联系管理员", u.Username)
	}
	return a.session(u)
}

// msgBadLogin is the one answer to a wrong username or password.
const msgBadLogin = "用户名或密码错误"

// checkFailures refuses a login of an account from an address that failed
// too often lately: locked past LockAfter, slowed past SlowAfter.
func (a *Auth) checkFailures(ctx context.Context, key, username string) error {
	n, last, left, err := a.failures.Count(ctx, key)
	if err != nil {
		return err
	}
	p := a.policy
	switch {
	case n >= p.LockAfter:
		return &model.Error{Code: model.CodeRateLimited, RetryAfterSeconds: max(1, int(left.Round(time.Second)/time.Second)),
			Message: fmt.Sprintf("用户名 %s 在您的网络地址连续 %d 次登录失败，已暂停从此地址登录，请 %d 分钟后再试或联系管理员",
				username, n, max(1, int((left+time.Minute-1)/time.Minute)))}
	case n >= p.SlowAfter:
		wait := time.Second << min(n-p.SlowAfter, 10)
		if since := a.tokens.now().Sub(last); since < wait {
			secs := max(1, int((wait-since+time.Second-1)/time.Second))
			return &model.Error{Code: model.CodeRateLimited, RetryAfterSeconds: secs,
				Message: fmt.Sprintf("用户名 %s 在您的网络地址已连续 %d 次登录失败，请 %d 秒后再试", username, n, secs)}
		}
	}
	return nil
}

// failed counts a wrong password and records it (and the lock it causes)
// in the access trail; it returns the answer to give.
func (a *Auth) failed(ctx context.Context, key string, u *model.User, username string) error {
	n, err := a.failures.Add(ctx, key, a.tokens.now(), a.policy.LockFor)
	if err != nil {
		a.logger.WarnContext(ctx, "count login failure", "error", err.Error())
	}
	actorID := ""
	if u != nil {
		actorID = u.ID
	}
	if a.trail != nil {
		a.trail.RecordAs(ctx, actorID, username, model.ActionLoginFailed, username, fmt.Sprintf("密码错误（此地址第 %d 次）", n))
		if n == a.policy.LockAfter {
			a.trail.RecordAs(ctx, actorID, username, model.ActionLoginLocked, username,
				fmt.Sprintf("连续 %d 次登录失败，此地址暂停登录 %d 分钟", n, int(a.policy.LockFor/time.Minute)))
		}
	}
	return model.Errorf(model.CodeUnauthenticated, msgBadLogin)
}

func (a *Auth) session(u *model.User) (*model.Session, error) {
	token, exp, err := a.tokens.Issue(model.Principal{UserID: u.ID, Kind: u.Kind, Sessions: u.Sessions})
	if err != nil {
		return nil, err
	}
	return &model.Session{Token: token, ExpiresAt: exp, User: u}, nil
}

// Authenticate verifies a bearer token and loads its user. Errors:
// unauthenticated (bad, expired, for a user that no longer exists, of a
// session that ended — signed out, a new password, a disabled account),
// unavailable.
//
// The token is verified every time (an HMAC); the user is read from the
// store at most once per UserCacheTTL per instance, so a resident's
// requests in a row cost no user read each, and a session ended through
// another instance ends here within UserCacheTTL.
func (a *Auth) Authenticate(ctx context.Context, token string) (*model.User, error) {
	p, err := a.tokens.Verify(token)
	if err != nil {
		return nil, err
	}
	now := a.tokens.now()
	if u, ok := a.cache.get(p.UserID, now); ok && u.Kind == p.Kind {
		return u, current(p, u)
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
	return u, current(p, u)
}

// current refuses a token of a session that ended.
func current(p model.Principal, u *model.User) error {
	switch {
	case u.Disabled:
		return model.Errorf(model.CodeUnauthenticated, "账号已停用，请联系管理员")
	case p.Sessions != u.Sessions:
		return model.Errorf(model.CodeUnauthenticated, "登录已失效（已退出登录、修改了密码或账号被停用），请重新登录")
	}
	return nil
}

// Logout ends every session of u's account, on every instance (within
// UserCacheTTL; on this one at once). Errors: unavailable.
func (a *Auth) Logout(ctx context.Context, u *model.User) error {
	if _, err := a.staff.EndSessions(ctx, u.Kind, u.ID); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	a.cache.forget(u.ID)
	return nil
}

// BootstrapRoles are the roles of the first staff account (ADMIN_USERNAME):
// admin, and dispatcher so that a one-person office can work at once; an
// admin may take dispatcher away once dispatchers have accounts.
var BootstrapRoles = []model.Role{model.RoleStaff, model.RoleAdmin, model.RoleDispatcher}

// EnsureAdmin creates the first staff account (ADMIN_USERNAME, with
// BootstrapRoles), or makes sure it is an enabled admin. Its password is
// set to the configured one when the account is new or the configured
// password changed since it was last applied (the operator's way back in);
// a password changed through the console stays otherwise. Errors:
// unavailable.
func (a *Auth) EnsureAdmin(ctx context.Context, username, password string) error {
	u, hash, err := a.users.StaffCredentials(ctx, username)
	if errors.Is(err, model.ErrNotFound) {
		h, err := bcrypt.GenerateFromPassword([]byte(password), a.bcryptCost)
		if err != nil {
			return fmt.Errorf("hash admin password: %w", err)
		}
		u, err := a.staff.Create(ctx, &model.User{Username: username, Name: username, Roles: BootstrapRoles}, h)
		if errors.Is(err, model.ErrConflict) {
			return a.EnsureAdmin(ctx, username, password) // another instance made it first
		}
		if err != nil {
			return fmt.Errorf("ensure admin: %w", err)
		}
		_, err = a.staff.SetPassword(ctx, u.ID, h, h)
		return err
	}
	if err != nil {
		return fmt.Errorf("ensure admin: %w", err)
	}
	if !u.Has(model.RoleAdmin) || u.Disabled {
		roles := append(slices.Clone(u.Roles), model.RoleAdmin)
		roles, _ = model.NormalizeStaffRoles("roles", roles)
		enabled := false
		if _, err := a.staff.Update(ctx, u.ID, nil, roles, &enabled); err != nil {
			return fmt.Errorf("ensure admin: %w", err)
		}
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil {
		return nil
	}
	seed, err := a.staff.Seed(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("ensure admin: %w", err)
	}
	if seed != nil && bcrypt.CompareHashAndPassword(seed, []byte(password)) == nil {
		return nil // changed in the console since: the configured one was applied already
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), a.bcryptCost)
	if err != nil {
		return fmt.Errorf("hash admin password: %w", err)
	}
	if _, err := a.staff.SetPassword(ctx, u.ID, h, h); err != nil {
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
