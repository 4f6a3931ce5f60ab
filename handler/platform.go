package handler

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 while any store does not answer, naming which, and
// why when the store says (a full disk: "存储空间已满…").
func (h *handlers) readyz(c echo.Context) error {
	checks := map[string]string{}
	reasons := map[string]string{}
	ready := true
	for name, p := range h.Ready {
		if err := p.Ping(c.Request().Context()); err != nil {
			checks[name] = "unavailable"
			ready = false
			if me := (*model.Error)(nil); errors.As(err, &me) && me.Message != "" {
				reasons[name] = me.Message
			}
		} else {
			checks[name] = "ok"
		}
	}
	if !ready {
		msg := "有存储服务未响应（见 checks）"
		if len(reasons) > 0 {
			names := make([]string, 0, len(reasons))
			for name := range reasons {
				names = append(names, name)
			}
			sort.Strings(names)
			var why []string
			for _, name := range names {
				why = append(why, name+"："+reasons[name])
			}
			msg = "有存储服务不可用（见 checks）：" + strings.Join(why, "；")
		}
		body := map[string]any{"error": ErrorDetail{Code: string(model.CodeUnavailable), Message: msg}, "checks": checks}
		if len(reasons) > 0 {
			body["reasons"] = reasons
		}
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

// serveMetrics is the Prometheus exposition of Deps.Registry on the main
// port, for callers that give Deps.MetricsToken as a bearer token. Everyone
// else, and everyone when no token is set, gets the 404 of a route that
// does not exist: per-route counts and runtime figures are for the
// operator's scraper (usually on its own listener, Metrics), not the
// public.
func (h *handlers) serveMetrics(c echo.Context) error {
	scheme, given, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if h.MetricsToken == "" || !strings.EqualFold(scheme, "Bearer") ||
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(given)), []byte(h.MetricsToken)) != 1 {
		return echo.ErrNotFound
	}
	h.metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// openapi serves the OpenAPI document as prepared at build time.
func (h *handlers) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, h.OpenAPI)
}

// wechatVerify answers WeChat's check of the push URL.
func (h *handlers) wechatVerify(c echo.Context) error {
	s, err := h.Push.Verify(c.QueryParams())
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, s)
}

// wechatPush receives an event. WeChat retries anything but a quick
// "success", so a failure to act on a genuine event answers 503.
func (h *handlers) wechatPush(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return model.Errorf(model.CodeInvalidArgument, "无法读取请求体")
	}
	if err := h.Push.Receive(c.Request().Context(), c.QueryParams(), body); err != nil {
		if model.ErrorCode(err) == model.CodeConflict {
			return model.Wrap(model.CodeUnavailable, err, "请稍后重试")
		}
		return err
	}
	return c.String(http.StatusOK, "success")
}

// deadLetterJSON is a queued job that kept failing, for staff to look into.
type deadLetterJSON struct {
	Queue   string    `json:"queue"`
	Payload string    `json:"payload"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

func (h *handlers) deadLetters(c echo.Context) error {
	items, err := h.DeadLetters.DeadLetters(c.Request().Context())
	if err != nil {
		return err
	}
	out := itemsJSON[deadLetterJSON]{Items: make([]deadLetterJSON, len(items))}
	for i, d := range items {
		out.Items[i] = deadLetterJSON{Queue: d.Queue, Payload: d.Payload, Reason: d.Reason, At: d.At.UTC()}
	}
	return c.JSON(http.StatusOK, out)
}
