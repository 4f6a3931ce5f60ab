package wechatsim

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// KeywordType returns the type prefix of a template keyword: "thing1" →
// "thing", "character_string2" → "character_string".
func KeywordType(key string) string {
	return strings.TrimRightFunc(key, func(r rune) bool { return r >= '0' && r <= '9' })
}

const (
	reMonth   = `(0?[1-9]|1[0-2])`
	reDay     = `(0?[1-9]|[12][0-9]|3[01])`
	reClock   = `([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?`
	reDateCN  = `([0-9]{4}年)?` + reMonth + `月` + reDay + `日`
	reDateNum = `[0-9]{4}([-/.])` + reMonth + `([-/.])` + reDay
	reDate    = `(` + reDateCN + `|` + reDateNum + `)`
	// time: a clock time, optionally preceded by a date (a bare date is
	// accepted too); date: a date, optionally followed by a clock time.
	reTimePoint = `(` + reDate + `\s*)?` + reClock + `|` + reDate
	reDatePoint = reDate + `(\s*` + reClock + `)?`
)

var (
	reTimeValue   = regexp.MustCompile(`^(` + reTimePoint + `)(\s*~\s*(` + reTimePoint + `))?$`)
	reDateValue   = regexp.MustCompile(`^(` + reDatePoint + `)(\s*~\s*(` + reDatePoint + `))?$`)
	reNumberValue = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	reLetterValue = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
	reAmountValue = regexp.MustCompile(`^[¥￥$€£]?[0-9]{1,12}(\.[0-9]{1,2})?元?$`)
	rePhoneValue  = regexp.MustCompile(`^[0-9+\-() ]{1,17}$`)
)

// ValidValue reports whether v is acceptable for template keyword key,
// following WeChat's subscription-message parameter rules (by the keyword's
// type prefix):
//
//	thing             ≤ 20 characters (汉字、数字、字母或符号)
//	short_thing       ≤ 5 characters
//	character_string  ≤ 32 digits, ASCII letters or symbols
//	number            ≤ 32 digits, optionally with decimals
//	letter            ≤ 32 ASCII letters
//	symbol            ≤ 5 symbols
//	amount            currency symbol + ≤ 12 digits (decimals allowed), may end with 元
//	phone_number      ≤ 17 digits and symbols (+ - ( ) space)
//	car_number        ≤ 8, first and last may be 汉字, the rest letters or digits
//	name              ≤ 10 汉字 (mixed with letters counts as Chinese), or ≤ 20 letters/symbols
//	phrase            ≤ 5 汉字
//	time              24-hour time, optionally with a date (2019年10月1日 15:01, 2019-10-01 15:01), ranges with ~
//	date              date, optionally with a time, ranges with ~
//
// Unknown types are checked like thing. Values may not contain control
// characters.
func ValidValue(key, v string) bool {
	n := utf8.RuneCountInString(v)
	if n == 0 || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return false
	}
	switch KeywordType(key) {
	case "short_thing":
		return n <= 5
	case "character_string":
		return n <= 32 && all(v, func(r rune) bool { return r > ' ' && r < 0x7f })
	case "number":
		return n <= 32 && reNumberValue.MatchString(v)
	case "letter":
		return reLetterValue.MatchString(v)
	case "symbol":
		return n <= 5 && all(v, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && (unicode.IsPunct(r) || unicode.IsSymbol(r))
		})
	case "amount":
		return reAmountValue.MatchString(v)
	case "phone_number":
		return rePhoneValue.MatchString(v)
	case "car_number":
		return validCarNumber(v)
	case "name":
		return validName(v)
	case "phrase":
		return n <= 5 && all(v, isHan)
	case "time":
		return reTimeValue.MatchString(v)
	case "date":
		return reDateValue.MatchString(v)
	default: // thing and unknown types
		return n <= 20
	}
}

func all(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func isASCIIAlnum(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func validCarNumber(v string) bool {
	rs := []rune(v)
	if len(rs) > 8 {
		return false
	}
	for i, r := range rs {
		if isASCIIAlnum(r) {
			continue
		}
		if (i == 0 || i == len(rs)-1) && isHan(r) {
			continue
		}
		return false
	}
	return true
}

func validName(v string) bool {
	rs := []rune(v)
	hasHan := false
	for _, r := range rs {
		switch {
		case isHan(r):
			hasHan = true
		case r == '·' || r == '•':
		case r < 0x80 && (unicode.IsLetter(r) || r == ' ' || unicode.IsPunct(r) || unicode.IsSymbol(r)):
		default:
			return false
		}
	}
	if hasHan {
		return len(rs) <= 10
	}
	return len(rs) <= 20
}
