package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const colCategories = "categories"

// Categories stores the category catalogue.
type Categories struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewCategories returns the catalogue store of m.
func NewCategories(m *Mongo, now func() time.Time) *Categories {
	return &Categories{c: m.db.Collection(colCategories), now: msClock(now)}
}

type categoryDoc struct {
	Code              string    `bson:"_id"`
	Name              string    `bson:"name"`
	Major             string    `bson:"major"`
	SLAHours          int       `bson:"sla_hours"`
	VolunteerSuitable bool      `bson:"volunteer_suitable"`
	DuplicateRadiusM  int       `bson:"duplicate_radius_m"`
	UpdatedAt         time.Time `bson:"updated_at"`
}

func (d *categoryDoc) model() model.Category {
	return model.Category{
		Code: d.Code, Name: d.Name, Major: d.Major, SLAHours: d.SLAHours,
		VolunteerSuitable: d.VolunteerSuitable, DuplicateRadiusM: d.DuplicateRadiusM,
	}
}

// Seed inserts the categories that are missing and leaves the others as
// staff last changed them.
func (s *Categories) Seed(ctx context.Context, cats []model.Category) error {
	for _, c := range cats {
		_, err := s.c.UpdateOne(ctx, bson.M{"_id": c.Code}, bson.M{"$setOnInsert": bson.M{
			"name": c.Name, "major": c.Major, "sla_hours": c.SLAHours, "volunteer_suitable": c.VolunteerSuitable,
			"duplicate_radius_m": c.DuplicateRadiusM, "updated_at": s.now().UTC(),
		}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("seed category %s: %w", c.Code, translate(err))
		}
	}
	return nil
}

// List returns every category ordered by code.
func (s *Categories) List(ctx context.Context) ([]model.Category, error) {
	cur, err := s.c.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", translate(err))
	}
	var docs []categoryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list categories: %w", translate(err))
	}
	out := make([]model.Category, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}

// Put creates or replaces a category.
func (s *Categories) Put(ctx context.Context, c model.Category) error {
	_, err := s.c.UpdateOne(ctx, bson.M{"_id": c.Code}, bson.M{"$set": bson.M{
		"name": c.Name, "major": c.Major, "sla_hours": c.SLAHours, "volunteer_suitable": c.VolunteerSuitable,
		"duplicate_radius_m": c.DuplicateRadiusM, "updated_at": s.now().UTC(),
	}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("put category: %w", translate(err))
	}
	return nil
}
