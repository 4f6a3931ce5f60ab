package workcal

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04[:05]" in Asia/Shanghai.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	tm, err := time.ParseInLocation(layout, s, shanghai(t))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mustNew(t testing.TB, cfg Config) *Calendar {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

// Dates used below (2026): 03-06 Fri, 03-09 Mon; 02-14 Sat (调休 workday);
// 09-20 Sun (调休); 10-01..10-07 国庆; 10-10 Sat (调休).
func TestAdd(t *testing.T) {
	c := mustNew(t, China2026())
	tests := []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		// Same day.
		{"same day", "2026-03-09 08:30", 2 * time.Hour, "2026-03-09 10:30"},
		{"same day afternoon", "2026-03-09 14:00", 90 * time.Minute, "2026-03-09 15:30"},
		{"zero in working time", "2026-03-09 10:17:23", 0, "2026-03-09 10:17:23"},
		{"negative is zero", "2026-03-09 10:00", -time.Hour, "2026-03-09 10:00"},
		// Across lunch.
		{"across lunch", "2026-03-09 11:00", 2 * time.Hour, "2026-03-09 14:30"},
		{"ends exactly at lunch", "2026-03-09 08:30", hm(3, 30), "2026-03-09 12:00"},
		{"just past lunch end", "2026-03-09 08:30", hm(3, 31), "2026-03-09 13:31"},
		{"start during lunch", "2026-03-09 12:45", time.Hour, "2026-03-09 14:30"},
		// Across evening.
		{"full day ends at 17:30", "2026-03-09 08:30", hm(7, 30), "2026-03-09 17:30"},
		{"8h from Monday 08:30", "2026-03-09 08:30", 8 * time.Hour, "2026-03-10 09:00"},
		{"across evening", "2026-03-09 17:00", time.Hour, "2026-03-10 09:00"},
		{"24 working hours", "2026-03-09 08:30", 24 * time.Hour, "2026-03-12 10:00"},
		{"two full days", "2026-03-09 08:30", 15 * time.Hour, "2026-03-10 17:30"},
		// Across weekend.
		{"across weekend", "2026-03-06 16:30", 2 * time.Hour, "2026-03-09 09:30"},
		{"start on Saturday", "2026-03-07 10:00", time.Hour, "2026-03-09 09:30"},
		{"full week", "2026-03-09 08:30", hm(37, 30), "2026-03-13 17:30"},
		{"one week and a bit", "2026-03-06 17:00", hm(38, 30), "2026-03-16 09:00"},
		// 国庆 week with 调休 days.
		{"into 国庆", "2026-09-30 16:00", 4 * time.Hour, "2026-10-08 11:00"},
		{"onto 调休 Saturday 10-10", "2026-10-09 16:00", 4 * time.Hour, "2026-10-10 11:00"},
		{"24h over 国庆", "2026-09-30 08:30", 24 * time.Hour, "2026-10-10 10:00"},
		{"onto 调休 Sunday 09-20", "2026-09-18 17:00", time.Hour, "2026-09-20 09:00"},
		{"over 中秋 to 国庆", "2026-09-24 08:30", 30 * time.Hour, "2026-09-30 17:30"},
		{"春节 调休 Saturday 02-14", "2026-02-13 17:00", 2 * time.Hour, "2026-02-14 10:00"},
		{"over 春节", "2026-02-14 17:00", time.Hour, "2026-02-24 09:00"},
		{"over 元旦 to 调休 Sunday", "2025-12-31 17:00", time.Hour, "2026-01-04 09:00"},
		// Start on a holiday.
		{"start on holiday", "2026-10-03 10:00", 2 * time.Hour, "2026-10-08 10:30"},
		{"start on holiday, zero", "2026-10-01 00:00", 0, "2026-10-08 08:30"},
		{"start on holiday weekday", "2026-05-04 09:00", hm(7, 30), "2026-05-06 17:30"},
		// Start exactly at a period boundary.
		{"at period start, zero", "2026-03-09 08:30", 0, "2026-03-09 08:30"},
		{"at period end, zero", "2026-03-09 12:00", 0, "2026-03-09 13:30"},
		{"at period end", "2026-03-09 12:00", time.Hour, "2026-03-09 14:30"},
		{"at afternoon start", "2026-03-09 13:30", 4 * time.Hour, "2026-03-09 17:30"},
		{"at day end", "2026-03-09 17:30", time.Hour, "2026-03-10 09:30"},
		{"at day end, zero", "2026-03-09 17:30", 0, "2026-03-10 08:30"},
		{"one second before start", "2026-03-09 08:29:59", time.Second, "2026-03-09 08:30:01"},
		{"one second before end", "2026-03-09 17:29:59", time.Second, "2026-03-09 17:30"},
		{"one second before end, 2s", "2026-03-09 17:29:59", 2 * time.Second, "2026-03-10 08:30:01"},
		// Start at 23:59.
		{"23:59 Monday", "2026-03-09 23:59", time.Hour, "2026-03-10 09:30"},
		{"23:59 Monday, zero", "2026-03-09 23:59", 0, "2026-03-10 08:30"},
		{"23:59 Friday", "2026-03-06 23:59", time.Hour, "2026-03-09 09:30"},
		{"23:59 before 国庆", "2026-09-30 23:59", 2 * time.Hour, "2026-10-08 10:30"},
		// Large d.
		{"1000 working hours", "2026-01-05 08:30", 1000 * time.Hour, "2026-07-21 11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.start)
			got := c.Add(start, tt.d)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.start, tt.d, got.Format(time.DateTime), want.Format(time.DateTime))
			}
			if tt.d >= 0 {
				if b := c.Between(start, got); b != tt.d {
					t.Errorf("Between(%s, Add(..)) = %v, want %v", tt.start, b, tt.d)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	c := mustNew(t, China2026())
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{"same period", "2026-03-09 09:00", "2026-03-09 10:15", hm(1, 15)},
		{"across lunch", "2026-03-09 11:00", "2026-03-09 14:30", 2 * time.Hour},
		{"inside lunch", "2026-03-09 12:10", "2026-03-09 13:20", 0},
		{"whole day", "2026-03-09 00:00", "2026-03-10 00:00", hm(7, 30)},
		{"weekend", "2026-03-06 17:00", "2026-03-09 09:00", time.Hour},
		{"whole weekend", "2026-03-07 00:00", "2026-03-09 00:00", 0},
		{"国庆 week", "2026-10-01 00:00", "2026-10-08 00:00", 0},
		{"with 调休 Saturday", "2026-10-08 08:30", "2026-10-12 08:30", 3 * hm(7, 30)},
		{"year 2026", "2026-01-01 00:00", "2027-01-01 00:00", 248 * hm(7, 30)},
		{"equal", "2026-03-09 10:00", "2026-03-09 10:00", 0},
		{"reversed", "2026-03-10 10:00", "2026-03-09 10:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Between(at(t, tt.from), at(t, tt.to)); got != tt.want {
				t.Errorf("Between(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := mustNew(t, China2026())
	tests := []struct {
		day  string
		want bool
	}{
		{"2026-01-01", false}, // 元旦
		{"2026-01-04", true},  // Sunday, 调休
		{"2026-01-05", true},
		{"2026-02-14", true}, // Saturday, 调休
		{"2026-02-16", false},
		{"2026-02-23", false}, // Monday, 春节
		{"2026-02-24", true},
		{"2026-02-28", true}, // Saturday, 调休
		{"2026-03-07", false},
		{"2026-04-06", false}, // 清明
		{"2026-05-05", false}, // 劳动节
		{"2026-05-09", true},  // Saturday, 调休
		{"2026-06-19", false}, // 端午
		{"2026-09-20", true},  // Sunday, 调休
		{"2026-09-25", false}, // 中秋
		{"2026-10-07", false}, // 国庆
		{"2026-10-08", true},
		{"2026-10-10", true}, // Saturday, 调休
		{"2026-10-11", false},
		{"2027-01-01", true}, // Friday; no 2027 data, weekly rule only
	}
	for _, tt := range tests {
		// Shanghai 00:00 and 07:59 fall on the previous UTC day; the
		// answer must not depend on the input's location.
		for _, clock := range []string{" 00:00", " 07:59", " 23:59"} {
			tm := at(t, tt.day+clock)
			if got := c.IsWorkingDay(tm); got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.day+clock, got, tt.want)
			}
			if got := c.IsWorkingDay(tm.UTC()); got != tt.want {
				t.Errorf("IsWorkingDay(%s in UTC) = %v, want %v", tt.day+clock, got, tt.want)
			}
		}
	}

	n := 0
	for d := at(t, "2026-01-01 12:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	// 261 weekdays - 19 weekday holidays + 6 调休 weekend days.
	if n != 248 {
		t.Errorf("2026 has %d working days, want 248", n)
	}
}

func TestNextWorkingInstant(t *testing.T) {
	c := mustNew(t, China2026())
	tests := []struct{ in, want string }{
		{"2026-03-09 08:00", "2026-03-09 08:30"},
		{"2026-03-09 08:30", "2026-03-09 08:30"},
		{"2026-03-09 11:59:59", "2026-03-09 11:59:59"},
		{"2026-03-09 12:00", "2026-03-09 13:30"},
		{"2026-03-09 17:30", "2026-03-10 08:30"},
		{"2026-03-06 18:00", "2026-03-09 08:30"},
		{"2026-09-30 17:30", "2026-10-08 08:30"},
		{"2026-10-09 23:59", "2026-10-10 08:30"},
	}
	for _, tt := range tests {
		if got := c.NextWorkingInstant(at(t, tt.in)); !got.Equal(at(t, tt.want)) {
			t.Errorf("NextWorkingInstant(%s) = %s, want %s", tt.in, got.Format(time.DateTime), tt.want)
		}
	}
}

// TestLocations checks that the instant does not depend on the input's
// location and that the output keeps the input's location.
func TestLocations(t *testing.T) {
	c := mustNew(t, China2026())
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	base := at(t, "2026-01-01 00:00")
	for i := range 2000 {
		s := base.Add(time.Duration(rng.Int64N(int64(365*24*time.Hour))) / time.Minute * time.Minute)
		d := time.Duration(rng.Int64N(int64(200*time.Hour))) / time.Minute * time.Minute
		want := c.Add(s, d)
		for _, loc := range []*time.Location{time.UTC, ny} {
			in := s.In(loc)
			got := c.Add(in, d)
			if !got.Equal(want) || got.Location() != loc {
				t.Fatalf("case %d: Add(%s, %v) = %s, want %s in %s", i, in, d, got, want.In(loc), loc)
			}
			if b := c.Between(in, got); b != d {
				t.Fatalf("case %d: Between in %s = %v, want %v", i, loc, b, d)
			}
			if c.IsWorkingDay(in) != c.IsWorkingDay(s) {
				t.Fatalf("case %d: IsWorkingDay differs in %s", i, loc)
			}
		}
	}
	// Explicit: Monday 2026-03-09 08:30 Shanghai is Monday 00:30 UTC.
	if got, want := c.Add(time.Date(2026, 3, 9, 0, 30, 0, 0, time.UTC), 8*time.Hour),
		time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("UTC input: got %s, want %s", got, want)
	}
}

// TestDSTFree checks that Shanghai stays UTC+8 all of 2026 and that inputs
// in a zone with DST transitions (New York, 2026-03-08 and 2026-11-01) do
// not disturb the working-time arithmetic.
func TestDSTFree(t *testing.T) {
	c := mustNew(t, China2026())
	for d := at(t, "2026-01-01 00:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if _, off := d.Zone(); off != 8*3600 {
			t.Fatalf("%s: Shanghai offset %d, want +8h", d, off)
		}
		want := time.Duration(0)
		if c.IsWorkingDay(d) {
			want = hm(7, 30)
		}
		if got := c.Between(d, d.AddDate(0, 0, 1)); got != want {
			t.Fatalf("%s: working time %v, want %v", d.Format(time.DateOnly), got, want)
		}
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time // New York wall clock
		want     time.Duration
	}{
		// Fri 2026-03-06 04:30 EST = Fri 17:30 CST(+8); Sun 2026-03-08 21:30 EDT = Mon 09:30.
		{"spring forward", time.Date(2026, 3, 6, 4, 30, 0, 0, ny), time.Date(2026, 3, 8, 21, 30, 0, 0, ny), time.Hour},
		// Fri 2026-10-30 05:30 EDT = Fri 17:30; Sun 2026-11-01 20:30 EST = Mon 09:30.
		{"fall back", time.Date(2026, 10, 30, 5, 30, 0, 0, ny), time.Date(2026, 11, 1, 20, 30, 0, 0, ny), time.Hour},
	}
	for _, tt := range tests {
		if got := c.Between(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: Between = %v, want %v", tt.name, got, tt.want)
		}
		if got := c.Add(tt.from, tt.want); !got.Equal(tt.to) || got.Location() != ny {
			t.Errorf("%s: Add = %s, want %s", tt.name, got, tt.to)
		}
	}
}

