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

const colAudit = "audit"

// The access trail's indexes: one per filter, with _id (time order, see
// model.NewID) after it, so that each list reads its entries newest first
// within a time range. A list without a filter reads the _id index.
const (
	ixAuditActor  = "actor_id"
	ixAuditAction = "action_id"
	ixAuditTarget = "target_id"
)

// Trail is the access trail: one document per entry, its _id made from its
// time, never updated.
type Trail struct {
	c   *mongo.Collection
	now func() time.Time
}

// NewTrail returns the access trail of m.
func NewTrail(m *Mongo, now func() time.Time) *Trail {
	return &Trail{c: m.db.Collection(colAudit), now: now}
}

type auditDoc struct {
	ID        string    `bson:"_id"`
	At        time.Time `bson:"at"`
	ActorID   string    `bson:"actor_id"`
	ActorName string    `bson:"actor_name"`
	Action    string    `bson:"action"`
	Target    string    `bson:"target"`
	Detail    string    `bson:"detail"`
	IP        string    `bson:"ip"`
}

func (d *auditDoc) model() model.AuditEntry {
	return model.AuditEntry{ID: d.ID, At: d.At, ActorID: d.ActorID, ActorName: d.ActorName, Action: model.AuditAction(d.Action),
		Target: d.Target, Detail: d.Detail, IP: d.IP}
}

// Append records e and sets its ID. Errors: unavailable.
func (s *Trail) Append(ctx context.Context, e *model.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	d := auditDoc{ID: model.NewID(e.At), At: e.At.UTC().Truncate(time.Millisecond), ActorID: e.ActorID, ActorName: e.ActorName,
		Action: string(e.Action), Target: e.Target, Detail: e.Detail, IP: e.IP}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("append to the access trail: %w", translate(err))
	}
	e.ID = d.ID
	return nil
}

// idAt is the least id model.NewID gives at or after the second of t.
func idAt(t time.Time) string { return fmt.Sprintf("%08x0000000000000000", uint32(t.Unix())) }

// auditIndex names the index a query of q reads: that of its most
// selective filter (a target, then an actor, then an action), else _id's.
func auditIndex(q model.AuditQuery) string {
	switch {
	case q.Target != "":
		return ixAuditTarget
	case q.ActorID != "":
		return ixAuditActor
	case q.Action != "":
		return ixAuditAction
	}
	return "_id_"
}

// auditFilter is the filter of a page of q after cursor.
func auditFilter(q model.AuditQuery, cursor string) bson.M {
	f := bson.M{}
	if q.ActorID != "" {
		f["actor_id"] = q.ActorID
	}
	if q.Action != "" {
		f["action"] = string(q.Action)
	}
	if q.Target != "" {
		f["target"] = q.Target
	}
	id := bson.M{}
	if !q.From.IsZero() {
		id["$gte"] = idAt(q.From)
	}
	if !q.To.IsZero() {
		id["$lt"] = idAt(q.To)
	}
	if cursor != "" && (id["$lt"] == nil || cursor < id["$lt"].(string)) {
		id["$lt"] = cursor
	}
	if len(id) > 0 {
		f["_id"] = id
	}
	return f
}

// List returns a page of the entries matching q, newest first. Errors:
// invalid_argument (cursor), unavailable.
func (s *Trail) List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error) {
	if cursor != "" {
		if _, ok := model.IDTime(cursor); !ok {
			return nil, "", model.Invalid("cursor", "不是本服务给出的游标")
		}
	}
	out, err := findAll(ctx, s.c, "list the access trail", (*auditDoc).model, auditFilter(q, cursor),
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)).SetHint(auditIndex(q)))
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Prune removes up to limit entries older than before. Errors:
// unavailable.
func (s *Trail) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	cur, err := s.c.Find(ctx, bson.M{"_id": bson.M{"$lt": idAt(before)}},
		options.Find().SetProjection(bson.M{"_id": 1}).SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return 0, fmt.Errorf("prune the access trail: %w", translate(err))
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("prune the access trail: %w", translate(err))
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make(bson.A, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	res, err := s.c.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return 0, fmt.Errorf("prune the access trail: %w", translate(err))
	}
	return int(res.DeletedCount), nil
}
