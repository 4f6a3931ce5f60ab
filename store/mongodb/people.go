package mongodb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// People stores the profiles staff create: grid workers, party branches and
// party members.
type People struct {
	workers  *mongo.Collection
	branches *mongo.Collection
	members  *mongo.Collection
	links    *mongo.Collection
	phones   *mongo.Collection
	now      func() time.Time
}

// colPhoneClaims holds one document per phone held by an active worker or
// party member, {_id: "<role>/<phone>", profile}: the unique _id decides
// which of two profiles given one phone at once keeps it.
const colPhoneClaims = "phone_claims"

// NewPeople returns the people store of m.
func NewPeople(m *Mongo, now func() time.Time) *People {
	return &People{
		workers:  m.db.Collection(colWorkers),
		branches: m.db.Collection(colBranches),
		members:  m.db.Collection(colPartyMembers),
		links:    m.db.Collection(colProfileLinks),
		phones:   m.db.Collection(colPhoneClaims),
		now:      msClock(now),
	}
}

type workerDoc struct {
	ID        string   `bson:"_id"`
	Name      string   `bson:"name"`
	Phone     string   `bson:"phone"`
	GridCodes []string `bson:"grid_codes"`
	UserID    string   `bson:"user_id"`
	// Inactive rather than active, so that profiles stored before
	// deactivation existed read as active.
	Inactive  bool      `bson:"inactive,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
}

func (d *workerDoc) model() *model.Worker {
	return &model.Worker{ID: d.ID, Name: d.Name, Phone: d.Phone, GridCodes: d.GridCodes, UserID: d.UserID, Active: !d.Inactive, CreatedAt: d.CreatedAt}
}

type branchDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"created_at"`
}

