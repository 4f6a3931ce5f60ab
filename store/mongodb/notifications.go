package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/citizen-city/chengguantong/model"
)

const colNotifications = "notifications"

// statusSending is the status of a notification whose send has begun and
// has no recorded outcome yet (in flight, or its worker died).
const statusSending = "sending"

// Notifications records each logical notification once, keyed by the
// notifier's job key: the record is what makes a job delivered twice send at
// most one message, and it keeps the outcome for support questions ("why
// did I get no card?").
type Notifications struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewNotifications returns the notification log of m.
func NewNotifications(m *Mongo, now func() time.Time) *Notifications {
	return &Notifications{c: m.db.Collection(colNotifications), now: msClock(now)}
}

type notificationDoc struct {
	Key        string    `bson:"_id"`
	Status     string    `bson:"status"`
	UserID     string    `bson:"user_id"`
	TemplateID string    `bson:"template_id"`
	At         time.Time `bson:"at"`
	FinishedAt time.Time `bson:"finished_at,omitempty"`
}

// Begin records that the notification key is being sent to userID with
// templateID, and reports whether this is the first attempt: false means a
// record already exists (another delivery of the job got there first, or a
// previous attempt ended). The unique _id makes concurrent Begins of one key
// agree on exactly one winner.
func (s *Notifications) Begin(ctx context.Context, key, userID, templateID string) (bool, error) {
	_, err := s.c.InsertOne(ctx, notificationDoc{
		Key: key, Status: statusSending, UserID: userID, TemplateID: templateID, At: s.now().UTC(),
	})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("begin notification: %w", translate(err))
	}
	return true, nil
}

// Finish records the outcome of the notification key (e.g. "sent").
// Errors: not_found when there is no record of key.
func (s *Notifications) Finish(ctx context.Context, key, outcome string) error {
	res, err := s.c.UpdateOne(ctx, bson.M{"_id": key},
		bson.M{"$set": bson.M{"status": outcome, "finished_at": s.now().UTC()}})
	if err != nil {
		return fmt.Errorf("finish notification: %w", translate(err))
	}
	if res.MatchedCount == 0 {
		return model.Errorf(model.CodeNotFound, "没有通知 %s", key)
	}
	return nil
}

// Forget removes the record of an attempt that ended without an outcome, so
// that a retry of the job may send it. A record with an outcome is kept:
// forgetting it could send the message twice.
func (s *Notifications) Forget(ctx context.Context, key string) error {
	if _, err := s.c.DeleteOne(ctx, bson.M{"_id": key, "status": statusSending}); err != nil {
		return fmt.Errorf("forget notification: %w", translate(err))
	}
	return nil
}

// Status returns the status of the notification key: "sending" while in
// flight (or when its worker died mid-send), else the outcome passed to
// Finish. Errors: not_found.
func (s *Notifications) Status(ctx context.Context, key string) (string, error) {
	var d notificationDoc
	err := s.c.FindOne(ctx, bson.M{"_id": key}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", model.Errorf(model.CodeNotFound, "没有通知 %s", key)
	}
	if err != nil {
		return "", fmt.Errorf("notification: %w", translate(err))
	}
	return d.Status, nil
}

// Prune deletes the records begun before cutoff and returns how many. A
// record only has to outlive the redeliveries of its job (minutes), so
// keeping a few weeks for support is plenty; FerretDB has no TTL indexes, so
// a periodic job calls this instead.
func (s *Notifications) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.c.DeleteMany(ctx, bson.M{"at": bson.M{"$lt": cutoff.UTC()}})
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", translate(err))
	}
	return int(res.DeletedCount), nil
}
