package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// Staff keeps the staff's accounts (the staff collection, which Users reads
// at login): names, roles, disabled, session versions; and the session
// versions of WeChat users.
type Staff struct {
	staff *mongo.Collection
	users *mongo.Collection
	now   func() time.Time
}

// NewStaff returns the staff account store of m.
func NewStaff(m *Mongo, now func() time.Time) *Staff {
	return &Staff{staff: m.db.Collection(colStaff), users: m.db.Collection(colUsers), now: now}
}

func roleStrings(roles []model.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// Create stores a new account. Errors: conflict (username taken),
// unavailable.
func (s *Staff) Create(ctx context.Context, u *model.User, hash []byte) (*model.User, error) {
	d := staffDoc{ID: NewID(), Username: u.Username, PasswordHash: hash, CreatedAt: s.now().UTC(), Name: u.Name, Roles: roleStrings(u.Roles)}
	if _, err := s.staff.InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil, model.Wrap(model.CodeConflict, err, fmt.Sprintf("用户名 %s 已被使用", u.Username))
		}
		return nil, fmt.Errorf("create staff: %w", translate(err))
	}
	return d.model(), nil
}

// List returns every staff account by username (through the unique
// username index). Errors: unavailable.
func (s *Staff) List(ctx context.Context) ([]*model.User, error) {
	return findAll(ctx, s.staff, "list staff", (*staffDoc).model, bson.M{},
		options.Find().SetSort(bson.D{{Key: "username", Value: 1}}).SetHint("username_unique"))
}

// Update changes the name, the roles and disabled, each when given;
// disabling raises the session version. Errors: not_found, unavailable.
func (s *Staff) Update(ctx context.Context, id string, name *string, roles []model.Role, disabled *bool) (*model.User, error) {
	set := bson.M{}
	update := bson.M{}
	if name != nil {
		set["name"] = *name
	}
	if roles != nil {
		set["roles"] = roleStrings(roles)
	}
	filter := bson.M{"_id": id}
	if disabled != nil {
		set["disabled"] = *disabled
	}
	if len(set) > 0 {
		update["$set"] = set
	}
	if disabled != nil && *disabled {
		// Ending its sessions once: only an enabled account's version rises.
		var cur staffDoc
		if err := s.staff.FindOne(ctx, filter).Decode(&cur); err != nil {
			return nil, fmt.Errorf("update staff: %w", translate(err))
		}
		if !cur.Disabled {
			update["$inc"] = bson.M{"sessions": 1}
		}
	}
	var d staffDoc
	var err error
	if len(update) == 0 {
		err = s.staff.FindOne(ctx, filter).Decode(&d)
	} else {
		err = s.staff.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	}
	if err != nil {
		return nil, fmt.Errorf("update staff: %w", translate(err))
	}
	return d.model(), nil
}

// SetPassword sets the hash (and the configured password's, when seed is
// given) and raises the session version. Errors: not_found, unavailable.
func (s *Staff) SetPassword(ctx context.Context, id string, hash, seed []byte) (*model.User, error) {
	set := bson.M{"password_hash": hash}
	if seed != nil {
		set["seed_hash"] = seed
	}
	var d staffDoc
	err := s.staff.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$set": set, "$inc": bson.M{"sessions": 1}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("set staff password: %w", translate(err))
	}
	return d.model(), nil
}

// Seed returns the configured password's hash last applied (nil if none).
// Errors: not_found, unavailable.
func (s *Staff) Seed(ctx context.Context, id string) ([]byte, error) {
	var d staffDoc
	if err := s.staff.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("staff seed: %w", translate(err))
	}
	return d.SeedHash, nil
}

// EndSessions raises the session version of an account. Errors: not_found,
// unavailable.
func (s *Staff) EndSessions(ctx context.Context, kind model.UserKind, id string) (int64, error) {
	c := s.users
	if kind == model.KindStaff {
		c = s.staff
	}
	var d struct {
		Sessions int64 `bson:"sessions"`
	}
	err := c.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$inc": bson.M{"sessions": 1}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d) // FerretDB takes no projection here
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, model.Errorf(model.CodeNotFound, "没有账号 %s", id)
	}
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", translate(err))
	}
	return d.Sessions, nil
}
