package workcal

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxRangeDays bounds a holiday/workday range "a..b" (inclusive), so that a
// typo such as 2026-10-01..2062-10-07 is an error instead of a silent
// 36-year holiday.
const maxRangeDays = 366

// Config describes a work calendar. New does not fill in defaults for zero
// fields; use DefaultConfig or China2026 as a starting point.
type Config struct {
	// Periods are the working periods of a working day, e.g. 08:30–12:00 and
	// 13:30–17:30 (default). "HH:MM-HH:MM" strings, sorted, non-overlapping,
	// within one day; an end of "24:00" means midnight at the end of the day.
	// Each period is half-open, [start, end).
	Periods []string
	// Weekend lists the non-working weekdays (default Saturday, Sunday). An
	// empty Weekend means every weekday is a regular working day.
	Weekend []time.Weekday
	// Holidays are dated days off (法定节假日), "2026-10-01". An inclusive
	// range "2026-10-01..2026-10-07" (at most 366 days) is also accepted.
	Holidays []string
	// Workdays are dated working days that override the weekend (调休 make-up
	// days), "2026-09-27". Ranges are accepted as for Holidays. A day may not
	// be both a holiday and a workday.
	Workdays []string
}

// DefaultConfig returns the bureau's standard week: working periods
// 08:30-12:00 and 13:30-17:30 (7.5 working hours a day), Saturday and Sunday
// off, no dated holidays or workdays.
func DefaultConfig() Config {
	return Config{
		Periods: []string{"08:30-12:00", "13:30-17:30"},
		Weekend: []time.Weekday{time.Saturday, time.Sunday},
	}
}

// china2026 is the 2026 holiday and 调休 schedule in Parse syntax, from the
// 国务院办公厅关于2026年部分节假日安排的通知 of 2025-11-04.
const china2026 = "" +
	"holidays=" +
	"2026-01-01..2026-01-03," + // 元旦: 1月1日(周四)至3日(周六)
	"2026-02-15..2026-02-23," + // 春节: 2月15日(腊月二十八, 周日)至23日(正月初七, 周一)
	"2026-04-04..2026-04-06," + // 清明节: 4月4日(周六)至6日(周一)
	"2026-05-01..2026-05-05," + // 劳动节: 5月1日(周五)至5日(周二)
	"2026-06-19..2026-06-21," + // 端午节: 6月19日(周五)至21日(周日)
	"2026-09-25..2026-09-27," + // 中秋节: 9月25日(周五)至27日(周日)
	"2026-10-01..2026-10-07;" + // 国庆节: 10月1日(周四)至7日(周三)
	"workdays=" +
	"2026-01-04," + // 元旦调休: 1月4日(周日)上班
	"2026-02-14,2026-02-28," + // 春节调休: 2月14日(周六)、2月28日(周六)上班
	"2026-05-09," + // 劳动节调休: 5月9日(周六)上班
	"2026-09-20,2026-10-10" // 国庆节调休: 9月20日(周日)、10月10日(周六)上班

// China2026 returns DefaultConfig plus the official PRC public holidays and
// 调休 make-up working days of 2026 (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节,
// 国庆节), transcribed from the State Council General Office notice of
// 2025-11-04 (国务院办公厅关于2026年部分节假日安排的通知). The schedule is
// published anew every year: check this table against the State Council
// notice, and add the next year's preset, before relying on it. Dates
// outside 2026 follow only the weekly rule.
func China2026() Config {
	cfg, err := Parse(china2026)
	if err != nil {
		panic("workcal: invalid China2026 table: " + err.Error())
	}
	return cfg
}

