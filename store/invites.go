package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// Invites stores single-use invite codes, keyed by a hash of the code so a
// database dump does not hand out working codes.
type Invites struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewInvites returns the invite store of m.
func NewInvites(m *Mongo, now func() time.Time) *Invites {
	return &Invites{c: m.db.Collection(colInvites), now: now}
}

type inviteDoc struct {
	ID        string    `bson:"_id"` // hash of the code
	Role      string    `bson:"role"`
	ProfileID string    `bson:"profile_id"`
	ExpiresAt time.Time `bson:"expires_at"`
	UsedBy    string    `bson:"used_by"`
	UsedAt    time.Time `bson:"used_at,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

// Create stores an invite under codeHash.
func (s *Invites) Create(ctx context.Context, codeHash string, inv model.Invite) error {
	_, err := s.c.InsertOne(ctx, inviteDoc{
		ID: codeHash, Role: string(inv.Role), ProfileID: inv.ProfileID,
		ExpiresAt: inv.ExpiresAt.UTC(), CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("create invite: %w", translate(err))
	}
	return nil
}

// Redeem marks the invite used by userID and returns it. Redeeming again by
// the same user returns the same invite (so a retried bind completes); an
// unknown, expired or someone else's invite is not_found.
func (s *Invites) Redeem(ctx context.Context, codeHash, userID string) (*model.Invite, error) {
	now := s.now().UTC()
	filter := bson.M{
		"_id":        codeHash,
		"expires_at": bson.M{"$gt": now},
		"$or":        bson.A{bson.M{"used_by": ""}, bson.M{"used_by": userID}},
	}
	var d inviteDoc
	err := s.c.FindOneAndUpdate(ctx, filter,
		bson.M{"$set": bson.M{"used_by": userID, "used_at": now}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("redeem invite: %w", translate(err))
	}
	return &model.Invite{Role: model.Role(d.Role), ProfileID: d.ProfileID, ExpiresAt: d.ExpiresAt, UsedBy: d.UsedBy, UsedAt: d.UsedAt}, nil
}
