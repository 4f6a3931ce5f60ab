package mongodb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colUsers   = "users"
	colStaff   = "staff"
	colInvites = "invites"
	// colInviteRedemptions holds one document per used invite: its unique
	// _id decides who redeemed it.
	colInviteRedemptions = "invite_redemptions"
	// colProfileLinks holds one document per bound profile, deciding which
	// WeChat user holds it.
	colProfileLinks = "profile_links"
	colWorkers      = "workers"
	colBranches     = "branches"
	colPartyMembers = "party_members"
)

// Users stores WeChat users and staff accounts.
type Users struct {
	users *mongo.Collection
	staff *mongo.Collection
	now   func() time.Time
}

// NewUsers returns the user store of m.
func NewUsers(m *Mongo, now func() time.Time) *Users {
	return &Users{users: m.db.Collection(colUsers), staff: m.db.Collection(colStaff), now: msClock(now)}
}

type userDoc struct {
	ID            string    `bson:"_id"`
	OpenID        string    `bson:"openid"`
	Roles         []string  `bson:"roles"`
	WorkerID      string    `bson:"worker_id,omitempty"`
	PartyMemberID string    `bson:"party_member_id,omitempty"`
	OnDuty        bool      `bson:"on_duty"`
	CreatedAt     time.Time `bson:"created_at"`
	Sessions      int64     `bson:"sessions,omitempty"`
}

func (d *userDoc) model() *model.User {
	u := &model.User{
		ID: d.ID, Kind: model.KindWeChat, OpenID: d.OpenID,
		WorkerID: d.WorkerID, PartyMemberID: d.PartyMemberID, OnDuty: d.OnDuty, CreatedAt: d.CreatedAt, Sessions: d.Sessions,
	}
	for _, r := range d.Roles {
		u.Roles = append(u.Roles, model.Role(r))
	}
	return u
}

type staffDoc struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	PasswordHash []byte    `bson:"password_hash"`
	CreatedAt    time.Time `bson:"created_at"`
	// Name, roles, disabled and the session version (staff.go); an account
	// stored before roles has none and keeps what it could do: admin and
	// dispatcher.
	Name     string   `bson:"name,omitempty"`
	Roles    []string `bson:"roles,omitempty"`
	Disabled bool     `bson:"disabled,omitempty"`
	Sessions int64    `bson:"sessions,omitempty"`
	SeedHash []byte   `bson:"seed_hash,omitempty"`
}

// bootstrapRoles are the roles of an account stored without any: the
// bootstrap account, and accounts from before roles.
var bootstrapRoles = []model.Role{model.RoleStaff, model.RoleAdmin, model.RoleDispatcher}

func (d *staffDoc) model() *model.User {
	u := &model.User{ID: d.ID, Kind: model.KindStaff, Username: d.Username, Name: d.Name, Disabled: d.Disabled,
		Sessions: d.Sessions, CreatedAt: d.CreatedAt}
	for _, r := range d.Roles {
		u.Roles = append(u.Roles, model.Role(r))
	}
	if len(u.Roles) == 0 {
		u.Roles = append(u.Roles, bootstrapRoles...)
	}
	if !u.Has(model.RoleStaff) {
		u.Roles = append([]model.Role{model.RoleStaff}, u.Roles...)
	}
	return u
}

// UpsertWeChat returns the user of openid, creating them as a resident on
// first login. The unique index on openid makes concurrent first logins of
// one person converge on one user.
func (s *Users) UpsertWeChat(ctx context.Context, openID string) (*model.User, error) {
	filter := bson.M{"openid": openID}
	update := bson.M{"$setOnInsert": bson.M{
		"_id": NewID(), "roles": []string{string(model.RoleResident)}, "on_duty": false, "created_at": s.now().UTC(),
	}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var d userDoc
	err := s.users.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
	if mongo.IsDuplicateKeyError(err) {
		// Lost the race to create: the winner's document is there now.
		err = s.users.FindOne(ctx, filter).Decode(&d)
	}
	if err != nil {
		return nil, fmt.Errorf("upsert user: %w", translate(err))
	}
	return d.model(), nil
}

// Get returns a WeChat user by id (not_found if there is none).
func (s *Users) Get(ctx context.Context, id string) (*model.User, error) {
	var d userDoc
	if err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get user: %w", translate(err))
	}
	return d.model(), nil
}

