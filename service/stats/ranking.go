package stats

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/citizen-city/chengguantong/model"
)

// RankingItem is one unit of a ranking: its key and name, its rank (1 is
// best; 0 for a unit left out), its composite score (0..100), its sample
// (closed tickets plus those open past the deadline) and its counts.
type RankingItem struct {
	Key, Name string
	Rank      int
	Score     float64
	Sample    int64
	Counts
}

// Ranking is /stats/ranking: units of one kind ranked by the weighted
// score of their rates; units with fewer than MinSample tickets are listed
// apart, unranked (too few to judge).
type Ranking struct {
	Period    Period
	By        string
	MinSample int
	Weights   model.RankingWeights
	Items     []RankingItem
	Excluded  []RankingItem
}

// RankingRate is the rate named by a ranking weight, as the score uses it.
func RankingRate(c Counts, rate string) float64 {
	switch rate {
	case model.RateOnTime:
		return c.OnTimeRate()
	case model.RateResolution:
		return c.ResolutionRate()
	case model.RateSatisfaction:
		return c.SatisfactionRate()
	case model.RateDispatch:
		return c.DispatchAccuracy()
	case model.RateReopen:
		return 1 - min(1, c.ReopenRate())
	}
	return 0
}

// Score is the composite score of c: 100 × Σ weight × rate ÷ Σ weight.
func Score(c Counts, w model.RankingWeights) float64 {
	sum, total := 0.0, 0.0
	for _, r := range model.RankingRates {
		sum += w[r] * RankingRate(c, r)
		total += w[r]
	}
	if total == 0 {
		return 0
	}
	return math.Round(10000*sum/total) / 100
}

// Ranking ranks the grids, communities or workers of a period. Ties in
// score go to the larger sample, then the key. Errors: invalid_argument
// (by, min_sample).
func (s *Service) Ranking(ctx context.Context, p Period, by string, minSample int) (*Ranking, error) {
	switch by {
	case ByGrid, ByCommunity, ByWorker:
	default:
		return nil, model.Invalid("by", "只能是 grid、community 或 worker，收到 %q", by)
	}
	if minSample < 0 {
		return nil, model.Invalid("min_sample", "不能为负数")
	}
	sum, err := s.Summary(ctx, p, by)
	if err != nil {
		return nil, err
	}
	w := s.weights
	if len(w) == 0 {
		w = model.DefaultRankingWeights()
	}
	out := &Ranking{Period: p, By: by, MinSample: minSample, Weights: w}
	for _, g := range sum.Groups {
		it := RankingItem{Key: g.Key, Name: g.Name, Sample: g.Sample(), Counts: g.Counts}
		if it.Sample < int64(minSample) || it.Sample == 0 {
			out.Excluded = append(out.Excluded, it)
			continue
		}
		it.Score = Score(g.Counts, w)
		out.Items = append(out.Items, it)
	}
	slices.SortFunc(out.Items, func(a, b RankingItem) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Sample, a.Sample), cmp.Compare(a.Key, b.Key))
	})
	for i := range out.Items {
		out.Items[i].Rank = i + 1
	}
	slices.SortFunc(out.Excluded, func(a, b RankingItem) int {
		return cmp.Or(cmp.Compare(b.Sample, a.Sample), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}
