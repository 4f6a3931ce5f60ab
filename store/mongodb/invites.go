package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/citizen-city/chengguantong/model"
)

// Invites stores single-use invite codes, keyed by a hash of the code so a
// database dump does not hand out working codes.
type Invites struct {
	c           *mongo.Collection
	redemptions *mongo.Collection
	now         func() time.Time
}

// NewInvites returns the invite store of m.
func NewInvites(m *Mongo, now func() time.Time) *Invites {
	return &Invites{c: m.db.Collection(colInvites), redemptions: m.db.Collection(colInviteRedemptions), now: msClock(now)}
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
// unknown, expired or someone else's invite is not_found. The redemption is
// a unique insert, so of two users racing for one code exactly one wins.
func (s *Invites) Redeem(ctx context.Context, codeHash, userID string) (*model.Invite, error) {
	now := s.now().UTC()
	var d inviteDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": codeHash}).Decode(&d); err != nil {
		return nil, fmt.Errorf("redeem invite: %w", translate(err))
	}
	if !d.ExpiresAt.After(now) && d.UsedBy != userID {
		return nil, model.Errorf(model.CodeNotFound, "邀请码已过期")
	}
	_, err := s.redemptions.InsertOne(ctx, bson.M{"_id": codeHash, "user_id": userID, "at": now})
	if mongo.IsDuplicateKeyError(err) {
		var r struct {
			UserID string `bson:"user_id"`
		}
		if err := s.redemptions.FindOne(ctx, bson.M{"_id": codeHash}).Decode(&r); err != nil {
			return nil, fmt.Errorf("redeem invite: %w", translate(err))
		}
		if r.UserID != userID {
			return nil, model.Errorf(model.CodeNotFound, "邀请码已被使用")
		}
	} else if err != nil {
		return nil, fmt.Errorf("redeem invite: %w", translate(err))
	}
	// Recorded on the invite too, for staff's view.
	if _, err := s.c.UpdateOne(ctx, bson.M{"_id": codeHash}, bson.M{"$set": bson.M{"used_by": userID, "used_at": now}}); err != nil {
		return nil, fmt.Errorf("redeem invite: %w", translate(err))
	}
	return &model.Invite{Role: model.Role(d.Role), ProfileID: d.ProfileID, ExpiresAt: d.ExpiresAt, UsedBy: userID, UsedAt: now}, nil
}

// RevokeUnused makes every unused invite of a profile stop working: they
// expire now. A new invite made afterwards is the profile's only one.
func (s *Invites) RevokeUnused(ctx context.Context, role model.Role, profileID string) error {
	_, err := s.c.UpdateMany(ctx, bson.M{"role": string(role), "profile_id": profileID, "used_by": ""},
		bson.M{"$set": bson.M{"expires_at": s.now().UTC(), "revoked": true}})
	if err != nil {
		return fmt.Errorf("revoke invites: %w", translate(err))
	}
	return nil
}
