package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colRollups    = "rollups"
	colStatsState = "stats_state"
)

// Rollups are the statistics' running counters: one document per period ×
// dimension × key (d20261125|grid|320106001001001), changed by $inc.
//
// Each document carries a watermark: the sequence number of the last event
// applied to it. The single statistics applier numbers events in the order
// it applies them, and an $inc is conditioned on the watermark being below
// the event's number — so an event retried or replayed after a crash is
// applied to each document at most once.
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
}

// NewRollups returns the roll-up store of m.
func NewRollups(m *Mongo) *Rollups {
	return &Rollups{c: m.db.Collection(colRollups), state: m.db.Collection(colStatsState)}
}

func rollupID(period, dim, key string) string { return period + "|" + dim + "|" + key }

// Applied returns the number of the last event fully applied.
func (s *Rollups) Applied(ctx context.Context) (int64, error) {
	var d struct {
		Applied int64 `bson:"applied"`
	}
	err := s.state.FindOne(ctx, bson.M{"_id": "applier"}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stats state: %w", translate(err))
	}
	return d.Applied, nil
}

// SetApplied records that event seq is fully applied.
func (s *Rollups) SetApplied(ctx context.Context, seq int64) error {
	_, err := s.state.UpdateOne(ctx, bson.M{"_id": "applier"}, bson.M{"$set": bson.M{"applied": seq}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats state: %w", translate(err))
	}
	return nil
}

// Apply adds event seq's deltas, skipping the documents that already have
// it: their watermark filter does not match, and the upsert then collides
// on _id. (One update per document: FerretDB's bulk updates do not report
// such collisions reliably.)
func (s *Rollups) Apply(ctx context.Context, seq int64, rows []model.RollupRow) error {
	for _, r := range rows {
		inc := bson.M{}
		for k, v := range r.Values {
			inc[k] = v
		}
		_, err := s.c.UpdateOne(ctx,
			bson.M{"_id": rollupID(r.Period, r.Dim, r.Key), "wm": bson.M{"$lt": seq}},
			bson.M{"$inc": inc, "$set": bson.M{"wm": seq, "period": r.Period, "dim": r.Dim, "key": r.Key}},
			options.UpdateOne().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) {
			continue // the document already has this event
		}
		if err != nil {
			return fmt.Errorf("apply roll-up: %w", translate(err))
		}
	}
	return nil
}

// Read returns the documents of a dimension for the given period buckets.
func (s *Rollups) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	cur, err := s.c.Find(ctx, bson.M{"dim": dim, "period": bson.M{"$in": periods}})
	if err != nil {
		return nil, fmt.Errorf("read roll-ups: %w", translate(err))
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read roll-ups: %w", translate(err))
	}
	out := make([]model.RollupRow, 0, len(docs))
	for _, d := range docs {
		r := model.RollupRow{Values: map[string]float64{}}
		r.Period, _ = d["period"].(string)
		r.Dim, _ = d["dim"].(string)
		r.Key, _ = d["key"].(string)
		for k, v := range d {
			switch k {
			case "_id", "period", "dim", "key", "wm":
				continue
			}
			r.Values[k] = number(v)
		}
		out = append(out, r)
	}
	return out, nil
}

func number(v any) float64 {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// Replace drops every roll-up and writes rows instead, all at watermark
// seq: the rebuild.
func (s *Rollups) Replace(ctx context.Context, seq int64, rows []model.RollupRow) error {
	if _, err := s.c.DeleteMany(ctx, bson.M{}); err != nil {
		return fmt.Errorf("clear roll-ups: %w", translate(err))
	}
	const batch = 1000
	docs := make([]any, 0, batch)
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		docs = docs[:0]
		if err != nil {
			return fmt.Errorf("write roll-ups: %w", translate(err))
		}
		return nil
	}
	for _, r := range rows {
		d := bson.M{"_id": rollupID(r.Period, r.Dim, r.Key), "period": r.Period, "dim": r.Dim, "key": r.Key, "wm": seq}
		for k, v := range r.Values {
			d[k] = v
		}
		docs = append(docs, d)
		if len(docs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return s.SetApplied(ctx, seq)
}
