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
// granted per template (wx.requestSubscribeMessage): one grant, one
// message. Each allowance is a document of its own, {_id, sub: "<user>|<template>"}:
// a grant inserts one and a message deletes one, so that of concurrent
// takers each gets a different one — a delete is atomic on FerretDB too,
// where a conditional $inc is not.
type Subscriptions struct {
	c      *mongo.Collection
	now    func() time.Time
	ferret bool
}

// NewSubscriptions returns the allowance store of m.
func NewSubscriptions(m *Mongo, now func() time.Time) *Subscriptions {
	return &Subscriptions{c: m.db.Collection(colSubscriptions), now: msClock(now), ferret: m.ferret}
}

func subID(userID, templateID string) string { return userID + "|" + templateID }

// Grant adds one allowance of each template. Errors: unavailable.
func (s *Subscriptions) Grant(ctx context.Context, userID string, templateIDs []string) error {
	if len(templateIDs) == 0 {
		return nil
	}
	docs := make([]any, len(templateIDs))
	for i, tmpl := range templateIDs {
		docs[i] = bson.M{"_id": NewID() + "-" + fmt.Sprint(i), "sub": subID(userID, tmpl), "at": s.now()}
	}
	if _, err := s.c.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("grant subscription: %w", translate(err))
	}
	return nil
}

// Consume takes one allowance and reports whether there was one. Errors:
// unavailable.
func (s *Subscriptions) Consume(ctx context.Context, userID, templateID string) (bool, error) {
	key := subID(userID, templateID)
	for range 8 {
		res, err := s.c.DeleteOne(ctx, bson.M{"sub": key}, options.DeleteOne().SetHint(ixSubscriptions))
		if err != nil {
			return false, fmt.Errorf("consume subscription: %w", translate(err))
		}
		if res.DeletedCount == 1 {
			return true, nil
		}
		if !s.ferret {
			return false, nil // MongoDB's delete is atomic: there was none
		}
		// FerretDB finds a document, then deletes it by _id: another
		// taker may have deleted the one it found. Are there others?
		n, err := s.c.CountDocuments(ctx, bson.M{"sub": key}, options.Count().SetLimit(1))
		if err != nil {
			return false, fmt.Errorf("consume subscription: %w", translate(err))
		}
		if n == 0 {
			return false, nil
		}
	}
	return false, nil
}

// Refund gives back an allowance consumed for a message that was not
// sent. Errors: unavailable.
func (s *Subscriptions) Refund(ctx context.Context, userID, templateID string) error {
	return s.Grant(ctx, userID, []string{templateID})
}

// Clear drops every allowance of a template (WeChat said there is none).
// Errors: unavailable.
func (s *Subscriptions) Clear(ctx context.Context, userID, templateID string) error {
	if _, err := s.c.DeleteMany(ctx, bson.M{"sub": subID(userID, templateID)}); err != nil {
		return fmt.Errorf("clear subscription: %w", translate(err))
	}
	return nil
}

// Remaining returns the allowances left. Errors: unavailable.
func (s *Subscriptions) Remaining(ctx context.Context, userID, templateID string) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.M{"sub": subID(userID, templateID)})
	if err != nil {
		return 0, fmt.Errorf("subscription: %w", translate(err))
	}
	return int(n), nil
}
