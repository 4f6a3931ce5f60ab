// Package workcal is the work calendar of the city-management bureau. It
// computes ticket deadlines in WORKING time: a ticket category's handling time
// limit (处置时限) is a number of working hours, and the ticket is due when that
// much working time has elapsed after the report was registered.
//
// # Time zone
//
// All calendar arithmetic happens in Asia/Shanghai (the tz database is
// embedded with time/tzdata, so the package works on machines without
// system zoneinfo). Inputs may be in any location; every returned time.Time
// is in the location of the input it was computed from. Asia/Shanghai has
// had no daylight saving time since 1991, so a working day always has the
// same length; the calendar counts wall-clock time, which for dates before
// 1992 may be off by an hour around a historical DST transition.
//
// # Boundary conventions
//
//   - A working period is half-open, [start, end): 08:30 is working time,
//     12:00 (the end of 08:30-12:00) is not.
//   - A deadline that falls exactly at the end of a period is that end
//     instant, not the start of the next period. With the default periods
//     (7.5 working hours a day), 7.5 working hours from Monday 08:30 is
//     Monday 17:30, not Tuesday 08:30; 3.5 hours is Monday 12:00.
//   - If the start instant is outside working time, counting begins at the
//     start of the next working period. Add(start, 0) is start itself when
//     start is in working time, else that next period start.
//   - Between(from, to) counts the working time in [from, to); it is 0 when
//     to is not after from. For every start s and d >= 0,
//     Between(s, Add(s, d)) == d.
//   - A day is a working day when it is a dated workday (调休 make-up day), or
//     it is not a dated holiday and its weekday is not in the weekend.
package workcal

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
	_ "time/tzdata" // Asia/Shanghai must load even without system tzdata.
)

// zoneName is the time zone all calendar arithmetic is done in.
const zoneName = "Asia/Shanghai"

// period is one working period of a day, as offsets from wall-clock midnight.
type period struct {
	start, end time.Duration
}

// Calendar is an immutable work calendar; it is safe for concurrent use.
// Build it with New.
type Calendar struct {
	loc      *time.Location
	periods  []period      // sorted, non-overlapping
	dayTotal time.Duration // working time of one working day, > 0
	weekend  [7]bool       // indexed by time.Weekday
	workWeek int64         // regular working weekdays per week, 1..7
	// weekPrefix[r] is the number of regular working weekdays among the
	// day numbers 0..r-1 (day 0 is 1970-01-01, a Thursday).
	weekPrefix [8]int64
	holidays   []int64 // sorted day numbers
	workdays   []int64 // sorted day numbers
	// excDays are the sorted days on which the dated rules change the weekly
	// rule (a holiday on a regular weekday or a workday on a weekend day);
	// excCum[i] is the net change in working-day count over excDays[:i].
	excDays []int64
	excCum  []int64
}

// New validates cfg and builds a Calendar from it. New does not fill in
// defaults: start from DefaultConfig or China2026 to get the standard
// periods and weekend. New rejects a Config with no working periods, a
// weekend covering all seven weekdays, malformed or overlapping periods,
// malformed dates or ranges, and a day that is both a holiday and a workday;
// the error names the offending item.
func New(cfg Config) (*Calendar, error) {
	loc, err := time.LoadLocation(zoneName)
	if err != nil {
		return nil, fmt.Errorf("workcal: loading %s: %w", zoneName, err)
	}
	c := &Calendar{loc: loc}

	if c.periods, err = parsePeriods(cfg.Periods); err != nil {
		return nil, err
	}
	for _, p := range c.periods {
		c.dayTotal += p.end - p.start
	}

	for _, wd := range cfg.Weekend {
		if wd < time.Sunday || wd > time.Saturday {
			return nil, fmt.Errorf("workcal: weekend: invalid weekday %d", int(wd))
		}
		c.weekend[wd] = true
	}
	for wd := range c.weekend {
		if !c.weekend[wd] {
			c.workWeek++
		}
	}
	if c.workWeek == 0 {
		return nil, fmt.Errorf("workcal: weekend: all seven weekdays are non-working")
	}
	for r := int64(0); r < 7; r++ {
		c.weekPrefix[r+1] = c.weekPrefix[r]
		if !c.weekend[weekdayOf(r)] {
			c.weekPrefix[r+1]++
		}
	}

	if c.holidays, err = parseDates("holidays", cfg.Holidays); err != nil {
		return nil, err
	}
	if c.workdays, err = parseDates("workdays", cfg.Workdays); err != nil {
		return nil, err
	}
	for _, d := range c.workdays {
		if _, found := slices.BinarySearch(c.holidays, d); found {
			return nil, fmt.Errorf("workcal: %s is both a holiday and a workday", formatDay(d))
		}
	}

	type exc struct{ day, delta int64 }
	var excs []exc
	for _, d := range c.holidays {
		if !c.weekend[weekdayOf(d)] {
			excs = append(excs, exc{d, -1})
		}
	}
	for _, d := range c.workdays {
		if c.weekend[weekdayOf(d)] {
			excs = append(excs, exc{d, +1})
		}
	}
	slices.SortFunc(excs, func(a, b exc) int { return cmp.Compare(a.day, b.day) })
	c.excDays = make([]int64, len(excs))
	c.excCum = make([]int64, len(excs)+1)
	for i, e := range excs {
		c.excDays[i] = e.day
		c.excCum[i+1] = c.excCum[i] + e.delta
	}
	return c, nil
}

// IsWorkingDay reports whether the Asia/Shanghai calendar day containing t
// is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	day, _ := c.split(t)
	return c.isWorkingDay(day)
}

