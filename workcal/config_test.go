package workcal

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Config
	}{
		{"empty is default", "", DefaultConfig()},
		{
			"full example",
			"periods=08:30-12:00,13:30-17:30;weekend=sat,sun;holidays=2026-01-01,2026-10-01..2026-10-07;workdays=2026-09-27,2026-10-10",
			Config{
				Periods:  []string{"08:30-12:00", "13:30-17:30"},
				Weekend:  []time.Weekday{time.Saturday, time.Sunday},
				Holidays: []string{"2026-01-01", "2026-10-01..2026-10-07"},
				Workdays: []string{"2026-09-27", "2026-10-10"},
			},
		},
		{
			"blanks, case, trailing separators",
			" Periods = 09:00-12:00 , 14:00-18:00 ; WEEKEND=Sunday; holidays=2026-05-01,;",
			Config{
				Periods:  []string{"09:00-12:00", "14:00-18:00"},
				Weekend:  []time.Weekday{time.Sunday},
				Holidays: []string{"2026-05-01"},
			},
		},
		{
			"no weekend",
			"weekend=none",
			Config{Periods: DefaultConfig().Periods},
		},
		{
			"empty weekend",
			"weekend=",
			Config{Periods: DefaultConfig().Periods},
		},
		{
			"round the clock",
			"periods=00:00-24:00;weekend=none",
			Config{Periods: []string{"00:00-24:00"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // must appear in the error message
	}{
		{"holiday=2026-10-01", `unknown key "holiday"`},
		{"periods", `field "periods": want key=value`},
		{"holidays=2026-01-01;holidays=2026-10-01", `duplicate key "holidays"`},
		{"periods=08:30-12:00,11:00-13:00", `"11:00-13:00" overlaps "08:30-12:00"`},
		{"periods=13:30-17:30,08:30-14:00", `"13:30-17:30" overlaps "08:30-14:00"`},
		{"periods=8:30-12:00", `bad period "8:30-12:00"`},
		{"periods=08:30-25:00", `bad period "08:30-25:00"`},
		{"periods=08:60-12:00", `bad period "08:60-12:00"`},
		{"periods=12:00-08:30", `bad period "12:00-08:30": start is not before end`},
		{"periods=08:30–12:00", `bad period "08:30–12:00"`}, // en dash
		{"periods=08:30", `bad period "08:30"`},
		{"periods=", "no working periods"},
		{"weekend=sat,sunday,funday", `unknown weekday "funday"`},
		{"weekend=mon,tue,wed,thu,fri,sat,sun", "all seven weekdays"},
		{"holidays=2026-13-01", `bad date "2026-13-01"`},
		{"holidays=2026-02-30", `bad date "2026-02-30"`},
		{"holidays=2026-1-01", `bad date "2026-1-01"`},
		{"holidays=20261001", `bad date "20261001"`},
		{"workdays=2026-10-10,2026/10/11", `workdays: bad date "2026/10/11"`},
		{"holidays=2026-10-01..2026-1-07", `bad date "2026-1-07" in "2026-10-01..2026-1-07"`},
		{"holidays=2026-10-07..2026-10-01", `range "2026-10-07..2026-10-01" ends before it starts`},
		{"holidays=2026-01-01..2027-06-01", `range "2026-01-01..2027-06-01" is longer than 366 days`},
		{"holidays=2026-10-01;workdays=2026-10-01", "2026-10-01 is both a holiday and a workday"},
		{"holidays=2026-10-01..2026-10-07;workdays=2026-10-05", "2026-10-05 is both a holiday and a workday"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero config", Config{}, "no working periods"},
		{"bad weekday", Config{Periods: []string{"08:00-12:00"}, Weekend: []time.Weekday{7}}, "invalid weekday 7"},
		{"overlap", Config{Periods: []string{"08:00-12:00", "12:00-13:00", "12:30-14:00"}}, `"12:30-14:00" overlaps "12:00-13:00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// Adjacent periods are fine and behave like one.
	c := mustNew(t, Config{Periods: []string{"08:00-10:00", "10:00-12:00"}})
	if got, want := c.Add(at(t, "2026-03-09 09:00"), 2*time.Hour), at(t, "2026-03-09 11:00"); !got.Equal(want) {
		t.Errorf("adjacent periods: got %s, want %s", got, want)
	}
}

func TestPresets(t *testing.T) {
	if _, err := New(DefaultConfig()); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	cfg := China2026()
	if _, err := New(cfg); err != nil {
		t.Fatalf("China2026: %v", err)
	}
	holidays, err := parseDates("holidays", cfg.Holidays)
	if err != nil {
		t.Fatal(err)
	}
	// 元旦 3 + 春节 9 + 清明 3 + 劳动 5 + 端午 3 + 中秋 3 + 国庆 7.
	if len(holidays) != 33 {
		t.Errorf("China2026 has %d holiday dates, want 33", len(holidays))
	}
	workdays, err := parseDates("workdays", cfg.Workdays)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range workdays {
		if wd := weekdayOf(d); wd != time.Saturday && wd != time.Sunday {
			t.Errorf("调休 day %s is a %s, want a weekend day", formatDay(d), wd)
		}
	}
	if len(workdays) != 6 {
		t.Errorf("China2026 has %d 调休 days, want 6", len(workdays))
	}
	// Presets return fresh slices: mutating one must not affect the next.
	cfg.Holidays[0] = "garbage"
	if _, err := New(China2026()); err != nil {
		t.Errorf("China2026 after mutating a previous result: %v", err)
	}
}
