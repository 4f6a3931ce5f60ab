package mongodb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colAPIKeys           = "open311_keys"
	colOpen311Submitters = "open311_submitters"
)

// APIKeys stores the Open311 api keys, by id, with the digest of their
// secret only. A key is looked up by its id (the key carries it), which is
// the one lookup FerretDB serves from storage.
type APIKeys struct {
	c *mongo.Collection
}

// NewAPIKeys returns the api key store of m.
func NewAPIKeys(m *Mongo) *APIKeys { return &APIKeys{c: m.db.Collection(colAPIKeys)} }

type apiKeyDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Hash      string    `bson:"hash"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
	RevokedAt time.Time `bson:"revoked_at"`
}

func (d *apiKeyDoc) model() *model.APIKey {
	return &model.APIKey{ID: d.ID, Name: d.Name, Hash: d.Hash, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, RevokedAt: d.RevokedAt}
}

// Insert stores a new key (conflict if the id exists).
func (s *APIKeys) Insert(ctx context.Context, k *model.APIKey) error {
	d := apiKeyDoc{ID: k.ID, Name: k.Name, Hash: k.Hash, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt.UTC(), RevokedAt: k.RevokedAt.UTC()}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert api key: %w", translate(err))
	}
	return nil
}

// Get returns a key by id (not_found if there is none).
func (s *APIKeys) Get(ctx context.Context, id string) (*model.APIKey, error) {
	var d apiKeyDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get api key: %w", translate(err))
	}
	return d.model(), nil
}

// List returns every key, newest first. There are few: one per client
// organisation.
func (s *APIKeys) List(ctx context.Context) ([]*model.APIKey, error) {
	return findAll(ctx, s.c, "list api keys", (*apiKeyDoc).model, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(1000))
}

// Revoke marks a key revoked at the given time; revoking a revoked key
// keeps its first revocation time. Errors: not_found.
func (s *APIKeys) Revoke(ctx context.Context, id string, at time.Time) error {
	k, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if k.Revoked() {
		return nil
	}
	if _, err := s.c.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"revoked_at": at.UTC()}}); err != nil {
		return fmt.Errorf("revoke api key: %w", translate(err))
	}
	return nil
}

// Open311Submitters keeps what a GeoReport v2 client sent about the person
// behind a request (email, phone, names, device and account ids), one
// document per ticket with the ticket's id as _id, for staff only.
type Open311Submitters struct {
	c *mongo.Collection
}

// NewOpen311Submitters returns the store of m.
func NewOpen311Submitters(m *Mongo) *Open311Submitters {
	return &Open311Submitters{c: m.db.Collection(colOpen311Submitters)}
}

type submitterDoc struct {
	ID        string    `bson:"_id"` // the ticket's id
	KeyID     string    `bson:"key_id"`
	KeyName   string    `bson:"key_name"`
	Email     string    `bson:"email,omitempty"`
	Phone     string    `bson:"phone,omitempty"`
	FirstName string    `bson:"first_name,omitempty"`
	LastName  string    `bson:"last_name,omitempty"`
	DeviceID  string    `bson:"device_id,omitempty"`
	AccountID string    `bson:"account_id,omitempty"`
	MediaURL  string    `bson:"media_url,omitempty"`
	AddressID string    `bson:"address_id,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

// Save stores the submitter of a ticket; saving again (a retry) replaces
// it.
func (s *Open311Submitters) Save(ctx context.Context, p *model.Open311Submitter) error {
	d := submitterDoc{ID: p.TicketID, KeyID: p.KeyID, KeyName: p.KeyName, Email: p.Email, Phone: p.Phone,
		FirstName: p.FirstName, LastName: p.LastName, DeviceID: p.DeviceID, AccountID: p.AccountID,
		MediaURL: p.MediaURL, AddressID: p.AddressID, CreatedAt: p.CreatedAt.UTC()}
	if _, err := s.c.ReplaceOne(ctx, bson.M{"_id": d.ID}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save open311 submitter: %w", translate(err))
	}
	return nil
}

// Get returns the submitter of a ticket filed through Open311 (not_found
// for any other ticket). For staff views only.
func (s *Open311Submitters) Get(ctx context.Context, ticketID string) (*model.Open311Submitter, error) {
	var d submitterDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": ticketID}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get open311 submitter: %w", translate(err))
	}
	return &model.Open311Submitter{TicketID: d.ID, KeyID: d.KeyID, KeyName: d.KeyName, Email: d.Email, Phone: d.Phone,
		FirstName: d.FirstName, LastName: d.LastName, DeviceID: d.DeviceID, AccountID: d.AccountID,
		MediaURL: d.MediaURL, AddressID: d.AddressID, CreatedAt: d.CreatedAt}, nil
}

// Public returns the tickets a public listing may show that match q, newest
// first: by id (each one _id lookup, in the order given, skipping ids that
// do not exist or are not public), or by creation time, category and
// status, skipping q.Offset and returning at most q.Limit.
func (s *Tickets) Public(ctx context.Context, q model.PublicQuery) ([]*model.Ticket, error) {
	if len(q.IDs) > 0 {
		ts, err := s.byIDs(ctx, q.IDs)
		if err != nil {
			return nil, err
		}
		out := ts[:0]
		for _, t := range ts {
			if slices.Contains(model.PublicStatuses, t.Status) {
				out = append(out, t)
			}
		}
		return out, nil
	}
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = model.PublicStatuses
	}
	var allowed []model.Status
	for _, st := range statuses {
		if slices.Contains(model.PublicStatuses, st) {
			allowed = append(allowed, st)
		}
	}
	if len(allowed) == 0 {
		return nil, nil
	}
	filter := bson.M{"status": bson.M{"$in": statusStrings(allowed)}}
	if created := timeRange(q.From, q.To, "$lte"); created != nil {
		filter["created_at"] = created
	}
	if len(q.Categories) > 0 {
		filter["category"] = bson.M{"$in": q.Categories}
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	if q.Offset > 0 {
		opts.SetSkip(int64(q.Offset))
	}
	if q.Limit > 0 {
		opts.SetLimit(int64(q.Limit))
	}
	return findAll(ctx, s.c, "public tickets", (*ticketDoc).model, filter, opts)
}
