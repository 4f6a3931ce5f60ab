package model

import "unicode/utf8"

// MaskName shows a person's name the way worker and public views may: the
// family name and a mask, 张** for 张三丰.
func MaskName(name string) string {
	if name == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(name)
	rest := utf8.RuneCountInString(name[size:])
	if rest == 0 {
		rest = 1
	}
	out := string(r)
	for range rest {
		out += "*"
	}
	return out
}

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(phone string) string {
	if len(phone) < 8 {
		return "****"
	}
	return phone[:3] + "****" + phone[len(phone)-4:]
}

// ValidMobile reports whether s is a mainland mobile number: 11 digits
// starting 13–19.
func ValidMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
