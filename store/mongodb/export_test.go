package mongodb

import (
	"context"
	"fmt"

	"github.com/citizen-city/chengguantong/model"
)

// RollupID names the roll-up document that holds a key, for tests.
func RollupID(period, dim, key string) string { return rollupID(period, dim, key) }

// EncodeRollup packs rows as a roll-up document holds them, for tests.
func EncodeRollup(rows []model.RollupRow) []byte { return encodeRollup(rows) }

// CountCutShort counts what is pending as one batch and stops before
// clearing the marks, holding the lease: as an applier that died there
// (the lease is then given up, as it would expire).
func (s *Stats) CountCutShort(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, err := s.take(ctx); err != nil || !ok {
		return 0, fmt.Errorf("lease: %v %v", ok, err)
	}
	defer s.drop(ctx)
	if _, err := s.count(ctx, 0); err != nil { // the last batch, known
		return 0, err
	}
	entries, err := s.pending(ctx, batchMax)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	b := batchDoc{ID: batchID(s.last + 1), Seq: s.last + 1, At: s.now().UTC()}
	sum := model.Contribution{}
	for _, e := range entries {
		b.Entries = append(b.Entries, e.ID)
		if err := decodeDelta(e.Delta, func(r model.RollupRow) {
			sum.Add(model.Contribution{{Period: r.Period, Dim: r.Dim, Key: r.Key}: r.Values})
		}); err != nil {
			return 0, err
		}
	}
	// Half the documents, as a crash in the middle of the bulk write.
	rows := sum.Rows()
	if err := s.rollups.Apply(ctx, b.Seq, b.At, rows[:len(rows)/2], &b); err != nil {
		return 0, err
	}
	return len(entries), nil
}
