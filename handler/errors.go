package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// statusOf maps each error code to its HTTP status (API.md, Conventions).
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

// ErrorDetail is the inside of the envelope.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorHandler is the one place errors become responses. Internal causes are
// logged with the request id and never shown.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := toModelError(err)
		status := statusOf[e.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		msg := e.Message
		if status >= 500 {
			logger.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "route", c.Path(), "status", status, "error", err.Error())
			if e.Code == model.CodeInternal {
				msg = "internal error; quote request id " + c.Response().Header().Get(echo.HeaderXRequestID)
			}
		}
		if e.Code == model.CodeRateLimited && e.RetryAfterSeconds > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
		}
		body := ErrorBody{Error: ErrorDetail{Code: string(e.Code), Message: msg}}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// toModelError turns anything a handler or Echo returns into a model error.
func toModelError(err error) *model.Error {
	var me *model.Error
	if errors.As(err, &me) {
		if me.Message == "" {
			return &model.Error{Code: me.Code, Message: string(me.Code), RetryAfterSeconds: me.RetryAfterSeconds}
		}
		return me
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return model.Errorf(model.CodeNotFound, "no such route")
		case http.StatusRequestEntityTooLarge:
			return model.Errorf(model.CodePayloadTooLarge, "the request body is too large")
		case http.StatusUnsupportedMediaType:
			return model.Errorf(model.CodeUnsupportedMedia, "unsupported content type")
		case http.StatusUnauthorized:
			return model.Errorf(model.CodeUnauthenticated, "authentication required")
		case http.StatusBadRequest:
			return model.Errorf(model.CodeInvalidArgument, "%v", he.Message)
		case http.StatusServiceUnavailable:
			return model.Errorf(model.CodeUnavailable, "service unavailable")
		}
	}
	return &model.Error{Code: model.CodeInternal, Err: err}
}

// jsonError describes a decoding failure in terms of the request's fields.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return model.Errorf(model.CodePayloadTooLarge, "the request body is over %d bytes", maxErr.Limit)
	case errors.As(err, &syn):
		return model.Errorf(model.CodeInvalidArgument, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return model.Errorf(model.CodeInvalidArgument, "the body must be %s", jsonKind(typ.Type.Kind().String()))
		}
		return model.Invalid(field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, errEmptyBody):
		return model.Errorf(model.CodeInvalidArgument, "the request body is empty; send a JSON object")
	}
	return model.Errorf(model.CodeInvalidArgument, "malformed JSON: %s", trimJSONPrefix(err.Error()))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "a number"
	}
	return fmt.Sprintf("a %s", k)
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
