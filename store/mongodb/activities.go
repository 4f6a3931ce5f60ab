package mongodb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// CancelledAt is absent unless cancelled (a live activity is one
	// without the field).
	CancelledAt  *time.Time `bson:"cancelled_at,omitempty"`
	CancelReason string     `bson:"cancel_reason,omitempty"`
}

func (d *activityDoc) model() *model.Activity {
	a := &model.Activity{
		ID: d.ID, Title: d.Title, Kind: model.ActivityKind(d.Kind), Community: d.Community,
		StartsAt: d.StartsAt, EndsAt: d.EndsAt, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, CancelReason: d.CancelReason,
	}
	if d.CancelledAt != nil {
		a.CancelledAt = *d.CancelledAt
	}
	return a
}

// Index names of the activities and check-ins.
const (
	ixActivitiesStart     = "starts_at"
	ixActivitiesStartID   = "starts_id"
	ixActivitiesCommunity = "community_starts_id"
	ixActivitiesKind      = "kind_starts_id"
	ixCheckinsActivity    = "activity_at"
)

// live is the filter of activities not cancelled.
var live = bson.M{"cancelled_at": bson.M{"$exists": false}}

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

// CountActivities counts the activities that start in [from, to), by kind,
// cancelled ones left out. Every known kind is present in the result, with
// zero when none.
func (s *Activities) CountActivities(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	cur, err := s.activities.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"starts_at": bson.M{"$gte": from.UTC(), "$lt": to.UTC()}, "cancelled_at": live["cancelled_at"]}}},
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
// [from, to) and are not cancelled — the same activities CountActivities
// counts, so that an activity and its participants always fall in one
// period, even a check-in made in the grace hour before an activity
// starting at midnight. The activities are read first and their check-ins
// by activity (a period holds few activities), so each check-in carries its
// activity's kind and start as they are now — an edit or a cancellation
// has no copies to catch up with. They come ordered by the activity's
// start, then activity and member.
func (s *Activities) CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error) {
	acts, err := findAll(ctx, s.activities, "activities", func(d *activityDoc) *model.Activity { return d.model() },
		bson.M{"starts_at": bson.M{"$gte": from.UTC(), "$lt": to.UTC()}, "cancelled_at": live["cancelled_at"]},
		options.Find().SetHint(ixActivitiesStart))
	if err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", err)
	}
	if len(acts) == 0 {
		return []model.Checkin{}, nil
	}
	byID := make(map[string]*model.Activity, len(acts))
	ids := make(bson.A, 0, len(acts))
	for _, a := range acts {
		byID[a.ID] = a
		ids = append(ids, a.ID)
	}
	out, err := findAll(ctx, s.checkins, "activity check-ins", func(d *checkinDoc) model.Checkin { return d.model() },
		bson.M{"activity_id": bson.M{"$in": ids}}, options.Find().SetHint(ixCheckinsActivity))
	if err != nil {
		return nil, fmt.Errorf("activity check-ins: %w", err)
	}
	for i := range out {
		a := byID[out[i].ActivityID]
		out[i].Kind, out[i].StartsAt = a.Kind, a.StartsAt
	}
	slices.SortFunc(out, func(x, y model.Checkin) int {
		return cmp.Or(x.StartsAt.Compare(y.StartsAt), strings.Compare(x.ActivityID, y.ActivityID), strings.Compare(x.MemberID, y.MemberID))
	})
	return out, nil
}

// Checkins returns an activity's check-ins in the order they were made.
func (s *Activities) Checkins(ctx context.Context, activityID string) ([]model.Checkin, error) {
	out, err := findAll(ctx, s.checkins, "an activity's check-ins", func(d *checkinDoc) model.Checkin { return d.model() },
		bson.M{"activity_id": activityID},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}}).SetHint(ixCheckinsActivity))
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(x, y model.Checkin) int {
		return cmp.Or(x.At.Compare(y.At), strings.Compare(x.MemberID, y.MemberID))
	})
	return out, nil
}

