package model

import (
	"strings"
	"testing"
)

func TestParseRankingWeights(t *testing.T) {
	w, err := ParseRankingWeights(" on_time_rate=0.5, satisfaction_rate=0.5 ")
	if err != nil || len(w) != 2 || w[RateOnTime] != 0.5 || w[RateSatisfaction] != 0.5 {
		t.Fatalf("weights %v, %v", w, err)
	}
	for in, msg := range map[string]string{
		"speed=1":                         "rate one of",
		"on_time_rate":                    "rate=weight",
		"on_time_rate=-1":                 "≥ 0",
		"on_time_rate=x":                  "≥ 0",
		"on_time_rate=0":                  "sum to 0",
		"on_time_rate=1,on_time_rate=2":   "twice",
		"on_time_rate=NaN":                "≥ 0",
		"reopen_rate=1,dispatch_accuracy": "rate=weight",
	} {
		if _, err := ParseRankingWeights(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want an error saying %q", in, err, msg)
		}
	}
	sum := 0.0
	for _, r := range RankingRates {
		sum += DefaultRankingWeights()[r]
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("the default weights sum to %v", sum)
	}
}
