package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// statusOf maps each error code to its HTTP status: the one table, which
// docs/openapi.yaml (components.schemas.Error) and docs/architecture.md
// repeat for clients and maintainers.
var statusOf = map[model.Code]int{
	model.CodeInvalidArgument:      http.StatusBadRequest,
	model.CodeUnauthenticated:      http.StatusUnauthorized,
	model.CodePermissionDenied:     http.StatusForbidden,
	model.CodeNotFound:             http.StatusNotFound,
	model.CodeConflict:             http.StatusConflict,
	model.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	model.CodeUnsupportedMedia:     http.StatusUnsupportedMediaType,
	model.CodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	model.CodeRateLimited:          http.StatusTooManyRequests,
	model.CodeUnavailable:          http.StatusServiceUnavailable,
	model.CodeInternal:             http.StatusInternalServerError,
}

// ErrorBody is the error envelope of every failed request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of the envelope. Field is the JSON path (or the
// query parameter, header or form field) at fault, set on every
// invalid_argument error; "" there means the request as a whole.
type ErrorDetail struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Field   *string `json:"field,omitempty"`
}

// errHeaderTooLarge is the 431 of checkHeaderSize: the envelope with code
// payload_too_large, which names the limit.
type errHeaderTooLarge struct{ size, limit int }

func (e errHeaderTooLarge) Error() string {
	return fmt.Sprintf("request headers of %d bytes over the limit of %d", e.size, e.limit)
}

// errorHandler is the one place errors become responses. Internal causes are
// logged with the request id and never shown.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := toModelError(err, c)
		status := statusOf[e.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		var big errHeaderTooLarge
		if errors.As(err, &big) {
			status = http.StatusRequestHeaderFieldsTooLarge
		}
		msg := e.Message
		if status >= 500 {
			logger.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "route", c.Path(), "status", status, "error", err.Error())
			if e.Code == model.CodeInternal {
				msg = "服务器内部错误；请把请求编号 " + c.Response().Header().Get(echo.HeaderXRequestID) + " 告知管理员"
			}
		}
		if (e.Code == model.CodeRateLimited || e.Code == model.CodeUnavailable) && e.RetryAfterSeconds > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
		}
		body := ErrorBody{Error: ErrorDetail{Code: string(e.Code), Message: msg}}
		if e.Code == model.CodeInvalidArgument {
			f := e.Field
			body.Error.Field = &f
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// defaultMessage is shown for an error that carries no message of its own.
var defaultMessage = map[model.Code]string{
	model.CodeInvalidArgument:      "请求有误",
	model.CodeUnauthenticated:      "请先登录",
	model.CodePermissionDenied:     "无权执行此操作",
	model.CodeNotFound:             "要找的内容不存在",
	model.CodeConflict:             "当前状态不允许此操作，请刷新后重试",
	model.CodePayloadTooLarge:      "请求内容过大",
	model.CodeUnsupportedMedia:     "不支持的文件类型",
	model.CodeIdempotencyKeyReused: "Idempotency-Key 已用于另一个请求",
	model.CodeRateLimited:          "操作过于频繁，请稍后再试",
	model.CodeUnavailable:          "服务暂时不可用，请稍后再试",
	model.CodeInternal:             "服务器内部错误",
}

// toModelError turns anything a handler or Echo returns into a model error.
func toModelError(err error, c echo.Context) *model.Error {
	var big errHeaderTooLarge
	if errors.As(err, &big) {
		return model.Errorf(model.CodePayloadTooLarge, "请求头共 %d 字节，超过了 %d 字节的上限；请减少 Cookie 或其他请求头", big.size, big.limit)
	}
	var me *model.Error
	if errors.As(err, &me) {
		if me.Message == "" {
			return &model.Error{Code: me.Code, Message: defaultMessage[me.Code], Field: me.Field, RetryAfterSeconds: me.RetryAfterSeconds}
		}
		return me
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return model.Errorf(model.CodeNotFound, "没有这个接口：%s %s", c.Request().Method, clip(c.Request().URL.Path, 100))
		case http.StatusMethodNotAllowed:
			return model.Errorf(model.CodeNotFound, "接口 %s 不支持 %s 方法", clip(c.Request().URL.Path, 100), c.Request().Method)
		case http.StatusRequestEntityTooLarge:
			return model.Errorf(model.CodePayloadTooLarge, "请求体过大")
		case http.StatusUnsupportedMediaType:
			return model.Errorf(model.CodeUnsupportedMedia, "不支持的内容类型 %q", clip(c.Request().Header.Get(echo.HeaderContentType), 60))
		case http.StatusUnauthorized:
			return model.Errorf(model.CodeUnauthenticated, "请先登录")
		case http.StatusForbidden:
			return model.Errorf(model.CodePermissionDenied, "无权执行此操作")
		case http.StatusTooManyRequests:
			return model.Errorf(model.CodeRateLimited, "操作过于频繁，请稍后再试")
		case http.StatusBadRequest:
			return model.Errorf(model.CodeInvalidArgument, "请求有误，无法解析")
		case http.StatusServiceUnavailable:
			return model.Errorf(model.CodeUnavailable, "服务暂时不可用，请稍后再试")
		}
	}
	return &model.Error{Code: model.CodeInternal, Err: err}
}

// clip shortens s to at most n runes for a message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// jsonError describes a decoding failure of body in terms of the request's
// fields.
func jsonError(err error, body []byte) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return model.Errorf(model.CodePayloadTooLarge, "请求体超过了 %d 字节的上限", maxErr.Limit)
	case errors.As(err, &syn):
		if field := jsonPathAt(body, syn.Offset); field != "" {
			return model.Invalid(field, "处的 JSON 格式有误（第 %d 字节）", syn.Offset)
		}
		return model.Errorf(model.CodeInvalidArgument, "请求体不是有效的 JSON（第 %d 字节有误）", syn.Offset)
	case errors.As(err, &typ):
		field := jsonPathAt(body, typ.Offset)
		if field == "" {
			field = typ.Field
		}
		if field == "" {
			return model.Errorf(model.CodeInvalidArgument, "请求体必须是%s，不能是%s", jsonKind(typ.Type), jsonValue(typ.Value))
		}
		return model.Invalid(field, "必须是%s，不能是%s", jsonKind(typ.Type), jsonValue(typ.Value))
	case errors.Is(err, errEmptyBody):
		return model.Errorf(model.CodeInvalidArgument, "请求体为空；请发送一个 JSON 对象")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return model.Errorf(model.CodeInvalidArgument, "请求体不完整：JSON 在第 %d 字节处提前结束", len(body))
	}
	return model.Errorf(model.CodeInvalidArgument, "请求体不是有效的 JSON")
}

// jsonKind names in Chinese the JSON a Go type takes.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "有效的值"
	}
	switch t.Kind() {
	case reflect.String:
		return "字符串"
	case reflect.Bool:
		return " true 或 false"
	case reflect.Slice, reflect.Array:
		return "数组"
	case reflect.Struct, reflect.Map:
		return " JSON 对象"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	}
	return "有效的值"
}

// jsonValue names in Chinese what encoding/json found ("string",
// "number 1.5").
func jsonValue(v string) string {
	kind, rest, _ := strings.Cut(v, " ")
	name := map[string]string{"string": "字符串", "number": "数字", "bool": "布尔值", "array": "数组", "object": " JSON 对象"}[kind]
	if name == "" {
		return v
	}
	if rest != "" {
		return name + " " + clip(rest, 40)
	}
	return name
}
