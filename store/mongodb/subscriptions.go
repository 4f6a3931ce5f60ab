package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const colSubscriptions = "subscriptions"

// Subscriptions counts the one-time subscribe-message allowances each user
// granted per template (wx.requestSubscribeMessage): one grant, one message.
type Subscriptions struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewSubscriptions returns the allowance store of m.
func NewSubscriptions(m *Mongo, now func() time.Time) *Subscriptions {
	return &Subscriptions{c: m.db.Collection(colSubscriptions), now: now}
}

func subID(userID, templateID string) string { return userID + "|" + templateID }

// Grant adds one allowance of each template.
func (s *Subscriptions) Grant(ctx context.Context, userID string, templateIDs []string) error {
	for _, tmpl := range templateIDs {
		_, err := s.c.UpdateOne(ctx, bson.M{"_id": subID(userID, tmpl)},
			bson.M{"$inc": bson.M{"remaining": 1}, "$set": bson.M{"user_id": userID, "template_id": tmpl, "updated_at": s.now().UTC()}},
			options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("grant subscription: %w", translate(err))
		}
	}
	return nil
}

// Consume takes one allowance and reports whether there was one.
func (s *Subscriptions) Consume(ctx context.Context, userID, templateID string) (bool, error) {
	res, err := s.c.UpdateOne(ctx, bson.M{"_id": subID(userID, templateID), "remaining": bson.M{"$gt": 0}},
		bson.M{"$inc": bson.M{"remaining": -1}, "$set": bson.M{"updated_at": s.now().UTC()}})
	if err != nil {
		return false, fmt.Errorf("consume subscription: %w", translate(err))
	}
	return res.ModifiedCount == 1, nil
}

// Refund gives back an allowance consumed for a message that was not sent.
func (s *Subscriptions) Refund(ctx context.Context, userID, templateID string) error {
	return s.Grant(ctx, userID, []string{templateID})
}

// Clear drops every allowance of a template (WeChat said there is none).
func (s *Subscriptions) Clear(ctx context.Context, userID, templateID string) error {
	_, err := s.c.UpdateOne(ctx, bson.M{"_id": subID(userID, templateID)}, bson.M{"$set": bson.M{"remaining": 0, "updated_at": s.now().UTC()}})
	if err != nil {
		return fmt.Errorf("clear subscription: %w", translate(err))
	}
	return nil
}

// Remaining returns the allowances left.
func (s *Subscriptions) Remaining(ctx context.Context, userID, templateID string) (int, error) {
	var d struct {
		Remaining int `bson:"remaining"`
	}
	err := s.c.FindOne(ctx, bson.M{"_id": subID(userID, templateID)}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("subscription: %w", translate(err))
	}
	return d.Remaining, nil
}