// NextWorkingInstant returns t if t is in working time, otherwise the start
// of the next working period. It equals Add(t, 0).
func (c *Calendar) NextWorkingInstant(t time.Time) time.Time {
	return c.Add(t, 0)
}

// Add returns the instant at which d of working time has elapsed after
// start, in start's location. If start is outside working time, counting
// begins at the next working period's start; a deadline falling exactly at
// the end of a period is that end instant. A negative d is treated as 0.
//
// Add does not loop over days: whole working days are skipped with a
// logarithmic search over a closed-form count of working days (weekly rule
// plus dated exceptions), so its cost does not grow with d and it cannot
// loop forever. New guarantees at least one regular working weekday, so
// every d has a finite answer.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	d = max(d, 0)
	loc := start.Location()
	day, off := c.split(start)

	// Rest of the start day.
	if c.isWorkingDay(day) {
		for _, p := range c.periods {
			if off >= p.end {
				continue
			}
			s := max(off, p.start)
			avail := p.end - s
			if d <= avail {
				if d == 0 && s == off {
					return start
				}
				return c.join(day, s+d).In(loc)
			}
			d -= avail
		}
	}

	// d is now counted from the start of the next working day. Consume
	// k-1 whole working days and finish inside the k-th, so that a
	// remainder equal to a full day ends at that day's last period end.
	k := int64(1)
	if d > 0 {
		k = 1 + int64((d-1)/c.dayTotal)
		d -= time.Duration(k-1) * c.dayTotal
	}
	y := c.nthWorkingDayAfter(day, k)
	return c.join(y, c.offsetWithin(d)).In(loc)
}

// Between returns the working time in [from, to); it is 0 if to is not
// after from. It saturates at the largest time.Duration for spans too long
// to represent.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	df, of := c.split(from)
	dt, ot := c.split(to)
	days := c.workingDaysBefore(dt) - c.workingDaysBefore(df)
	if days >= int64(math.MaxInt64/c.dayTotal)-1 {
		return math.MaxInt64
	}
	return time.Duration(days)*c.dayTotal + c.elapsedOn(dt, ot) - c.elapsedOn(df, of)
}

// isWorkingDay reports whether day number day is a working day.
func (c *Calendar) isWorkingDay(day int64) bool {
	if _, found := slices.BinarySearch(c.holidays, day); found {
		return false
	}
	if _, found := slices.BinarySearch(c.workdays, day); found {
		return true
	}
	return !c.weekend[weekdayOf(day)]
}

// workingDaysBefore returns the number of working days among the day
// numbers [0, day) (negative for day < 0); only differences are meaningful.
func (c *Calendar) workingDaysBefore(day int64) int64 {
	weeks := floorDiv(day, 7)
	n := weeks*c.workWeek + c.weekPrefix[day-weeks*7]
	i, _ := slices.BinarySearch(c.excDays, day) // exceptions strictly before day
	return n + c.excCum[i]
}

// nthWorkingDayAfter returns the k-th (k >= 1) working day strictly after
// day.
func (c *Calendar) nthWorkingDayAfter(day, k int64) int64 {
	lo := day + 1
	base := c.workingDaysBefore(lo)
	// Past the last exception every week holds exactly workWeek working
	// days, so the answer lies before hi.
	b := lo
	if n := len(c.excDays); n > 0 {
		b = max(b, c.excDays[n-1]+1)
	}
	hi := b + 7*((k+c.workWeek-1)/c.workWeek)
	// Smallest y in [lo, hi) with at least k working days in [lo, y].
	for lo < hi {
		mid := lo + (hi-lo)/2
		if c.workingDaysBefore(mid+1)-base >= k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// offsetWithin returns the wall-clock offset in a working day at which r
// (0 <= r <= dayTotal) of working time has elapsed since the day's first
// period start.
func (c *Calendar) offsetWithin(r time.Duration) time.Duration {
	for _, p := range c.periods {
		l := p.end - p.start
		if r <= l {
			return p.start + r
		}
		r -= l
	}
	last := c.periods[len(c.periods)-1]
	return last.end // unreachable for r <= dayTotal
}

// elapsedOn returns the working time on day before wall-clock offset off.
func (c *Calendar) elapsedOn(day int64, off time.Duration) time.Duration {
	if !c.isWorkingDay(day) {
		return 0
	}
	var sum time.Duration
	for _, p := range c.periods {
		if off <= p.start {
			break
		}
		sum += min(off, p.end) - p.start
	}
	return sum
}

// split returns the Asia/Shanghai day number of t and its wall-clock offset
// from midnight.
func (c *Calendar) split(t time.Time) (day int64, off time.Duration) {
	t = t.In(c.loc)
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	off = time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute +
		time.Duration(ss)*time.Second + time.Duration(t.Nanosecond())
	return dayNumber(y, m, d), off
}

// join is the inverse of split; off may be 24h (next midnight).
func (c *Calendar) join(day int64, off time.Duration) time.Time {
	y, m, d := time.Unix(day*86400, 0).UTC().Date()
	hh := int(off / time.Hour)
	mm := int(off % time.Hour / time.Minute)
	ss := int(off % time.Minute / time.Second)
	ns := int(off % time.Second)
	return time.Date(y, m, d, hh, mm, ss, ns, c.loc)
}

// dayNumber returns the number of days from 1970-01-01 to the given date.
func dayNumber(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

// formatDay formats a day number as YYYY-MM-DD.
func formatDay(day int64) string {
	return time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
}

// weekdayOf returns the weekday of a day number (day 0 was a Thursday).
func weekdayOf(day int64) time.Weekday {
	return time.Weekday(floorMod(day+int64(time.Thursday), 7))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