// TestAddBetweenInverse is the randomized check of Between(s, Add(s, d)) == d
// over 2026 with China2026, plus a comparison with a naive day-by-day
// reference implementation.
func TestAddBetweenInverse(t *testing.T) {
	c := mustNew(t, China2026())
	sh := shanghai(t)
	rng := rand.New(rand.NewPCG(2026, 10))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, sh)
	year := int64(365 * 24 * time.Hour)
	const cases = 5000
	for i := range cases {
		s := base.Add(time.Duration(rng.Int64N(year)))
		switch rng.IntN(3) {
		case 0: // on a minute, to hit period boundaries often
			s = s.Truncate(30 * time.Minute)
		case 1:
			s = s.Truncate(time.Second)
		}
		var d time.Duration
		switch rng.IntN(4) {
		case 0:
			d = time.Duration(rng.Int64N(int64(8*time.Hour))) / time.Minute * time.Minute
		case 1:
			d = time.Duration(rng.Int64N(101)) * 30 * time.Minute
		case 2:
			d = time.Duration(rng.Int64N(int64(1000 * time.Hour)))
		default:
			d = time.Duration(rng.Int64N(int64(1000*time.Hour))) / time.Second * time.Second
		}
		got := c.Add(s, d)
		if got.Before(s) {
			t.Fatalf("case %d: Add(%s, %v) = %s is before start", i, s, d, got)
		}
		if b := c.Between(s, got); b != d {
			t.Fatalf("case %d: Between(%s, Add(.., %v) = %s) = %v", i, s, d, got, b)
		}
		if want := naiveAdd(c, s, d); !got.Equal(want) {
			t.Fatalf("case %d: Add(%s, %v) = %s, naive %s", i, s, d, got, want)
		}
		// Between against the naive sum, and additivity.
		u := s.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		if got, want := c.Between(s, u), naiveBetween(c, s, u); got != want {
			t.Fatalf("case %d: Between(%s, %s) = %v, naive %v", i, s, u, got, want)
		}
		m := s.Add(u.Sub(s) / 3)
		if c.Between(s, u) != c.Between(s, m)+c.Between(m, u) {
			t.Fatalf("case %d: Between not additive over %s, %s, %s", i, s, m, u)
		}
	}
}

