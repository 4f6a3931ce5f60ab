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

const (
	colActivities = "activities"
	// colActivityCheckins holds one document per member and activity, with
	// _id "<activity>/<member>": its unique insert decides whether a
	// check-in counts, atomically on MongoDB and FerretDB alike.
	colActivityCheckins = "activity_checkins"
)

// Activities stores party members' volunteer activities and their
// check-ins.
type Activities struct {
	activities *mongo.Collection
	checkins   *mongo.Collection
	now        func() time.Time
}

// NewActivities returns the activity store of m.
func NewActivities(m *Mongo, now func() time.Time) *Activities {
	return &Activities{
		activities: m.db.Collection(colActivities),
		checkins:   m.db.Collection(colActivityCheckins),
		now:        msClock(now),
	}
}

type activityDoc struct {
	ID        string    `bson:"_id"`
	Title     string    `bson:"title"`
	Kind      string    `bson:"kind"`
	Community string    `bson:"community"`
	StartsAt  time.Time `bson:"starts_at"`
	EndsAt    time.Time `bson:"ends_at"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
}

func (d *activityDoc) model() *model.Activity {
	return &model.Activity{
		ID: d.ID, Title: d.Title, Kind: model.ActivityKind(d.Kind), Community: d.Community,
		StartsAt: d.StartsAt, EndsAt: d.EndsAt, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt,
	}
}

type checkinDoc struct {
	ID         string    `bson:"_id"` // "<activity>/<member>"
	ActivityID string    `bson:"activity_id"`
	Kind       string    `bson:"kind"`
	StartsAt   time.Time `bson:"starts_at"`
	MemberID   string    `bson:"member_id"`
	UserID     string    `bson:"user_id"`
	BranchID   string    `bson:"branch_id"`
	At         time.Time `bson:"at"`
}

func (d *checkinDoc) model() model.Checkin {
	return model.Checkin{
		ActivityID: d.ActivityID, Kind: model.ActivityKind(d.Kind), StartsAt: d.StartsAt,
		MemberID: d.MemberID, UserID: d.UserID, BranchID: d.BranchID, At: d.At,
	}
}

// Create stores a new activity and returns it with its id and creation
// time. Times are stored in UTC, to the millisecond (BSON's precision).
func (s *Activities) Create(ctx context.Context, a model.Activity) (*model.Activity, error) {
	now := s.now()
	a.ID, a.CreatedAt = model.NewID(now), now.UTC().Truncate(time.Millisecond)
	a.StartsAt, a.EndsAt = a.StartsAt.UTC().Truncate(time.Millisecond), a.EndsAt.UTC().Truncate(time.Millisecond)
	d := activityDoc{ID: a.ID, Title: a.Title, Kind: string(a.Kind), Community: a.Community,
		StartsAt: a.StartsAt, EndsAt: a.EndsAt, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt}
	if _, err := s.activities.InsertOne(ctx, d); err != nil {
		return nil, fmt.Errorf("create activity: %w", translate(err))
	}
	return &a, nil
}

// Get returns an activity by id. Errors: not_found.
func (s *Activities) Get(ctx context.Context, id string) (*model.Activity, error) {
	var d activityDoc
	if err := s.activities.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get activity: %w", translate(err))
	}
	return d.model(), nil
}

func checkinID(activityID, memberID string) string { return activityID + "/" + memberID }

// CheckIn records that member c.MemberID took part in activity
// c.ActivityID. The decision is a unique insert of "<activity>/<member>",
// so of any number of concurrent check-ins of one member exactly one
// reports first=true. A repeated check-in is not an error: it returns the
// check-in first recorded, with first=false. At defaults to the store's
// clock.
func (s *Activities) CheckIn(ctx context.Context, c model.Checkin) (recorded model.Checkin, first bool, err error) {
	if c.At.IsZero() {
		c.At = s.now()
	}
	c.At, c.StartsAt = c.At.UTC().Truncate(time.Millisecond), c.StartsAt.UTC().Truncate(time.Millisecond)
	id := checkinID(c.ActivityID, c.MemberID)
	_, err = s.checkins.InsertOne(ctx, checkinDoc{
		ID: id, ActivityID: c.ActivityID, Kind: string(c.Kind), StartsAt: c.StartsAt,
		MemberID: c.MemberID, UserID: c.UserID, BranchID: c.BranchID, At: c.At,
	})
	switch {
	case err == nil:
		return c, true, nil
	case mongo.IsDuplicateKeyError(err):
		var d checkinDoc
		if err := s.checkins.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
			return model.Checkin{}, false, fmt.Errorf("check in: %w", translate(err))
		}
		return d.model(), false, nil
	default:
		return model.Checkin{}, false, fmt.Errorf("check in: %w", translate(err))
	}
}

// CountActivities counts the activities that start in [from, to), by kind.
// Every known kind is present in the result, with zero when none.
func (s *Activities) CountActivities(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	cur, err := s.activities.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"starts_at": bson.M{"$gte": from.UTC(), "$lt": to.UTC()}}}},
		{{Key: "$group", Value: bson.M{"_id": "$kind", "n": bson.M{"$sum": 1}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count activities: %w", translate(err))
	}
	var rows []struct {
		Kind string `bson:"_id"`
		N    int64  `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count activities: %w", translate(err))
	}
	out := make(map[string]int64, len(rows)+3)
	for _, k := range model.ActivityKinds() {
		out[string(k)] = 0
	}
	for _, r := range rows {
		out[r.Kind] += r.N
	}
	return out, nil
}

// CheckinsBetween returns the check-ins of the activities that start in
// [from, to) — the same activities CountActivities counts, so that an
// activity and its participants always fall in one period, even a check-in
// made in the grace hour before an activity starting at midnight. They come
// ordered by the activity's start, then activity and member.
func (s *Activities) CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error) {
	cur, err := s.checkins.Find(ctx,
		bson.M{"starts_at": bson.M{"$gte": from.UTC(), "$lt": to.UTC()}},
		options.Find().SetSort(bson.D{{Key: "starts_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", translate(err))
	}
	var docs []checkinDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", translate(err))
	}
	out := make([]model.Checkin, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, nil
}