// Bind grants role to a user and links the profile; it is idempotent.
func (s *Users) Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error) {
	set := bson.M{}
	switch role {
	case model.RoleGridWorker:
		set["worker_id"] = profileID
	case model.RolePartyMember:
		set["party_member_id"] = profileID
	default:
		return nil, model.Errorf(model.CodeInvalidArgument, "身份 %s 不能通过邀请码绑定", role)
	}
	var d userDoc
	err := s.users.FindOneAndUpdate(ctx, bson.M{"_id": userID},
		bson.M{"$set": set, "$addToSet": bson.M{"roles": string(role)}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("bind user: %w", translate(err))
	}
	return d.model(), nil
}

// Unbind takes a role a bound profile granted away from a user (its
// profile was deactivated); the profile link stays, so Bind gives it back.
func (s *Users) Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error) {
	var d userDoc
	err := s.users.FindOneAndUpdate(ctx, bson.M{"_id": userID}, bson.M{"$pull": bson.M{"roles": string(role)}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("unbind user: %w", translate(err))
	}
	return d.model(), nil
}

// SetDuty sets whether a user is on duty.
func (s *Users) SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error) {
	var d userDoc
	err := s.users.FindOneAndUpdate(ctx, bson.M{"_id": userID}, bson.M{"$set": bson.M{"on_duty": onDuty}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("set duty: %w", translate(err))
	}
	return d.model(), nil
}

// GetStaff returns a staff account by id.
func (s *Users) GetStaff(ctx context.Context, id string) (*model.User, error) {
	var d staffDoc
	if err := s.staff.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get staff: %w", translate(err))
	}
	return d.model(), nil
}

// StaffCredentials returns a staff account and its bcrypt hash by username.
func (s *Users) StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error) {
	var d staffDoc
	if err := s.staff.FindOne(ctx, bson.M{"username": username}).Decode(&d); err != nil {
		return nil, nil, fmt.Errorf("get staff: %w", translate(err))
	}
	return d.model(), d.PasswordHash, nil
}

// UpsertStaff creates the account or sets its password hash.
func (s *Users) UpsertStaff(ctx context.Context, username string, hash []byte) (*model.User, error) {
	var d staffDoc
	err := s.staff.FindOneAndUpdate(ctx, bson.M{"username": username},
		bson.M{"$set": bson.M{"password_hash": hash}, "$setOnInsert": bson.M{"_id": NewID(), "created_at": s.now().UTC()}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if mongo.IsDuplicateKeyError(err) {
		return s.UpsertStaff(ctx, username, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("upsert staff: %w", translate(err))
	}
	return d.model(), nil
}

// StaffExists reports whether the account exists.
func (s *Users) StaffExists(ctx context.Context, username string) (bool, error) {
	n, err := s.staff.CountDocuments(ctx, bson.M{"username": username})
	if err != nil {
		return false, fmt.Errorf("count staff: %w", translate(err))
	}
	return n > 0, nil
}

// OnDuty returns those of ids whose user is on duty, in the order given. A
// grid has a handful of workers, so it looks each up by _id, all at once:
// every user of the city is in this collection, and FerretDB would decode
// all of them to answer an $in.
func (s *Users) OnDuty(ctx context.Context, ids []string) ([]string, error) {
	onDuty := make([]bool, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			var d struct {
				OnDuty bool `bson:"on_duty"`
			}
			err := s.users.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"on_duty": 1})).Decode(&d)
			if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
				errs[i] = fmt.Errorf("on-duty users: %w", translate(err))
			}
			onDuty[i] = d.OnDuty
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []string
	for i, id := range ids {
		if onDuty[i] {
			out = append(out, id)
		}
	}
	return out, nil
}