// defaultPeriods mirrors DefaultConfig for the naive reference.
var defaultPeriods = [][2]time.Duration{{hm(8, 30), hm(12, 0)}, {hm(13, 30), hm(17, 30)}}

// naiveAdd walks period by period, day by day.
func naiveAdd(c *Calendar, s time.Time, d time.Duration) time.Time {
	sh := c.loc
	y, m, dd := s.In(sh).Date()
	for day := time.Date(y, m, dd, 0, 0, 0, 0, sh); ; day = day.AddDate(0, 0, 1) {
		if !c.IsWorkingDay(day) {
			continue
		}
		for _, p := range defaultPeriods {
			ps, pe := day.Add(p[0]), day.Add(p[1])
			if !pe.After(s) {
				continue
			}
			from := ps
			if s.After(ps) {
				from = s
			}
			if avail := pe.Sub(from); d <= avail {
				return from.Add(d)
			} else {
				d -= avail
			}
		}
	}
}

// naiveBetween sums the overlap of [from, to) with every working period.
func naiveBetween(c *Calendar, from, to time.Time) time.Duration {
	sh := c.loc
	var sum time.Duration
	y, m, dd := from.In(sh).Date()
	for day := time.Date(y, m, dd, 0, 0, 0, 0, sh); day.Before(to); day = day.AddDate(0, 0, 1) {
		if !c.IsWorkingDay(day) {
			continue
		}
		for _, p := range defaultPeriods {
			ps, pe := day.Add(p[0]), day.Add(p[1])
			if from.After(ps) {
				ps = from
			}
			if to.Before(pe) {
				pe = to
			}
			if pe.After(ps) {
				sum += pe.Sub(ps)
			}
		}
	}
	return sum
}

