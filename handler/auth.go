package handler

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

type wechatLoginRequest struct {
	Code string `json:"code"`
}

type staffLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sessionJSON is a login's answer: the bearer token and who it is for.
type sessionJSON struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

// userJSON is a user as they see themselves: on_duty for grid workers and
// party members, username for staff.
type userJSON struct {
	ID       string   `json:"id"`
	Roles    []string `json:"roles"`
	OnDuty   *bool    `json:"on_duty,omitempty"`
	Username string   `json:"username,omitempty"`
}

func toUser(u *model.User) userJSON {
	r := userJSON{ID: u.ID, Roles: make([]string, len(u.Roles)), Username: u.Username}
	for i, role := range u.Roles {
		r.Roles[i] = string(role)
	}
	if u.HasAny(model.RoleGridWorker, model.RolePartyMember) {
		onDuty := u.OnDuty
		r.OnDuty = &onDuty
	}
	return r
}

func toSession(s *model.Session) sessionJSON {
	return sessionJSON{Token: s.Token, ExpiresAt: s.ExpiresAt.UTC(), User: toUser(s.User)}
}

func (h *handlers) loginWeChat(c echo.Context) error {
	var req wechatLoginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	s, err := h.Auth.LoginWeChat(c.Request().Context(), req.Code, c.RealIP())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSession(s))
}

// StaffCookie is the staff console's session cookie: the staff token,
// HttpOnly (no script on the page can read it), SameSite=Strict (the
// browser never sends it from another site's page), Path=/ (the console and
// the API), Secure over HTTPS. It lets a ticket's link open in a new tab
// signed in while the page itself holds no token. Staff routes take it as
// well as the bearer token; a write authenticated by it must also carry an
// X-Requested-With header (requireCSRFHeader).
const StaffCookie = "cgt_staff"

// loginStaff answers the session like every login and sets the console's
// cookie with the same token and expiry.
func (h *handlers) loginStaff(c echo.Context) error {
	var req staffLoginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	s, err := h.Auth.LoginStaff(c.Request().Context(), req.Username, req.Password, c.RealIP())
	if err != nil {
		return err
	}
	setStaffCookie(c, s.Token, s.ExpiresAt)
	return c.JSON(http.StatusOK, toSession(s))
}

// setStaffCookie sets the console's cookie to token until expires, or
// clears it when token is "".
func setStaffCookie(c echo.Context, token string, expires time.Time) {
	ck := &http.Cookie{
		Name: StaffCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Scheme() == "https", Expires: expires,
	}
	if token == "" {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

func (h *handlers) me(c echo.Context) error {
	return c.JSON(http.StatusOK, toUser(currentUser(c)))
}

type bindRequest struct {
	InviteCode string `json:"invite_code"`
}

func (h *handlers) bind(c echo.Context) error {
	var req bindRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := h.Auth.Bind(c.Request().Context(), currentUser(c), req.InviteCode)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUser(u))
}

type dutyRequest struct {
	OnDuty *bool `json:"on_duty"`
}

func (h *handlers) setDuty(c echo.Context) error {
	var req dutyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.OnDuty == nil {
		return model.Invalid("on_duty", "不能为空（true 或 false）")
	}
	u, err := h.Auth.SetDuty(c.Request().Context(), currentUser(c), *req.OnDuty)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUser(u))
}

type subscriptionsRequest struct {
	Accepted []string `json:"accepted"`
}

func (h *handlers) recordSubscriptions(c echo.Context) error {
	var req subscriptionsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := h.Subscriptions.Record(c.Request().Context(), currentUser(c), req.Accepted); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
