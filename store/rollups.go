package store

import (
	"context"
	"encoding/json"
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

// Rollups are the statistics' running counters: one document per period
// bucket × dimension (y2026|grid), holding every key's counters packed in
// one binary value ({k: <binary>}). A summary reads a handful of documents
// by _id whatever the number of grids, and decoding one value is cheap on
// any server (FerretDB decodes a document's fields one by one, which made a
// year of 5,000 grids' nested counters take a second to read).
//
// Each document carries a watermark: the sequence number of the last event
// applied to it. The statistics applier is the only writer (a lease); it
// numbers events in the order it applies them and writes a document only if
// its watermark is below the event's number — so an event retried or
// replayed after a crash is applied to each document at most once.
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
}

// NewRollups returns the roll-up store of m.
func NewRollups(m *Mongo) *Rollups {
	return &Rollups{c: m.db.Collection(colRollups), state: m.db.Collection(colStatsState)}
}

func rollupID(period, dim string) string { return period + "|" + dim }

type rollupDoc struct {
	ID string `bson:"_id"`
	WM int64  `bson:"wm"`
	// K is the JSON of map[key]map[counter]value.
	K []byte `bson:"k"`
}

func (d *rollupDoc) counters() (map[string]map[string]float64, error) {
	m := map[string]map[string]float64{}
	if len(d.K) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(d.K, &m); err != nil {
		return nil, fmt.Errorf("decode roll-up %s: %w", d.ID, err)
	}
	return m, nil
}

func (s *Rollups) get(ctx context.Context, id string) (*rollupDoc, error) {
	var d rollupDoc
	err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-up: %w", translate(err))
	}
	return &d, nil
}

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

// Apply adds event seq's deltas: each document is read, added to and
// written back once, skipping documents that already have the event.
func (s *Rollups) Apply(ctx context.Context, seq int64, rows []model.RollupRow) error {
	var order []string
	byID := map[string][]model.RollupRow{}
	for _, r := range rows {
		id := rollupID(r.Period, r.Dim)
		if byID[id] == nil {
			order = append(order, id)
		}
		byID[id] = append(byID[id], r)
	}
	for _, id := range order {
		d, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if d != nil && d.WM >= seq {
			continue // the document already has this event
		}
		if d == nil {
			d = &rollupDoc{ID: id}
		}
		m, err := d.counters()
		if err != nil {
			return err
		}
		for _, r := range byID[id] {
			c := m[r.Key]
			if c == nil {
				c = map[string]float64{}
				m[r.Key] = c
			}
			for k, v := range r.Values {
				c[k] += v
			}
		}
		if err := s.write(ctx, d, seq, m); err != nil {
			return err
		}
	}
	return nil
}

// write stores a document's counters at watermark seq, if nothing newer
// was written meanwhile.
func (s *Rollups) write(ctx context.Context, d *rollupDoc, seq int64, m map[string]map[string]float64) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode roll-up: %w", err)
	}
	_, err = s.c.ReplaceOne(ctx, bson.M{"_id": d.ID, "wm": d.WM}, rollupDoc{ID: d.ID, WM: seq, K: raw}, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // written meanwhile by an applier that had the event
	}
	if err != nil {
		return fmt.Errorf("write roll-up: %w", translate(err))
	}
	return nil
}

// Read returns the counters of a dimension for the given period buckets,
// one row per bucket and key.
func (s *Rollups) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	var out []model.RollupRow
	// One lookup by _id per bucket: FerretDB pushes an _id equality down to
	// its storage, but would decode the whole collection to answer $in.
	for _, p := range periods {
		d, err := s.get(ctx, rollupID(p, dim))
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		m, err := d.counters()
		if err != nil {
			return nil, err
		}
		for key, counters := range m {
			out = append(out, model.RollupRow{Period: p, Dim: dim, Key: key, Values: counters})
		}
	}
	return out, nil
}

// Replace drops every roll-up and writes rows instead, all at watermark
// seq: the rebuild.
func (s *Rollups) Replace(ctx context.Context, seq int64, rows []model.RollupRow) error {
	docs := map[string]map[string]map[string]float64{}
	var order []string
	for _, r := range rows {
		id := rollupID(r.Period, r.Dim)
		if docs[id] == nil {
			docs[id] = map[string]map[string]float64{}
			order = append(order, id)
		}
		docs[id][r.Key] = r.Values
	}
	if _, err := s.c.DeleteMany(ctx, bson.M{}); err != nil {
		return fmt.Errorf("clear roll-ups: %w", translate(err))
	}
	const batch = 100
	for i := 0; i < len(order); i += batch {
		var many []any
		for _, id := range order[i:min(i+batch, len(order))] {
			raw, err := json.Marshal(docs[id])
			if err != nil {
				return fmt.Errorf("encode roll-up: %w", err)
			}
			many = append(many, rollupDoc{ID: id, WM: seq, K: raw})
		}
		if _, err := s.c.InsertMany(ctx, many, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("write roll-ups: %w", translate(err))
		}
	}
	return s.SetApplied(ctx, seq)
}
