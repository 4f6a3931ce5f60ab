package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText checks a piece of text a resident or clerk typed (a
// description, an address, a note, a reason, a comment, a name, a title)
// and returns an invalid_argument error naming field when it
//
//   - is not valid UTF-8,
//   - holds a NUL or any other control character except newline and tab (a
//     carriage return is accepted only as part of a CRLF line break), or
//   - is not empty but has no visible character: only spaces (U+0020,
//     U+3000 …), zero-width characters (U+200B, U+FEFF …) or blank fillers
//     (U+3164, U+2800 …).
//
// An empty string passes: whether a field is required is the caller's rule.
// The JSON decoder of package handler applies CheckText to every string of
// every request body, so handlers need not call it for JSON fields; call it
// for text taken from query parameters or form fields.
func CheckText(field, s string) *Error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return Invalid(field, "含有无效的 UTF-8 字节（第 %d 字节）；请以 UTF-8 编码发送", i)
		case r == 0:
			return Invalid(field, "不能含有 NUL 字符（U+0000）")
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// a CRLF line break, as a Windows textarea sends it
		case r != '\n' && r != '\t' && unicode.IsControl(r):
			return Invalid(field, "不能含有控制字符 U+%04X（只允许换行和制表符）", r)
		}
		i += size
	}
	if s != "" && !HasVisible(s) {
		return Invalid(field, "只有空白或不可见字符；请填写实际内容")
	}
	return nil
}

// HasVisible reports whether s has at least one character that shows on a
// screen: a letter, digit, punctuation mark or symbol that is not a blank
// filler. Spaces of every width, zero-width and other format characters do
// not count.
func HasVisible(s string) bool {
	for _, r := range s {
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Zs, r) && !blankFiller(r) &&
			!unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) {
			return true
		}
	}
	return false
}

// blankFiller are letters and symbols that render as nothing: the Hangul
// fillers and the blank Braille pattern, favourites of "invisible" names.
func blankFiller(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800:
		return true
	}
	return false
}

// TrimText trims s and checks its length in characters: 1 to maxRunes, or
// up to maxRunes when optional. what says, for a required field, what to
// write there. Errors: invalid_argument naming field.
func TrimText(field, s string, maxRunes int, optional bool, what string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if (n == 0 && !optional) || n > maxRunes {
		if optional {
			return "", Invalid(field, "最多 %d 个字，收到 %d 个", maxRunes, n)
		}
		return "", Invalid(field, "必须是 1 到 %d 个字：%s", maxRunes, what)
	}
	return s, nil
}