// List returns a page of the activities f selects, latest start first (or
// soonest with f.Soonest), after cursor ("<starts_at ms>:<id>" of the
// previous page's last). Errors: invalid_argument (cursor).
func (s *Activities) List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error) {
	and := bson.A{}
	starts := bson.M{}
	if !f.From.IsZero() {
		starts["$gte"] = f.From.UTC()
	}
	if !f.To.IsZero() {
		starts["$lt"] = f.To.UTC()
	}
	if !f.EndsAfter.IsZero() {
		// No activity lasts longer than MaxActivitySpan: the start bounds
		// the index's range.
		and = append(and, bson.M{"ends_at": bson.M{"$gt": f.EndsAfter.UTC()}},
			bson.M{"starts_at": bson.M{"$gt": f.EndsAfter.Add(-model.MaxActivitySpan).UTC()}})
	}
	if len(starts) > 0 {
		and = append(and, bson.M{"starts_at": starts})
	}
	hint := ixActivitiesStartID
	if len(f.Communities) > 0 {
		and, hint = append(and, bson.M{"community": bson.M{"$in": f.Communities}}), ixActivitiesCommunity
	}
	if f.Kind != "" {
		and = append(and, bson.M{"kind": string(f.Kind)})
		if hint == ixActivitiesStartID {
			hint = ixActivitiesKind
		}
	}
	if f.Live {
		and = append(and, live)
	}
	op, dir := "$lt", -1
	if f.Soonest {
		op, dir = "$gt", 1
	}
	if cursor != "" {
		ms, id, ok := strings.Cut(cursor, ":")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, "", model.Invalid("cursor", "不是本列表给出的 next_cursor")
		}
		at := time.UnixMilli(n).UTC()
		and = append(and, bson.M{"$or": bson.A{
			bson.M{"starts_at": bson.M{op: at}},
			bson.M{"starts_at": at, "_id": bson.M{op: id}},
		}})
	}
	filter := bson.M{}
	if len(and) > 0 {
		filter["$and"] = and
	}
	out, err := findAll(ctx, s.activities, "activities", func(d *activityDoc) *model.Activity { return d.model() }, filter,
		options.Find().SetSort(bson.D{{Key: "starts_at", Value: dir}, {Key: "_id", Value: dir}}).SetLimit(int64(limit+1)).SetHint(hint))
	if err != nil {
		return nil, "", fmt.Errorf("list activities: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = strconv.FormatInt(last.StartsAt.UnixMilli(), 10) + ":" + last.ID
	}
	return out, next, nil
}

// Update writes a's title, community and times (one document), then its
// check-ins' copy of the start (which nothing counts by: CheckinsBetween
// reads the activity's). Errors: not_found, conflict (cancelled).
func (s *Activities) Update(ctx context.Context, a *model.Activity) error {
	starts, ends := a.StartsAt.UTC().Truncate(time.Millisecond), a.EndsAt.UTC().Truncate(time.Millisecond)
	res, err := s.activities.UpdateOne(ctx, bson.M{"_id": a.ID, "cancelled_at": live["cancelled_at"]},
		bson.M{"$set": bson.M{"title": a.Title, "community": a.Community, "starts_at": starts, "ends_at": ends}})
	if err != nil {
		return fmt.Errorf("update activity: %w", translate(err))
	}
	if res.MatchedCount == 0 {
		return s.gone(ctx, a.ID)
	}
	if _, err := s.checkins.UpdateMany(ctx, bson.M{"activity_id": a.ID}, bson.M{"$set": bson.M{"starts_at": starts}}); err != nil {
		return fmt.Errorf("update activity check-ins: %w", translate(err))
	}
	a.StartsAt, a.EndsAt = starts, ends
	return nil
}

// gone is why activity id was not changed: not_found, or conflict when it
// is cancelled.
func (s *Activities) gone(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Errorf(model.CodeNotFound, "没有活动 %s", id)
		}
		return err
	}
	return model.Errorf(model.CodeConflict, "活动已取消，不能再修改或取消")
}

// Cancel marks an activity cancelled (one conditional update: of two
// cancellations one wins). Errors: not_found, conflict.
func (s *Activities) Cancel(ctx context.Context, id, reason string, at time.Time) (*model.Activity, error) {
	at = at.UTC().Truncate(time.Millisecond)
	res, err := s.activities.UpdateOne(ctx, bson.M{"_id": id, "cancelled_at": live["cancelled_at"]},
		bson.M{"$set": bson.M{"cancelled_at": at, "cancel_reason": reason}})
	if err != nil {
		return nil, fmt.Errorf("cancel activity: %w", translate(err))
	}
	if res.MatchedCount == 0 {
		return nil, s.gone(ctx, id)
	}
	return s.Get(ctx, id)
}
