package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colAddresses = "addresses"
	colLayers    = "layers"

	ixAddressName  = "name_unique"
	ixAddressGrams = "grams"
)

// Addresses is the address book (地址库): one document per standard
// address, its name unique, and — as the tickets' texts are searched (see
// grams.go) — the unigrams and bigrams of its name in a multikey-indexed
// array, checked for the words themselves.
type Addresses struct{ c *mongo.Collection }

// NewAddresses returns the address book of m.
func NewAddresses(m *Mongo) *Addresses { return &Addresses{c: m.db.Collection(colAddresses)} }

type addressDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Kind      string    `bson:"kind"`
	Lat       float64   `bson:"lat"`
	Lng       float64   `bson:"lng"`
	Grams     []string  `bson:"grams"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func (d *addressDoc) model() model.Address {
	return model.Address{ID: d.ID, Name: d.Name, Kind: model.AddressKind(d.Kind), Point: model.Point{Lat: d.Lat, Lng: d.Lng},
		UpdatedAt: d.UpdatedAt}
}

// upsertBatch is how many addresses one round of Upsert carries.
const upsertBatch = 500

// Upsert stores the addresses by name, a batch at a time: the batch's
// known names are looked up at once ($in on the unique index of names);
// the new ones are inserted with new ids, the known ones updated by id.
// A name another upload inserted meanwhile (the unique index refuses the
// second) is updated by name instead. It returns how many names were new.
// Errors: unavailable.
func (s *Addresses) Upsert(ctx context.Context, as []model.Address, at time.Time) (int, error) {
	at = at.UTC().Truncate(time.Millisecond)
	added := 0
	for start := 0; start < len(as); start += upsertBatch {
		batch := as[start:min(start+upsertBatch, len(as))]
		names := make(bson.A, len(batch))
		for i, a := range batch {
			names[i] = a.Name
		}
		known, err := findAll(ctx, s.c, "store addresses", func(d *addressDoc) addressDoc { return *d },
			bson.M{"name": bson.M{"$in": names}}, options.Find().SetProjection(bson.M{"_id": 1, "name": 1}).SetHint(ixAddressName))
		if err != nil {
			return added, err
		}
		ids := make(map[string]string, len(known))
		for _, d := range known {
			ids[d.Name] = d.ID
		}
		var inserts []any
		var updates []mongo.WriteModel
		set := func(a model.Address) bson.M {
			return bson.M{"$set": bson.M{"kind": string(a.Kind), "lat": a.Point.Lat, "lng": a.Point.Lng, "updated_at": at}}
		}
		for _, a := range batch {
			if id, ok := ids[a.Name]; ok {
				updates = append(updates, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id}).SetUpdate(set(a)))
				continue
			}
			inserts = append(inserts, addressDoc{ID: model.NewID(at), Name: a.Name, Kind: string(a.Kind), Lat: a.Point.Lat,
				Lng: a.Point.Lng, Grams: grams(a.Name), UpdatedAt: at})
		}
		if len(inserts) > 0 {
			_, err := s.c.InsertMany(ctx, inserts, options.InsertMany().SetOrdered(false))
			added += len(inserts)
			var bwe mongo.BulkWriteException
			if err != nil && !errors.As(err, &bwe) {
				return added, fmt.Errorf("store addresses: %w", translate(err))
			}
			for _, we := range bwe.WriteErrors {
				if !mongo.IsDuplicateKeyError(we) {
					return added, fmt.Errorf("store addresses: %w", translate(err))
				}
				d := inserts[we.Index].(addressDoc)
				added-- // inserted by another upload meanwhile
				a := model.Address{Kind: model.AddressKind(d.Kind), Point: model.Point{Lat: d.Lat, Lng: d.Lng}}
				updates = append(updates, mongo.NewUpdateOneModel().SetFilter(bson.M{"name": d.Name}).SetUpdate(set(a)))
			}
		}
		if len(updates) > 0 {
			if _, err := s.c.BulkWrite(ctx, updates, options.BulkWrite().SetOrdered(false)); err != nil {
				return added, fmt.Errorf("store addresses: %w", translate(err))
			}
		}
	}
	return added, nil
}

// Search returns up to limit addresses whose name contains every word, best
// first (model.SortAddresses): a single word's exact and prefix matches from
// the unique index of names, the others through the grams, checked for the
// words themselves. Never a regular expression over the collection.
func (s *Addresses) Search(ctx context.Context, words []string, limit int) ([]model.Address, error) {
	conv := func(d *addressDoc) model.Address { return d.model() }
	var found []model.Address
	seen := map[string]bool{}
	keep := func(as []model.Address) {
		for _, a := range as {
			if !seen[a.ID] {
				seen[a.ID] = true
				found = append(found, a)
			}
		}
	}
	if len(words) == 1 {
		prefix, err := findAll(ctx, s.c, "search addresses", conv,
			bson.M{"name": bson.M{"$gte": words[0], "$lt": words[0] + "\U0010FFFF"}},
			options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(int64(prefixCandidates(limit))).SetHint(ixAddressName))
		if err != nil {
			return nil, err
		}
		keep(prefix)
	}
	// A full page of names that start with the word outranks any that
	// only contain it.
	if g := wordGrams(words); len(g) > 0 && len(found) < limit {
		contains, err := findAll(ctx, s.c, "search addresses", conv, bson.M{"grams": bson.M{"$all": g}},
			options.Find().SetLimit(searchCandidates).SetHint(ixAddressGrams))
		if err != nil {
			return nil, err
		}
		keep(contains)
	}
	found = model.SortAddresses(found, words)
	if len(found) > limit {
		found = found[:limit]
	}
	return found, nil
}

// searchCandidates bounds the names a search checks for containing its
// words, beyond the exact and prefix matches.
const searchCandidates = 200

// prefixCandidates is how many names starting with the word a search
// reads (in name order) to give the shorter of them first.
func prefixCandidates(limit int) int { return max(4*limit, 40) }

// Count is how many addresses there are.
func (s *Addresses) Count(ctx context.Context) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("count addresses: %w", translate(err))
	}
	return int(n), nil
}

// Layers keeps the map's base layers, each one document with its GeoJSON
// as a string (FerretDB refuses the nested arrays of lines and polygons;
// nothing queries inside them).
type Layers struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewLayers returns the base layers of m.
func NewLayers(m *Mongo, now func() time.Time) *Layers {
	return &Layers{c: m.db.Collection(colLayers), now: msClock(now)}
}

type layerDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Kind      string    `bson:"kind"`
	GeoJSON   string    `bson:"geojson"`
	Features  int       `bson:"features"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
}

