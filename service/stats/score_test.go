package stats_test

import (
	"testing"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/stats"
)

// TestScoreWeighsTheRates: the composite score and its weights.
func TestScoreWeighsTheRates(t *testing.T) {
	c := stats.Counts{Registered: 10, Resolved: 8, Closed: 8, OnTime: 6, OpenOverdue: 2, Rated: 4, Satisfied: 3,
		Dispatched: 10, Returned: 1, Reopened: 2}
	// on time 6/10, resolution 8/10, satisfaction 3/4, dispatch 0.9, 1 − reopen 1 − 2/8.
	want := 100 * (0.4*0.6 + 0.2*0.8 + 0.2*0.75 + 0.1*0.9 + 0.1*0.75)
	if got := stats.Score(c, model.DefaultRankingWeights()); got < want-0.01 || got > want+0.01 {
		t.Errorf("score %v, want %v", got, want)
	}
	if got := stats.Score(c, model.RankingWeights{model.RateOnTime: 1}); got != 60 {
		t.Errorf("on time alone: %v, want 60", got)
	}
	// Closing late is not better than not closing: a unit with a ticket open
	// past its deadline and one that closed it late have the same on-time rate.
	open := stats.Counts{Closed: 1, OnTime: 1, OpenOverdue: 1}
	late := stats.Counts{Closed: 2, OnTime: 1}
	if open.OnTimeRate() != late.OnTimeRate() || open.OnTimeRate() != 0.5 {
		t.Errorf("open past due %v, closed late %v; want both 0.5", open.OnTimeRate(), late.OnTimeRate())
	}
}
