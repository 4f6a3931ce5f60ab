package photo

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped in an [*Error]) by [Processor.Process].
// Test for them with [errors.Is].
var (
	// ErrTooLarge means the upload has more than Limits.MaxBytes bytes.
	// Suggested HTTP status: 413 Content Too Large.
	ErrTooLarge = errors.New("photo: file too large")

	// ErrUnsupported means the bytes are not a JPEG, PNG or WebP image
	// (including an empty upload), or use a feature of those formats that
	// cannot be decoded here (animated WebP, arithmetic-coded JPEG, ...).
	// Suggested HTTP status: 415 Unsupported Media Type.
	ErrUnsupported = errors.New("photo: unsupported image format")

	// ErrTooManyPixels means the image header declares more than
	// Limits.MaxPixels pixels (width × height). The image is refused before
	// its pixels are decoded, so decompression bombs cost almost nothing.
	// Suggested HTTP status: 413 Content Too Large.
	ErrTooManyPixels = errors.New("photo: image has too many pixels")

	// ErrTooMuchMemory means decoding the image would take more memory
	// than Limits.DecodeMemory: width × height × the bytes a pixel of its
	// kind takes in the decoder (16-bit PNGs and progressive or CMYK JPEGs
	// take several times what an ordinary photo does). Like
	// ErrTooManyPixels it is found from the headers, before decoding.
	// Suggested HTTP status: 413 Content Too Large.
	ErrTooMuchMemory = errors.New("photo: image too large to decode")

	// ErrCorrupt means the file starts like a supported image but its
	// structure or compressed data cannot be decoded (truncated upload,
	// damaged file). Suggested HTTP status: 400 Bad Request (or 415).
	ErrCorrupt = errors.New("photo: corrupt image")
)

// Error is the error type returned by [Processor.Process] for every
// rejection of the uploaded file. It matches its Kind with [errors.Is] and
// carries a Message that is safe to show to the person who uploaded the
// photo; Cause, if any, is the internal reason, meant for logs only.
type Error struct {
	// Kind is one of ErrTooLarge, ErrUnsupported, ErrTooManyPixels,
	// ErrTooMuchMemory or ErrCorrupt.
	Kind error
	// Message is a short Simplified Chinese sentence safe to show to end
	// users, e.g. "照片大小为 12.3 MB，超过了 10 MB 的上限".
	Message string
	// Cause is the underlying error, or nil. It may contain internal
	// details and should only be logged.
	Cause error
}

// Error returns the user-facing message followed by the cause, if any.
func (e *Error) Error() string {
	if e.Cause != nil {
		return "photo: " + e.Message + ": " + e.Cause.Error()
	}
	return "photo: " + e.Message
}

// Unwrap returns the Kind and the Cause so that [errors.Is] and [errors.As]
// see both.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// UserMessage returns the message of the first [*Error] in err's chain, which
// is safe to show to end users, or the empty string if there is none (for
// example for a context cancellation or an I/O error from the caller's
// reader).
func UserMessage(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return ""
}

func newError(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// formatMB renders a byte count in megabytes (MiB) with one decimal, without
// a trailing ".0".
func formatMB(n int64) string {
	s := fmt.Sprintf("%.1f", float64(n)/(1<<20))
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " MB"
}

// formatMP renders a pixel count in megapixels (10^6) with one decimal.
func formatMP(n int64) string {
	s := fmt.Sprintf("%.1f", float64(n)/1e6)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " 百万像素"
}

// latinSpaced puts a space before s when it starts with a Latin letter or a
// digit, as Chinese text sets them apart ("像素的 16 位 RGBA PNG").
func latinSpaced(s string) string {
	if s != "" && s[0] < 0x80 {
		return " " + s
	}
	return s
}
