package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

var errEmptyBody = errors.New("empty body")

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decode reads the JSON body of c into dst, and is the one way a handler
// reads a JSON body. Unknown fields are ignored so that a newer
// mini-program can talk to an older server. Besides JSON syntax and types
// it checks the text, so a handler gets these checks by calling it:
//
//   - the body must be valid UTF-8, and a \u escape must not be half of a
//     surrogate pair (Go would silently turn either into U+FFFD);
//   - every string in dst, at any depth (struct fields, slices, maps,
//     values decoded into any), passes model.CheckText: no NUL or other
//     control character but newline and tab, and, when not empty, at least
//     one visible character. A field tagged `text:"raw"` (a password) is
//     left as sent.
//
// Every failure is an invalid_argument error (payload_too_large past
// maxJSONBody) whose message is Chinese and whose Field is the JSON path of
// the value at fault ("location.lat", "photo_ids[2]"), or "" for the body as
// a whole. Required fields, lengths and ranges remain the service's rules.
//
//	var req struct {
//		Description string `json:"description"`
//		Password    string `json:"password" text:"raw"`
//	}
//	if err := decode(c, &req); err != nil {
//		return err
//	}
func decode(c echo.Context, dst any) error {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody)
	body, err := io.ReadAll(r)
	if err != nil {
		return jsonError(err, body)
	}
	return decodeBytes(body, dst)
}

// decodeBytes is decode for a body already read.
func decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonError(errEmptyBody, body)
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, body)
	}
	if dec.More() {
		return &model.Error{Code: model.CodeInvalidArgument,
			Message: "请求体只能是一个 JSON 对象，第 " + strconv.FormatInt(dec.InputOffset(), 10) + " 字节后还有内容"}
	}
	return checkStrings(reflect.ValueOf(dst), "")
}

// checkJSONText finds bytes that are not UTF-8 and \u escapes of lone
// surrogates, which encoding/json would replace with U+FFFD without a word.
func checkJSONText(body []byte) error {
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, size := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return invalidAt(body, int64(off+1), "含有无效的 UTF-8 字节（第 %d 字节）；请以 UTF-8 编码发送", off)
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString && i+1 < len(body):
			if body[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(body, i+2)
			if !ok {
				i++
				continue
			}
			switch {
			case r >= 0xD800 && r < 0xDC00:
				// A high surrogate must be followed by \u and a low one.
				if lo, ok := hex4(body, i+8); ok && i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
				return invalidAt(body, int64(i+1), "含有不成对的 UTF-16 代理项 \\u%04X（第 %d 字节）", r, i)
			case r >= 0xDC00 && r < 0xE000:
				return invalidAt(body, int64(i+1), "含有不成对的 UTF-16 代理项 \\u%04X（第 %d 字节）", r, i)
			}
			i += 5
		}
	}
	return nil
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// invalidAt is an invalid_argument error about the value at byte offset off
// of body, named by its JSON path.
func invalidAt(body []byte, off int64, format string, args ...any) *model.Error {
	field := jsonPathAt(body, off)
	if field == "" {
		e := model.Errorf(model.CodeInvalidArgument, "请求体"+format, args...)
		return e
	}
	return model.Invalid(field, format, args...)
}

// checkStrings applies model.CheckText to every string reachable from v,
// naming it by its JSON path.
func checkStrings(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStrings(v.Elem(), path)
	case reflect.String:
		if err := model.CheckText(pathOrBody(path), v.String()); err != nil {
			return err
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte, json.RawMessage: checked as bytes above
		}
		for i := range v.Len() {
			if err := checkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			p := joinPath(path, k.String())
			if k.Kind() == reflect.String {
				if err := model.CheckText(p, k.String()); err != nil {
					return err
				}
			}
			if err := checkStrings(iter.Value(), p); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("text") == "raw" {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				p = joinPath(path, name)
			}
			if err := checkStrings(v.Field(i), p); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOrBody(path string) string {
	if path == "" {
		return "请求体"
	}
	return path
}

// jsonPathAt names the value of body that covers byte offset off (one past
// the byte at fault, as encoding/json's offsets count), e.g. "items[2].name",
// or "" for the top level. It stops at the first syntax error, so it names
// where a malformed body goes wrong.
func jsonPathAt(body []byte, off int64) string {
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array && f.index >= 0:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case !f.array && !f.expectKey:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		if n := len(stack); n > 0 && stack[n-1].array {
			// The next token is a value of this array (or its end).
			if dec.More() {
				stack[n-1].index++
			}
		}
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		n := len(stack)
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if dec.InputOffset() >= off {
					return path()
				}
				stack = append(stack, frame{array: d == '[', index: -1, expectKey: d == '{'})
			case '}', ']':
				if dec.InputOffset() >= off {
					return path()
				}
				stack = stack[:n-1]
				if n > 1 && !stack[n-2].array {
					stack[n-2].expectKey = true
				}
			}
			continue
		}
		if n > 0 && !stack[n-1].array && stack[n-1].expectKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].expectKey = false
			if dec.InputOffset() >= off {
				return path()
			}
			continue
		}
		if dec.InputOffset() >= off {
			return path()
		}
		if n > 0 && !stack[n-1].array {
			stack[n-1].expectKey = true
		}
	}
}
