package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// LogEntry identifies one committed ticket transition, for the statistics
// applier that counts it.
type LogEntry struct {
	ID      string
	Ticket  string
	Version int64
	// Seq is the applier's number for it; 0 until taken up.
	Seq int64
}

// The statistics counters, as indexes of RollupValues.
const (
	CounterReported = iota
	CounterRegistered
	CounterResolved
	CounterClosed
	CounterOnTime
	CounterOverdue
	CounterReopened
	CounterRated
	CounterSatisfied
	CounterHours // the only one that is not a whole number
	CounterPartyResolved
	CounterParticipations
	// The evaluation's counters (appended: a stored roll-up's bit mask of
	// counters stays valid).
	CounterDispatched   // 派遣: dispatch events
	CounterReturned     // 退回 by the assignee
	CounterExtended     // 延期 approved
	CounterDeferred     // 挂账
	CounterUrged        // 督办
	CounterVerifyFailed // 核查 failed (返工)
	CounterSelfHandled  // 自处置 patrol cases
	CounterPhotoFlagged // resolutions whose photos want a 核查
	CounterOpenOverdue  // still open past the deadline (the on-time rate's other half)
	// The residents' ratings: each ticket's latest rating (1–5) counts
	// once, at the time it was given, and follows a change of it.
	CounterScored       // tickets with a rating
	CounterRatingPoints // the sum of their ratings (mean = points ÷ scored)
	NumCounters
)

// CounterName is a counter's name (the key of the first, JSON, roll-up
// encoding).
func CounterName(i int) string {
	switch i {
	case CounterReported:
		return "reported"
	case CounterRegistered:
		return "registered"
	case CounterResolved:
		return "resolved"
	case CounterClosed:
		return "closed"
	case CounterOnTime:
		return "on_time"
	case CounterOverdue:
		return "overdue"
	case CounterReopened:
		return "reopened"
	case CounterRated:
		return "rated"
	case CounterSatisfied:
		return "satisfied"
	case CounterHours:
		return "hours"
	case CounterPartyResolved:
		return "party_resolved"
	case CounterParticipations:
		return "participations"
	case CounterDispatched:
		return "dispatched"
	case CounterReturned:
		return "returned"
	case CounterExtended:
		return "extended"
	case CounterDeferred:
		return "deferred"
	case CounterUrged:
		return "urged"
	case CounterVerifyFailed:
		return "verify_failed"
	case CounterSelfHandled:
		return "self_handled"
	case CounterPhotoFlagged:
		return "photo_flagged"
	case CounterOpenOverdue:
		return "open_overdue"
	case CounterScored:
		return "scored"
	case CounterRatingPoints:
		return "rating_points"
	}
	return ""
}

// RollupValues are one roll-up key's counters, indexed by the Counter
// constants.
type RollupValues [NumCounters]float64

// RollupRow is one key's counters in one statistics roll-up: a period
// bucket, a dimension and its key.
type RollupRow struct {
	Period, Dim, Key string
	Values           RollupValues
}

// The rates /stats/ranking weighs, by their API names. reopen_rate counts
// against a unit (its complement is scored).
const (
	RateOnTime       = "on_time_rate"
	RateResolution   = "resolution_rate"
	RateSatisfaction = "satisfaction_rate"
	RateDispatch     = "dispatch_accuracy"
	RateReopen       = "reopen_rate"
)

// RankingRates are the rates a ranking may weigh, in order.
var RankingRates = []string{RateOnTime, RateResolution, RateSatisfaction, RateDispatch, RateReopen}

// RankingWeights weigh the rates in the ranking's composite score: score =
// 100 × Σ weight × rate ÷ Σ weight (1 − reopen_rate for reopen_rate).
type RankingWeights map[string]float64

// DefaultRankingWeights are the weights without RANKING_WEIGHTS: 按期结案率
// 0.4, 结案率 0.2, 满意率 0.2, 派遣准确率 0.1, 返工率 0.1.
func DefaultRankingWeights() RankingWeights {
	return RankingWeights{RateOnTime: 0.4, RateResolution: 0.2, RateSatisfaction: 0.2, RateDispatch: 0.1, RateReopen: 0.1}
}

// ParseRankingWeights parses "on_time_rate=0.5,satisfaction_rate=0.5": rates
// not named weigh 0. Errors name an unknown rate, a weight that is not a
// number ≥ 0, or weights that sum to 0.
func ParseRankingWeights(s string) (RankingWeights, error) {
	w := RankingWeights{}
	sum := 0.0
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || !slices.Contains(RankingRates, k) {
			return nil, fmt.Errorf("%q: each item must be rate=weight, rate one of %s", item, strings.Join(RankingRates, ", "))
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q: the weight must be a number ≥ 0", item)
		}
		if _, dup := w[k]; dup {
			return nil, fmt.Errorf("%q: %s is weighted twice", item, k)
		}
		w[k] = f
		sum += f
	}
	if sum == 0 {
		return nil, fmt.Errorf("the weights sum to 0; give at least one rate a positive weight")
	}
	return w, nil
}