type memberDoc struct {
	ID          string    `bson:"_id"`
	Name        string    `bson:"name"`
	Phone       string    `bson:"phone"`
	BranchID    string    `bson:"branch_id"`
	Communities []string  `bson:"communities"`
	UserID      string    `bson:"user_id"`
	Inactive    bool      `bson:"inactive,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
}

func (d *memberDoc) model() *model.PartyMember {
	return &model.PartyMember{ID: d.ID, Name: d.Name, Phone: d.Phone, BranchID: d.BranchID,
		Communities: d.Communities, UserID: d.UserID, Active: !d.Inactive, CreatedAt: d.CreatedAt}
}

// CreateWorker stores a new grid worker profile and returns it with its id.
func (s *People) CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error) {
	if w.ID == "" {
		w.ID = NewID()
	}
	w.CreatedAt, w.Active = s.now().UTC(), true
	_, err := s.workers.InsertOne(ctx, workerDoc{ID: w.ID, Name: w.Name, Phone: w.Phone, GridCodes: w.GridCodes, CreatedAt: w.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", translate(err))
	}
	return &w, nil
}

// CreateBranch stores a new party branch.
func (s *People) CreateBranch(ctx context.Context, b model.Branch) (*model.Branch, error) {
	b.ID, b.CreatedAt = NewID(), s.now().UTC()
	if _, err := s.branches.InsertOne(ctx, branchDoc{ID: b.ID, Name: b.Name, CreatedAt: b.CreatedAt}); err != nil {
		return nil, fmt.Errorf("create branch: %w", translate(err))
	}
	return &b, nil
}

// GetBranch returns a branch by id (not_found if none).
func (s *People) GetBranch(ctx context.Context, id string) (*model.Branch, error) {
	var d branchDoc
	if err := s.branches.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get branch: %w", translate(err))
	}
	return &model.Branch{ID: d.ID, Name: d.Name, CreatedAt: d.CreatedAt}, nil
}

// CreatePartyMember stores a new party member profile.
func (s *People) CreatePartyMember(ctx context.Context, p model.PartyMember) (*model.PartyMember, error) {
	if p.ID == "" {
		p.ID = NewID()
	}
	p.CreatedAt, p.Active = s.now().UTC(), true
	_, err := s.members.InsertOne(ctx, memberDoc{
		ID: p.ID, Name: p.Name, Phone: p.Phone, BranchID: p.BranchID, Communities: p.Communities, CreatedAt: p.CreatedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("create party member: %w", translate(err))
	}
	return &p, nil
}

// LinkUser records which WeChat user a worker or party-member profile
// belongs to. It succeeds again for the same user (idempotent) and is a
// conflict when another user holds the profile; the decision is a unique
// insert, atomic on MongoDB and FerretDB alike.
func (s *People) LinkUser(ctx context.Context, role model.Role, profileID, userID string) error {
	_, err := s.links.InsertOne(ctx, bson.M{"_id": string(role) + "/" + profileID, "user_id": userID, "at": s.now().UTC()})
	if mongo.IsDuplicateKeyError(err) {
		var l struct {
			UserID string `bson:"user_id"`
		}
		if err := s.links.FindOne(ctx, bson.M{"_id": string(role) + "/" + profileID}).Decode(&l); err != nil {
			return fmt.Errorf("link profile: %w", translate(err))
		}
		if l.UserID != userID {
			return model.Errorf(model.CodeConflict, "这份档案已绑定到另一个微信用户")
		}
	} else if err != nil {
		return fmt.Errorf("link profile: %w", translate(err))
	}
	c := s.workers
	if role == model.RolePartyMember {
		c = s.members
	}
	if _, err := c.UpdateOne(ctx, bson.M{"_id": profileID}, bson.M{"$set": bson.M{"user_id": userID}}); err != nil {
		return fmt.Errorf("link profile: %w", translate(err))
	}
	return nil
}

// WorkerUsers returns the WeChat users bound to the active worker profiles
// of a grid: who routing may pick.
func (s *People) WorkerUsers(ctx context.Context, gridCode string) ([]string, error) {
	cur, err := s.workers.Find(ctx, bson.M{"grid_codes": gridCode, "user_id": bson.M{"$ne": ""}, "inactive": bson.M{"$ne": true}},
		options.Find().SetProjection(bson.M{"user_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("grid workers: %w", translate(err))
	}
	var docs []workerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("grid workers: %w", translate(err))
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.UserID)
	}
	return out, nil
}

// GetPartyMember returns a party member profile.
func (s *People) GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error) {
	var d memberDoc
	if err := s.members.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get party member: %w", translate(err))
	}
	return d.model(), nil
}

// GetWorker returns a grid worker profile.
func (s *People) GetWorker(ctx context.Context, id string) (*model.Worker, error) {
	var d workerDoc
	if err := s.workers.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get worker: %w", translate(err))
	}
	return d.model(), nil
}

// peopleFilter is the MongoDB filter of a directory query. Words match
// the name or the phone as literal, case-insensitive substrings.
func peopleFilter(f model.PeopleFilter) bson.M {
	filter := bson.M{}
	if f.Grid != "" {
		filter["grid_codes"] = f.Grid
	}
	if f.Community != "" {
		filter["communities"] = f.Community
	}
	if f.BranchID != "" {
		filter["branch_id"] = f.BranchID
	}
	if f.Active != nil {
		if *f.Active {
			filter["inactive"] = bson.M{"$ne": true}
		} else {
			filter["inactive"] = true
		}
	}
	var and bson.A
	for _, w := range f.Words {
		re := bson.Regex{Pattern: regexp.QuoteMeta(w), Options: "i"}
		and = append(and, bson.M{"$or": bson.A{bson.M{"name": re}, bson.M{"phone": re}}})
	}
	if len(and) > 0 {
		filter["$and"] = and
	}
	return filter
}

// listPage reads one page of a directory collection in creation order
// (created_at, then _id) after cursor — the id of the previous page's last
// row — and the number of all matches.
func listPage[D any](ctx context.Context, c *mongo.Collection, filter bson.M, hint string, cursor string, limit int, idOf func(D) string) ([]D, string, int64, error) {
	total, err := c.CountDocuments(ctx, filter, options.Count().SetHint(hint))
	if err != nil {
		return nil, "", 0, translate(err)
	}
	if cursor != "" {
		var last struct {
			CreatedAt time.Time `bson:"created_at"`
		}
		if err := c.FindOne(ctx, bson.M{"_id": cursor}, options.FindOne().SetProjection(bson.M{"created_at": 1})).Decode(&last); err != nil {
			if err == mongo.ErrNoDocuments {
				return nil, "", 0, model.Invalid("cursor", "不是本服务给出的游标")
			}
			return nil, "", 0, translate(err)
		}
		after := bson.M{"$or": bson.A{
			bson.M{"created_at": bson.M{"$gt": last.CreatedAt}},
			bson.M{"created_at": last.CreatedAt, "_id": bson.M{"$gt": cursor}},
		}}
		filter = bson.M{"$and": bson.A{filter, after}}
	}
	cur, err := c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit+1)).SetHint(hint))
	if err != nil {
		return nil, "", 0, translate(err)
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", 0, translate(err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = idOf(docs[limit-1])
	}
	return docs, next, total, nil
}

// ListWorkers returns a page of worker profiles matching f in creation
// order, the next cursor ("" at the end) and how many match in all.
func (s *People) ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error) {
	hint := ixWorkersCreated
	if f.Grid != "" {
		hint = ixWorkersGrid
	}
	docs, next, total, err := listPage(ctx, s.workers, peopleFilter(f), hint, cursor, limit, func(d workerDoc) string { return d.ID })
	if err != nil {
		return nil, "", 0, fmt.Errorf("list workers: %w", err)
	}
	out := make([]*model.Worker, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, next, total, nil
}

// ListPartyMembers returns a page of party member profiles matching f, as
// ListWorkers does.
func (s *People) ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error) {
	hint := ixMembersCreated
	switch {
	case f.BranchID != "":
		hint = ixMembersBranch
	case f.Community != "":
		hint = ixMembersCommunit
	}
	docs, next, total, err := listPage(ctx, s.members, peopleFilter(f), hint, cursor, limit, func(d memberDoc) string { return d.ID })
	if err != nil {
		return nil, "", 0, fmt.Errorf("list party members: %w", err)
	}
	out := make([]*model.PartyMember, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, next, total, nil
}

// linkedUser returns the WeChat user profile_links says holds a profile, or
// "". The profile document's user_id is a copy; an update of the profile
// rewrites it from here so that a bind racing the update is not undone.
func (s *People) linkedUser(ctx context.Context, role model.Role, profileID string) (string, error) {
	var l struct {
		UserID string `bson:"user_id"`
	}
	err := s.links.FindOne(ctx, bson.M{"_id": string(role) + "/" + profileID}).Decode(&l)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	if err != nil {
		return "", translate(err)
	}
	return l.UserID, nil
}

// UpdateWorker writes a worker profile's name, phone, grid codes and
// activity (not_found if there is no such profile).
func (s *People) UpdateWorker(ctx context.Context, w *model.Worker) error {
	user, err := s.linkedUser(ctx, model.RoleGridWorker, w.ID)
	if err != nil {
		return fmt.Errorf("update worker: %w", err)
	}
	w.UserID = user
	res, err := s.workers.UpdateOne(ctx, bson.M{"_id": w.ID}, bson.M{"$set": bson.M{
		"name": w.Name, "phone": w.Phone, "grid_codes": w.GridCodes, "inactive": !w.Active, "user_id": user,
	}})
	if err != nil {
		return fmt.Errorf("update worker: %w", translate(err))
	}
	if res.MatchedCount == 0 {
		return model.Errorf(model.CodeNotFound, "没有这个网格员")
	}
	return nil
}

// UpdatePartyMember writes a party member profile's name, phone, branch,
// communities and activity (not_found if there is no such profile).
func (s *People) UpdatePartyMember(ctx context.Context, p *model.PartyMember) error {
	user, err := s.linkedUser(ctx, model.RolePartyMember, p.ID)
	if err != nil {
		return fmt.Errorf("update party member: %w", err)
	}
	p.UserID = user
	res, err := s.members.UpdateOne(ctx, bson.M{"_id": p.ID}, bson.M{"$set": bson.M{
		"name": p.Name, "phone": p.Phone, "branch_id": p.BranchID, "communities": p.Communities, "inactive": !p.Active, "user_id": user,
	}})
	if err != nil {
		return fmt.Errorf("update party member: %w", translate(err))
	}
	if res.MatchedCount == 0 {
		return model.Errorf(model.CodeNotFound, "没有这个在职党员")
	}
	return nil
}

// ListBranches returns every party branch by name, with how many active
// party members each has.
func (s *People) ListBranches(ctx context.Context) ([]model.Branch, map[string]int, error) {
	cur, err := s.branches.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, nil, fmt.Errorf("list branches: %w", translate(err))
	}
	var docs []branchDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, nil, fmt.Errorf("list branches: %w", translate(err))
	}
	agg, err := s.members.Aggregate(ctx, bson.A{
		bson.M{"$match": bson.M{"inactive": bson.M{"$ne": true}}},
		bson.M{"$group": bson.M{"_id": "$branch_id", "n": bson.M{"$sum": 1}}},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("count branch members: %w", translate(err))
	}
	var counts []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := agg.All(ctx, &counts); err != nil {
		return nil, nil, fmt.Errorf("count branch members: %w", translate(err))
	}
	members := make(map[string]int, len(counts))
	for _, c := range counts {
		members[c.ID] = c.N
	}
	out := make([]model.Branch, len(docs))
	for i, d := range docs {
		out[i] = model.Branch{ID: d.ID, Name: d.Name, CreatedAt: d.CreatedAt}
	}
	return out, members, nil
}

// RenameBranch sets a branch's name (not_found if there is none).
func (s *People) RenameBranch(ctx context.Context, id, name string) (*model.Branch, error) {
	var d branchDoc
	err := s.branches.FindOneAndUpdate(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"name": name}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fmt.Errorf("rename branch: %w", translate(err))
	}
	return &model.Branch{ID: d.ID, Name: d.Name, CreatedAt: d.CreatedAt}, nil
}

func phoneClaimID(role model.Role, phone string) string { return string(role) + "/" + phone }

// phoneClaimInFlight is how long a claim whose profile does not hold the
// phone (yet) is taken for a profile being created, not one left behind.
const phoneClaimInFlight = 15 * time.Second

// ClaimPhone gives phone to an active profile of role. It returns the id
// of another active profile of the same role that holds the phone (and
// claims nothing), or "" once the phone is profileID's. The decision is
// the unique insert of the claim; a claim left by a profile that no
// longer holds the phone, or that was deactivated, is taken over, and a
// profile stored before claims existed is found by its phone.
func (s *People) ClaimPhone(ctx context.Context, role model.Role, phone, profileID string) (string, error) {
	c := s.workers
	if role == model.RolePartyMember {
		c = s.members
	}
	var other struct {
		ID string `bson:"_id"`
	}
	err := c.FindOne(ctx, bson.M{"phone": phone, "inactive": bson.M{"$ne": true}, "_id": bson.M{"$ne": profileID}},
		options.FindOne().SetProjection(bson.M{"_id": 1})).Decode(&other)
	if err == nil {
		return other.ID, nil
	}
	if err != mongo.ErrNoDocuments {
		return "", fmt.Errorf("claim phone: %w", translate(err))
	}
	id := phoneClaimID(role, phone)
	for range 2 {
		_, err := s.phones.InsertOne(ctx, bson.M{"_id": id, "profile": profileID, "at": s.now().UTC()})
		if err == nil {
			return "", nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return "", fmt.Errorf("claim phone: %w", translate(err))
		}
		var claim struct {
			Profile string    `bson:"profile"`
			At      time.Time `bson:"at"`
		}
		if err := s.phones.FindOne(ctx, bson.M{"_id": id}).Decode(&claim); err != nil {
			if err == mongo.ErrNoDocuments {
				continue
			}
			return "", fmt.Errorf("claim phone: %w", translate(err))
		}
		if claim.Profile == profileID {
			return "", nil
		}
		// Does the holder still hold it? A holder not created yet holds
		// it while its claim is young: a profile being created.
		var holder struct {
			Phone    string `bson:"phone"`
			Inactive bool   `bson:"inactive"`
		}
		err = c.FindOne(ctx, bson.M{"_id": claim.Profile}, options.FindOne().SetProjection(bson.M{"phone": 1, "inactive": 1})).Decode(&holder)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			if s.now().Sub(claim.At) < phoneClaimInFlight {
				return claim.Profile, nil
			}
		case err != nil:
			return "", fmt.Errorf("claim phone: %w", translate(err))
		case holder.Phone == phone && !holder.Inactive:
			return claim.Profile, nil
		}
		if _, err := s.phones.DeleteOne(ctx, bson.M{"_id": id, "profile": claim.Profile}); err != nil {
			return "", fmt.Errorf("claim phone: %w", translate(err))
		}
	}
	return "", model.Errorf(model.CodeConflict, "手机号 %s 正被同时分配给另一人，请稍后重试", phone)
}

// ReleasePhone gives up profileID's claim of phone, if it holds it.
func (s *People) ReleasePhone(ctx context.Context, role model.Role, phone, profileID string) error {
	if _, err := s.phones.DeleteOne(ctx, bson.M{"_id": phoneClaimID(role, phone), "profile": profileID}); err != nil {
		return fmt.Errorf("release phone: %w", translate(err))
	}
	return nil
}
