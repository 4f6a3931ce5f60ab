package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

const (
	colGrids = "grids"
	colMeta  = "meta"
)

// Grids stores the grid polygons. The geometry is kept as WKB bytes:
// FerretDB refuses the nested arrays of a GeoJSON polygon, and point-in-grid
// is answered in process anyway.
type Grids struct {
	c    *mongo.Collection
	meta *mongo.Collection
	now  func() time.Time
}

// NewGrids returns the grid store of m.
func NewGrids(m *Mongo, now func() time.Time) *Grids {
	return &Grids{c: m.db.Collection(colGrids), meta: m.db.Collection(colMeta), now: msClock(now)}
}

type gridDoc struct {
	Code      string    `bson:"_id"`
	Name      string    `bson:"name"`
	Community string    `bson:"community"`
	Shape     []byte    `bson:"shape"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// Upsert stores the grids by code and moves the revision on, which tells
// every instance to reload its index.
func (s *Grids) Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error) {
	now := s.now().UTC()
	out := make([]model.Grid, len(grids))
	for i, g := range grids {
		_, err := s.c.UpdateOne(ctx, bson.M{"_id": g.Code}, bson.M{"$set": bson.M{
			"name": g.Name, "community": g.Community, "shape": geo.EncodeShape(g.Shape), "updated_at": now,
		}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("store grid %s: %w", g.Code, translate(err))
		}
		out[i] = model.Grid{Code: g.Code, Name: g.Name, Community: g.Community, UpdatedAt: now}
	}
	_, err := s.meta.UpdateOne(ctx, bson.M{"_id": "grids"},
		bson.M{"$set": bson.M{"revision": NewID(), "at": now}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return nil, fmt.Errorf("grid revision: %w", translate(err))
	}
	return out, nil
}

// Revision returns an opaque value that changes whenever grids change.
func (s *Grids) Revision(ctx context.Context) (string, error) {
	var d struct {
		Revision string `bson:"revision"`
	}
	err := s.meta.FindOne(ctx, bson.M{"_id": "grids"}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("grid revision: %w", translate(err))
	}
	return d.Revision, nil
}

// All returns every grid with its geometry.
func (s *Grids) All(ctx context.Context) ([]geo.Grid, error) {
	cur, err := s.c.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("load grids: %w", translate(err))
	}
	var docs []gridDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("load grids: %w", translate(err))
	}
	out := make([]geo.Grid, 0, len(docs))
	for _, d := range docs {
		shape, err := geo.DecodeShape(d.Shape)
		if err != nil {
			return nil, fmt.Errorf("grid %s: %w", d.Code, err)
		}
		out = append(out, geo.Grid{Code: d.Code, Name: d.Name, Community: d.Community, Shape: shape})
	}
	return out, nil
}

// List returns the grids without geometry.
func (s *Grids) List(ctx context.Context) ([]model.Grid, error) {
	cur, err := s.c.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"shape": 0}).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", translate(err))
	}
	var docs []gridDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list grids: %w", translate(err))
	}
	out := make([]model.Grid, len(docs))
	for i, d := range docs {
		out[i] = model.Grid{Code: d.Code, Name: d.Name, Community: d.Community, UpdatedAt: d.UpdatedAt}
	}
	return out, nil
}