func TestRoundTheClock(t *testing.T) {
	c := mustNew(t, Config{Periods: []string{"00:00-24:00"}})
	s := at(t, "2026-10-01 13:37:01")
	for _, d := range []time.Duration{0, time.Nanosecond, 10 * time.Hour, 24 * time.Hour, 1000 * time.Hour} {
		if got := c.Add(s, d); !got.Equal(s.Add(d)) {
			t.Errorf("Add(%v) = %s, want %s", d, got, s.Add(d))
		}
		if got := c.Between(s, s.Add(d)); got != d {
			t.Errorf("Between = %v, want %v", got, d)
		}
	}
	// Midnight is an end instant: a full day from 00:00 ends at the next 00:00.
	if got, want := c.Add(at(t, "2026-03-09 00:00"), 24*time.Hour), at(t, "2026-03-10 00:00"); !got.Equal(want) {
		t.Errorf("full day = %s, want %s", got, want)
	}
}

func TestLongHolidayAndHugeDuration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Holidays = []string{"2026-01-01..2026-06-05", "2026-06-07..2026-12-31", "2027-01-01..2027-12-31"}
	cfg.Workdays = []string{"2026-06-06"} // a Saturday
	c := mustNew(t, cfg)
	if got, want := c.Add(at(t, "2025-12-31 17:00"), time.Hour), at(t, "2026-06-06 09:00"); !got.Equal(want) {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := c.Add(at(t, "2026-06-06 17:00"), time.Hour), at(t, "2028-01-03 09:00"); !got.Equal(want) {
		t.Errorf("got %s, want %s", got, want)
	}

	// The largest duration terminates promptly and lands far in the future.
	s := at(t, "2026-03-09 08:30")
	got := c.Add(s, math.MaxInt64)
	if got.Year() < 2026+900 {
		t.Errorf("Add(MaxInt64) = %s, want about a thousand years later", got)
	}
	if b := c.Between(s, got); b != math.MaxInt64 {
		t.Errorf("Between(s, Add(s, MaxInt64)) = %v", b)
	}
}

func BenchmarkAdd(b *testing.B) {
	c := mustNew(b, China2026())
	starts := []time.Time{
		at(b, "2026-03-09 10:17"),
		at(b, "2026-09-30 16:00"),
		at(b, "2026-02-13 23:59"),
		at(b, "2026-10-03 09:00"),
	}
	for _, bc := range []struct {
		name string
		d    time.Duration
	}{{"d=24h", 24 * time.Hour}, {"d=1000h", 1000 * time.Hour}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				_ = c.Add(starts[i%len(starts)], bc.d)
				i++
			}
		})
	}
}
