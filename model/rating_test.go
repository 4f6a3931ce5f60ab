package model

import (
	"errors"
	"testing"
	"time"
)

func TestIsCaseNo(t *testing.T) {
	for s, want := range map[string]bool{
		"20261207-0042": true, "20261207-12345": true, "20261207-042": false, "2026120-00042": false,
		"6b1688a76ad9743040fd575a": false, "20261207_0042": false, "2026120a-0042": false, "": false,
	} {
		if IsCaseNo(s) != want {
			t.Errorf("IsCaseNo(%q) = %v", s, !want)
		}
	}
}

// TestChangeRating: once, within a day, on the same side of satisfied; the
// statistics move the points of the one rating.
func TestChangeRating(t *testing.T) {
	closed := func() *Ticket {
		tk := fixture(StatusResolved, "")
		tk.Version = 5
		if err := tk.Confirm(Act{At: t0, By: resident}, Feedback{Satisfied: true, Rating: 4}); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	conflict := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v, want conflict", name, err)
		}
	}
	conflict("to unsatisfied", closed().ChangeRating(Act{At: t0.Add(time.Hour), By: resident}, 2, ""))
	conflict("after a day", closed().ChangeRating(Act{At: t0.Add(RatingWindow + time.Minute), By: resident}, 5, ""))
	conflict("without a feedback", fixture(StatusClosed, "").ChangeRating(Act{At: t0, By: resident}, 5, ""))
	if err := closed().ChangeRating(Act{At: t0, By: resident}, 6, ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("rating 6: %v", err)
	}

	before := closed()
	after := *before
	after.Timeline = append([]Event(nil), before.Timeline...)
	if err := after.ChangeRating(Act{At: t0.Add(RatingWindow), By: resident}, 5, "很好"); err != nil {
		t.Fatal(err)
	}
	conflict("a second change", after.ChangeRating(Act{At: t0.Add(RatingWindow), By: resident}, 3, ""))
	d := StatsDelta(before, &after)
	day := PeriodKeys(t0)[0]
	all := d[RollupKey{Period: day, Dim: DimAll}]
	if all[CounterRatingPoints] != 1 || all[CounterScored] != 0 || all[CounterRated] != 0 || all[CounterSatisfied] != 0 {
		t.Errorf("the change's delta on the day it was rated: %v", all)
	}
	if len(d) == 0 {
		t.Fatal("no delta")
	}
	for k, v := range d {
		if v[CounterRatingPoints] != 1 || v[CounterScored] != 0 {
			t.Errorf("delta %v: %v, want only one more rating point", k, v)
		}
	}
}