// Create stores a new layer.
func (s *Layers) Create(ctx context.Context, l model.Layer) (*model.Layer, error) {
	now := s.now()
	l.ID, l.CreatedAt = model.NewID(now), now
	_, err := s.c.InsertOne(ctx, layerDoc{ID: l.ID, Name: l.Name, Kind: string(l.Kind), GeoJSON: string(l.GeoJSON),
		Features: l.Features, CreatedBy: l.CreatedBy, CreatedAt: now})
	if err != nil {
		return nil, fmt.Errorf("create layer: %w", translate(err))
	}
	return &l, nil
}

// List returns every layer, oldest first (ids follow creation order).
func (s *Layers) List(ctx context.Context) ([]model.Layer, error) {
	return findAll(ctx, s.c, "list layers", func(d *layerDoc) model.Layer {
		return model.Layer{ID: d.ID, Name: d.Name, Kind: model.LayerKind(d.Kind), GeoJSON: []byte(d.GeoJSON), Features: d.Features,
			CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt}
	}, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// Delete removes a layer. Errors: not_found.
func (s *Layers) Delete(ctx context.Context, id string) error {
	res, err := s.c.DeleteOne(ctx, bson.M{"_id": id})
	if err != nil {
		return fmt.Errorf("delete layer: %w", translate(err))
	}
	if res.DeletedCount == 0 {
		return model.Errorf(model.CodeNotFound, "没有底图图层 %s", id)
	}
	return nil
}
