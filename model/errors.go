// Package model is the domain of 市民城管通: users and roles, tickets and their
// state machine, locations, grids and categories, and the one error type every
// layer speaks. It uses the standard library only.
package model

import (
	"errors"
	"fmt"
)

// Code is the closed set of error kinds. Each maps to one HTTP status in the
// handler package and is the "code" field of the API's error envelope.
type Code string

// The error codes of the HTTP contract.
const (
	CodeInvalidArgument      Code = "invalid_argument"
	CodeUnauthenticated      Code = "unauthenticated"
	CodePermissionDenied     Code = "permission_denied"
	CodeNotFound             Code = "not_found"
	CodeConflict             Code = "conflict"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMedia     Code = "unsupported_media_type"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeRateLimited          Code = "rate_limited"
	CodeUnavailable          Code = "unavailable"
	CodeInternal             Code = "internal"
)

// Error is a domain error: a code, a message that is safe to show to the
// caller, and optionally the underlying cause, which is only ever logged.
type Error struct {
	Code    Code
	Message string
	// Field is the JSON path of the input at fault (location.lat,
	// photo_ids[2]) for invalid_argument errors; "" when the request as a
	// whole is at fault (an empty or malformed body).
	Field string
	// RetryAfterSeconds is set on rate_limited errors.
	RetryAfterSeconds int
	Err               error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same code, so that
// errors.Is(err, model.ErrNotFound) matches any not_found error.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels to compare against with errors.Is; they match any error of the
// same code.
var (
	ErrInvalidArgument  = &Error{Code: CodeInvalidArgument}
	ErrUnauthenticated  = &Error{Code: CodeUnauthenticated}
	ErrPermissionDenied = &Error{Code: CodePermissionDenied}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrConflict         = &Error{Code: CodeConflict}
	ErrRateLimited      = &Error{Code: CodeRateLimited}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
)

// Errorf builds an *Error with a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for an invalid_argument error naming a field: the
// message is the field's path, a space and the formatted text, which says in
// Chinese what is wrong (model.Invalid("location.lat", "必须在 -90 到 90 之间")),
// and Field carries the path for the envelope's "field".
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Field: field, Message: field + " " + fmt.Sprintf(format, args...)}
}

// InvalidNamed is an invalid_argument error whose message stands alone: it
// names the field in words a clerk reads (网格「龙江第一网格」不存在), not by
// its JSON path, which Field still carries for the client to mark the
// input.
func InvalidNamed(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given code and message with cause attached.
func Wrap(code Code, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
