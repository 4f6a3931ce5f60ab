package model

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// ScrubPublic masks the contact and identity numbers a resident may have
// typed into a text before it is shown to anyone but staff (Open311, the
// nearby list, followers, an anonymised ticket):
//
//   - mobile numbers, written in any way — 13812345678, 138 1234 5678,
//     138-1234-5678, 138.1234.5678, full-width digits, with +86, ＋86 or
//     0086 before them — become 138****5678;
//   - landline numbers with an area code — 025-87654321, (025) 8765 4321,
//     0755 1234 5678, +86 10 1234 5678 — become 025-****4321; 400 and 800
//     service numbers 400****567; a 7- or 8-digit local number written
//     with a phone word before it (电话 8765 4321) or as two groups
//     (8765-4321) ****4321;
//   - ID-card numbers (18 characters, the last a digit or X; the old 15
//     digits) and any other run of 15 or more digits (a bank card) become
//     the first three characters, stars, and the last one;
//   - e-mail addresses become ***@***.
//
// Everything else is left as written (dates, house numbers, prices,
// coordinates). Scrubbing a scrubbed text changes nothing, so it can be
// applied again at every view. Staff see the original text.
func ScrubPublic(s string) string {
	if s == "" {
		return s
	}
	s = emailInText.ReplaceAllString(s, "***@***")
	var out strings.Builder
	last := 0 // bytes of s already written to out
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if _, ok := digitOf(r); !ok && !isPlus(r) && !isOpenParen(r) {
			i += size
			continue
		}
		gs, end := scanGroups(s, i)
		if len(gs) == 0 {
			i += size
			continue
		}
		// The longest window of groups that is a number, from each group on.
		for a := 0; a < len(gs); {
			matched := false
			for b := min(len(gs)-1, a+maxGroups-1); b >= a && !matched; b-- {
				if masked, ok := classify(gs[a:b+1], hasPhoneWord(s[:gs[a].lead])); ok {
					out.WriteString(s[last:gs[a].lead])
					out.WriteString(masked)
					last = gs[b].end
					a, matched = b+1, true
				}
			}
			if !matched {
				a++
			}
		}
		i = end
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

var emailInText = regexp.MustCompile(`[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// maxGroups is the most groups of digits one number is written in
// (6222 0202 0000 1234 567).
const maxGroups = 6

// group is a run of digits as written, between separators.
type group struct {
	// lead is where a number starting at this group begins (its + or
	// opening parenthesis), start and end its digits' bytes (end after an
	// ID card's X).
	lead, start, end int
	digits           string
	plus             bool // written after + or ＋
	dashBefore       bool // only dashes or spaces separate it from the group before
	x                bool // ends with the X of an ID-card number
}

func digitOf(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}

func isPlus(r rune) bool      { return r == '+' || r == '＋' }
func isOpenParen(r rune) bool { return r == '(' || r == '（' }
func isX(r rune) bool         { return r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ' }

// isSeparator reports whether r may stand between the digits of a number as
// people write them.
func isSeparator(r rune) bool {
	return isDashOrSpace(r) || strings.ContainsRune(".．·()（）/", r)
}

func isDashOrSpace(r rune) bool {
	return strings.ContainsRune(" \u3000\u00a0-－‐‑–—", r)
}

// scanGroups reads the groups of digits that start at s[i] (a digit, a plus
// sign or an opening parenthesis), at most two separators apart, and
// returns them and the byte offset after the last.
func scanGroups(s string, i int) ([]group, int) {
	var (
		gs       []group
		cur      *group
		lead     = -1
		plus     = false
		dashOnly = true
		seps     = 0
		digits   = 0
		end      = i
	)
	for j := i; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		if d, ok := digitOf(r); ok {
			if cur == nil {
				g := group{lead: j, start: j, plus: plus, dashBefore: len(gs) > 0 && dashOnly}
				if lead >= 0 {
					g.lead = lead
				}
				gs = append(gs, g)
				cur = &gs[len(gs)-1]
				lead, plus, dashOnly, seps = -1, false, true, 0
			}
			cur.digits += string(d)
			digits++
			j += size
			cur.end, end = j, j
			continue
		}
		if cur != nil && isX(r) && digits == 17 {
			cur.x = true
			j += size
			cur.end, end = j, j
			break
		}
		if isPlus(r) && len(gs) == 0 && !plus {
			plus = true
			if lead < 0 {
				lead = j
			}
			j += size
			continue
		}
		if isSeparator(r) && seps < 2 {
			cur = nil
			if isOpenParen(r) && lead < 0 {
				lead = j
			}
			if !isDashOrSpace(r) {
				dashOnly = false
			}
			seps++
			j += size
			continue
		}
		break
	}
	return gs, end
}

// classify decides whether the groups w are one phone or identity number
// and returns its masked form.
func classify(w []group, phoneWord bool) (string, bool) {
	var b strings.Builder
	longest := 0
	for _, g := range w {
		b.WriteString(g.digits)
		longest = max(longest, len(g.digits))
	}
	d, k := b.String(), len(w)
	lens := func(want ...int) bool {
		if len(want) != k {
			return false
		}
		for i, n := range want {
			if len(w[i].digits) != n {
				return false
			}
		}
		return true
	}
	stars := func(keep int) string { return d[:3] + strings.Repeat("*", len(d)-3-keep) + d[len(d)-keep:] }
	switch {
	case w[k-1].x && len(d) == 17 && (k == 1 || lens(6, 8, 3)):
		return d[:3] + strings.Repeat("*", 14) + "X", true
	case len(d) == 18 && (k == 1 || lens(6, 8, 4)), len(d) == 15 && k == 1 && !strings.HasPrefix(d, "0086"):
		return stars(1), true
	case len(d) >= 16 && len(d) <= 19 && (k == 1 || cardGroups(w)) && !strings.HasPrefix(d, "86") && !strings.HasPrefix(d, "0086"):
		return stars(1), true
	}
	national, intl := d, false
	switch {
	case k > 1 && w[0].digits == "86" && w[0].plus:
		national, intl = d[2:], true
	case k > 1 && w[0].digits == "0086":
		national, intl = d[4:], true
	case w[0].plus && strings.HasPrefix(d, "86"):
		national, intl = d[2:], true
	case strings.HasPrefix(d, "0086") && len(d) >= 13:
		national, intl = d[4:], true
	case strings.HasPrefix(d, "86") && len(d) == 13 && ValidMobile(d[2:]):
		national, intl = d[2:], true
	}
	if k <= 5 && longest <= 15 && national != "" {
		if m, ok := maskPhone(national, intl); ok {
			return m, true
		}
	}
	// A local number without its area code: only with a phone word before
	// it, or written in two groups (8765-4321), so that dates, years and
	// amounts stay as written.
	if (len(d) == 7 || len(d) == 8) && d[0] >= '2' && d[0] <= '9' {
		twoGroups := k == 2 && w[1].dashBefore && len(w[1].digits) == 4 && len(w[0].digits) >= 3 && !years(w)
		if (phoneWord && k <= 2) || twoGroups {
			return "****" + d[len(d)-4:], true
		}
	}
	return "", false
}

// cardGroups reports whether w is written as a bank card is: groups of four
// digits, the last of at most four.
func cardGroups(w []group) bool {
	for i, g := range w {
		if (i < len(w)-1 && len(g.digits) != 4) || len(g.digits) > 4 {
			return false
		}
	}
	return true
}

// years reports whether both groups look like years (2020-2026).
func years(w []group) bool {
	for _, g := range w {
		if len(g.digits) != 4 || (!strings.HasPrefix(g.digits, "19") && !strings.HasPrefix(g.digits, "20")) {
			return false
		}
	}
	return true
}

// maskPhone masks a mobile or landline number in national form (intl: it
// was written after +86, so a landline's leading 0 may be missing).
func maskPhone(d string, intl bool) (string, bool) {
	switch {
	case ValidMobile(d):
		return MaskPhone(d), true
	case intl && len(d) >= 9 && len(d) <= 11 && d[0] != '0' && d[0] != '1':
		d = "0" + d
	case intl && len(d) >= 9 && len(d) <= 10 && d[0] == '1' && d[1] == '0':
		d = "0" + d // Beijing, 010
	}
	switch {
	case len(d) == 10 && (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")):
		return d[:3] + "****" + d[7:], true
	case d[0] == '0' && len(d) >= 10 && len(d) <= 12:
		area := 4
		if d[1] == '1' || d[1] == '2' {
			area = 3 // 010, 02x
		}
		return d[:area] + "-****" + d[len(d)-4:], true
	}
	return "", false
}

// phoneWords announce a number as a phone number.
var phoneWords = []string{"电话", "座机", "手机", "联系", "号码", "热线", "tel", "Tel", "TEL", "☎", "📞"}

// hasPhoneWord reports whether a phone word ends within the last few
// characters of before.
func hasPhoneWord(before string) bool {
	// The last 8 characters.
	k, n := len(before), 0
	for k > 0 && n < 8 {
		_, size := utf8.DecodeLastRuneInString(before[:k])
		k -= size
		n++
	}
	tail := before[k:]
	for _, w := range phoneWords {
		if strings.Contains(tail, w) {
			return true
		}
	}
	return false
}
