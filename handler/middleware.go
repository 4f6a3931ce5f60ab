package handler

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizen-city/chengguantong/model"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID gives every request an id (the caller's X-Request-Id when it is
// well formed, so a trace crosses the load balancer), echoes it in the
// response and puts it in the request's context for the log.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if !validRequestID.MatchString(id) {
				var b [12]byte
				_, _ = rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.SetRequest(c.Request().WithContext(WithRequestID(c.Request().Context(), id)))
			return next(c)
		}
	}
}

// metrics counts requests and their latencies by route and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe logs and measures each request. It logs the route pattern and the
// path, never the query string: signed photo URLs carry their signature there.
func observe(logger *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // writes the envelope now so the status is known
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			} else if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				level = slog.LevelDebug
			}
			logger.Log(c.Request().Context(), level, "request",
				"method", c.Request().Method, "route", route, "path", c.Request().URL.Path,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
				"bytes_out", c.Response().Size, "ip", c.RealIP())
			return nil
		}
	}
}

const userKey = "user"

// authenticate requires a valid bearer token, or the console's cookie of a
// staff user (StaffCookie), and stores the user. A bearer token wins over
// the cookie.
func authenticate(auth AuthService) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, token, ok := strings.Cut(h, " ")
			if h == "" {
				if ck, err := c.Request().Cookie(StaffCookie); err == nil && ck.Value != "" {
					return byCookie(c, auth, ck.Value, next)
				}
				return model.Errorf(model.CodeUnauthenticated, "请先登录：请求缺少 Authorization: Bearer <令牌> 请求头")
			}
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return model.Errorf(model.CodeUnauthenticated, "Authorization 请求头的格式必须是 Bearer <令牌>")
			}
			u, err := auth.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(userKey, u)
			setAuditActor(c, u)
			return next(c)
		}
	}
}

// byCookie authenticates a request by the console's cookie: only a staff
// user's token counts (the cookie is set by the staff login alone), and a
// request that may change something must carry X-Requested-With. Errors:
// unauthenticated (bad or expired token, not staff), permission_denied (a
// write without the header).
func byCookie(c echo.Context, auth AuthService, token string, next echo.HandlerFunc) error {
	u, err := auth.Authenticate(c.Request().Context(), token)
	if err != nil {
		return err
	}
	if !u.HasAny(model.RoleStaff) {
		return model.Errorf(model.CodeUnauthenticated, "登录 Cookie 只用于管理后台的工作人员，请重新登录")
	}
	if err := requireCSRFHeader(c.Request()); err != nil {
		return err
	}
	c.Set(userKey, u)
	// The access trail names the clerk whether the console's cookie or a
	// bearer token signed the request in.
	setAuditActor(c, u)
	return next(c)
}

// requireCSRFHeader refuses a request by cookie that may change something
// (any method but GET, HEAD and OPTIONS) unless it carries X-Requested-With.
// Another site's page cannot send a custom header to this origin without a
// CORS preflight, which this server never grants, so with SameSite=Strict a
// write by cookie cannot be forged. Reads need no header: the live event
// stream is an EventSource, which cannot set one. Errors: permission_denied.
func requireCSRFHeader(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("X-Requested-With") == "" {
		return model.Errorf(model.CodePermissionDenied, "通过登录 Cookie 发出的修改请求必须带 X-Requested-With 请求头")
	}
	return nil
}

// requireRole lets through users with at least one of roles.
func requireRole(roles ...model.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !currentUser(c).HasAny(roles...) {
				return model.Errorf(model.CodePermissionDenied, "此操作需要%s身份", joinRoles(roles))
			}
			return next(c)
		}
	}
}

// joinRoles names roles as residents and clerks know them.
func joinRoles(roles []model.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = r.Label()
	}
	return strings.Join(s, "或")
}

// currentUser is the authenticated user; only called behind authenticate.
func currentUser(c echo.Context) *model.User {
	u, _ := c.Get(userKey).(*model.User)
	if u == nil {
		return &model.User{}
	}
	return u
}

// MaxHeaderBytes is the most header bytes (request line and fields) a
// request may carry; past it the answer is 431 with the error envelope
// (code payload_too_large). Go's http.Server answers a bare text 431 itself,
// before any handler runs, once headers pass its own MaxHeaderBytes (plus
// 4 KiB of buffer slack); so the server is configured with
// ServerMaxHeaderBytes, twice this, and checkHeaderSize gives the envelope
// for everything in between.
const MaxHeaderBytes = 32 << 10

// ServerMaxHeaderBytes is the http.Server's MaxHeaderBytes: headers past it
// get Go's own text 431, which no Echo code can change.
const ServerMaxHeaderBytes = 2 * MaxHeaderBytes

// checkHeaderSize answers 431 with the envelope for headers over limit.
func checkHeaderSize(limit int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 + len("Host: ") + len(r.Host) + 2
			for k, vs := range r.Header {
				for _, v := range vs {
					n += len(k) + 2 + len(v) + 2
				}
			}
			if n > limit {
				return errHeaderTooLarge{size: n, limit: limit}
			}
			return next(c)
		}
	}
}

// securityHeaders are safe defaults for an API.
func securityHeaders() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			if strings.HasPrefix(c.Request().URL.Path, "/api/") {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}