// Parse parses the compact form of a Config used in environment variables:
// semicolon-separated key=value fields with comma-separated values, e.g.
//
//	periods=08:30-12:00,13:30-17:30;weekend=sat,sun;holidays=2026-01-01,2026-10-01..2026-10-07;workdays=2026-09-27,2026-10-10
//
// Keys are periods, weekend, holidays and workdays; keys not given keep
// their DefaultConfig value, so Parse("") is DefaultConfig(). Date ranges
// "a..b" are inclusive. Weekend days are English names or three-letter
// abbreviations (case-insensitive); "weekend=" or "weekend=none" means no
// weekend. Unknown or repeated keys, malformed dates or times, overlapping
// periods and a day that is both a holiday and a workday are errors that
// name the offending item; the result is validated as New would.
func Parse(s string) (Config, error) {
	cfg := DefaultConfig()
	seen := make(map[string]bool)
	for _, field := range strings.Split(s, ";") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		key, val, ok := strings.Cut(field, "=")
		if !ok {
			return Config{}, fmt.Errorf("workcal: field %q: want key=value", field)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if seen[key] {
			return Config{}, fmt.Errorf("workcal: duplicate key %q", key)
		}
		seen[key] = true
		items := splitList(val)
		switch key {
		case "periods":
			cfg.Periods = items
		case "weekend":
			wds, err := parseWeekend(items)
			if err != nil {
				return Config{}, err
			}
			cfg.Weekend = wds
		case "holidays":
			cfg.Holidays = items
		case "workdays":
			cfg.Workdays = items
		default:
			return Config{}, fmt.Errorf("workcal: unknown key %q (want periods, weekend, holidays or workdays)", key)
		}
	}
	if _, err := New(cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseWeekend parses weekday names.
func parseWeekend(items []string) ([]time.Weekday, error) {
	if len(items) == 1 && strings.EqualFold(items[0], "none") {
		return nil, nil
	}
	var out []time.Weekday
	for _, item := range items {
		wd, ok := parseWeekday(item)
		if !ok {
			return nil, fmt.Errorf("workcal: weekend: unknown weekday %q", item)
		}
		out = append(out, wd)
	}
	return out, nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		name := wd.String()
		if strings.EqualFold(s, name) || strings.EqualFold(s, name[:3]) {
			return wd, true
		}
	}
	return 0, false
}

// parsePeriods parses, sorts and checks the working periods.
func parsePeriods(items []string) ([]period, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("workcal: periods: no working periods")
	}
	type named struct {
		p    period
		text string
	}
	ps := make([]named, 0, len(items))
	for _, item := range items {
		p, err := parsePeriod(item)
		if err != nil {
			return nil, err
		}
		ps = append(ps, named{p, item})
	}
	slices.SortStableFunc(ps, func(a, b named) int { return cmp.Compare(a.p.start, b.p.start) })
	out := make([]period, len(ps))
	for i, p := range ps {
		if i > 0 && p.p.start < ps[i-1].p.end {
			return nil, fmt.Errorf("workcal: periods: %q overlaps %q", p.text, ps[i-1].text)
		}
		out[i] = p.p
	}
	return out, nil
}

// parsePeriod parses "HH:MM-HH:MM".
func parsePeriod(s string) (period, error) {
	bad := func(why string) (period, error) {
		return period{}, fmt.Errorf("workcal: periods: bad period %q: %s", s, why)
	}
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return bad("want HH:MM-HH:MM")
	}
	start, ok1 := parseClock(strings.TrimSpace(a))
	end, ok2 := parseClock(strings.TrimSpace(b))
	if !ok1 || !ok2 {
		return bad("want HH:MM-HH:MM with 00:00 <= HH:MM <= 24:00")
	}
	if start >= end {
		return bad("start is not before end")
	}
	if start == 24*time.Hour {
		return bad("start 24:00 is outside the day")
	}
	return period{start, end}, nil
}

// parseClock parses "HH:MM" (00:00 to 24:00) as an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.ParseUint(s[:2], 10, 8)
	m, err2 := strconv.ParseUint(s[3:], 10, 8)
	if err1 != nil || err2 != nil || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// parseDates parses dates and inclusive date ranges into sorted, distinct
// day numbers. what names the config field in errors.
func parseDates(what string, items []string) ([]int64, error) {
	var days []int64
	for _, item := range items {
		item = strings.TrimSpace(item)
		a, b, isRange := strings.Cut(item, "..")
		first, err := parseDay(a)
		if err != nil {
			return nil, fmt.Errorf("workcal: %s: bad date %q in %q: want YYYY-MM-DD", what, a, item)
		}
		last := first
		if isRange {
			if last, err = parseDay(b); err != nil {
				return nil, fmt.Errorf("workcal: %s: bad date %q in %q: want YYYY-MM-DD", what, b, item)
			}
			if last < first {
				return nil, fmt.Errorf("workcal: %s: range %q ends before it starts", what, item)
			}
			if last-first >= maxRangeDays {
				return nil, fmt.Errorf("workcal: %s: range %q is longer than %d days", what, item, maxRangeDays)
			}
		}
		for d := first; d <= last; d++ {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}

func parseDay(s string) (int64, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return dayNumber(t.Date()), nil
}
