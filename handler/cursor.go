package handler

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// List cursors are what the store returns (an id, or whatever a list needs
// to resume), signed by the server: base64url(raw) "." base64url(mac), the
// MAC an HMAC-SHA256 of the route and raw under a key derived from
// TOKEN_SECRET, so every instance accepts the others' cursors and a cursor
// the server did not issue — or one of another list — is a 400, never
// "start again" or "the end".

const cursorKeyName = "cursor_key"

// maxCursor bounds the ?cursor= a list accepts.
const maxCursor = 512

// cursorKey derives the cursors' key from secret; with no secret (tests
// that build handler.New bare) a random key, good for one process.
func cursorKey(secret []byte) []byte {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("chengguantong list cursors v1"))
	return m.Sum(nil)
}

// withCursorKey gives every request the key signCursor and openCursor use.
func withCursorKey(key []byte) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(cursorKeyName, key)
			return next(c)
		}
	}
}

func cursorMAC(c echo.Context, raw string) []byte {
	key, _ := c.Get(cursorKeyName).([]byte)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(c.Path()))
	m.Write([]byte{0})
	m.Write([]byte(raw))
	return m.Sum(nil)[:16]
}

// signCursor turns the store's next cursor into the one the API hands out
// as next_cursor; "" (the end) stays "". Every list that answers
// next_cursor must pass it through here, and read ?cursor= with pageParams.
func signCursor(c echo.Context, raw string) string {
	if raw == "" {
		return ""
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(raw)) + "." + enc.EncodeToString(cursorMAC(c, raw))
}

// openCursor checks a ?cursor= value and returns the store's cursor in it.
// Errors: invalid_argument (field cursor) for anything signCursor did not
// make for this list.
func openCursor(c echo.Context, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := model.Invalid("cursor", "不是本服务器为这个列表给出的翻页游标；请去掉 cursor 参数从第一页开始")
	if len(s) > maxCursor {
		return "", bad
	}
	rawPart, macPart, ok := strings.Cut(s, ".")
	if !ok {
		return "", bad
	}
	enc := base64.RawURLEncoding
	raw, err1 := enc.DecodeString(rawPart)
	mac, err2 := enc.DecodeString(macPart)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, cursorMAC(c, string(raw))) {
		return "", bad
	}
	return string(raw), nil
}
