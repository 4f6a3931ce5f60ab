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

// People stores the profiles staff create: grid workers, party branches and
// party members.
type People struct {
	workers  *mongo.Collection
	branches *mongo.Collection
	members  *mongo.Collection
	links    *mongo.Collection
	now      func() time.Time
}

// NewPeople returns the people store of m.
func NewPeople(m *Mongo, now func() time.Time) *People {
	return &People{
		workers:  m.db.Collection(colWorkers),
		branches: m.db.Collection(colBranches),
		members:  m.db.Collection(colPartyMembers),
		links:    m.db.Collection(colProfileLinks),
		now:      now,
	}
}

type workerDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Phone     string    `bson:"phone"`
	GridCodes []string  `bson:"grid_codes"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
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
	CreatedAt   time.Time `bson:"created_at"`
}

// CreateWorker stores a new grid worker profile and returns it with its id.
func (s *People) CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error) {
	w.ID, w.CreatedAt = NewID(), s.now().UTC()
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
	p.ID, p.CreatedAt = NewID(), s.now().UTC()
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

// WorkerUsers returns the WeChat users bound to worker profiles of a grid.
func (s *People) WorkerUsers(ctx context.Context, gridCode string) ([]string, error) {
	cur, err := s.workers.Find(ctx, bson.M{"grid_codes": gridCode, "user_id": bson.M{"$ne": ""}},
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
	return &model.PartyMember{ID: d.ID, Name: d.Name, Phone: d.Phone, BranchID: d.BranchID,
		Communities: d.Communities, UserID: d.UserID, CreatedAt: d.CreatedAt}, nil
}

// GetWorker returns a grid worker profile.
func (s *People) GetWorker(ctx context.Context, id string) (*model.Worker, error) {
	var d workerDoc
	if err := s.workers.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get worker: %w", translate(err))
	}
	return &model.Worker{ID: d.ID, Name: d.Name, Phone: d.Phone, GridCodes: d.GridCodes, UserID: d.UserID, CreatedAt: d.CreatedAt}, nil
}
