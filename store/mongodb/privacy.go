package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colErasures = "erasures"
	// ixRetention serves Expired: per final status, the tickets not yet
	// anonymised (no anon field) by how long they have been unchanged.
	ixRetention = "status_anon_updated"
)

// Privacy rewrites personal data: tickets anonymised (an entry in the log
// of transitions with no statistics delta and no handoff, and every
// earlier entry rewritten the same way), a resident's account deleted, the
// erasures still to do.
type Privacy struct {
	t             *Tickets
	users         *mongo.Collection
	subscriptions *mongo.Collection
	notifications *mongo.Collection
	submitters    *mongo.Collection
	erasures      *mongo.Collection
	now           func() time.Time
}

// NewPrivacy returns the privacy operations on m, through tickets.
func NewPrivacy(m *Mongo, tickets *Tickets, now func() time.Time) *Privacy {
	return &Privacy{t: tickets, users: m.db.Collection(colUsers), subscriptions: m.db.Collection(colSubscriptions),
		notifications: m.db.Collection(colNotifications), submitters: m.db.Collection(colOpen311Submitters),
		erasures: m.db.Collection(colErasures), now: now}
}

// personalDoc are the fields set at a ticket's insert that an
// anonymisation rewrites; the search grams and the digests of what the
// resident sent go with them.
type personalDoc struct {
	ReporterID  string   `bson:"reporter_id"`
	Description string   `bson:"description"`
	Address     string   `bson:"address"`
	Grams       []string `bson:"grams"`
	PhotoIDs    []string `bson:"photo_ids"`
	CallerName  string   `bson:"caller_name"`
	CallerPhone string   `bson:"caller_phone"`
	Idem        string   `bson:"idem"`
	BodyHash    string   `bson:"body_hash"`
}

func personalOf(t *model.Ticket) *personalDoc {
	return &personalDoc{ReporterID: t.ReporterID, Description: t.Description, Address: t.Address,
		Grams: nonNil(grams(t.Description, t.Address)), PhotoIDs: nonNil(t.PhotoIDs), CallerName: t.CallerName,
		CallerPhone: t.CallerPhone, Idem: "x:" + t.ID, BodyHash: ""}
}

// addTo adds the fields to a $set.
func (p *personalDoc) addTo(set bson.M) error {
	raw, err := bson.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode ticket: %w", err)
	}
	var m bson.M
	if err := bson.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("encode ticket: %w", err)
	}
	for k, v := range m {
		set[k] = v
	}
	return nil
}

// msgNotScreened is what an anonymisation of a report still being screened
// answers: it counts nothing yet, and a version without a transition would
// make it count.
const msgNotScreened = "这条上报还在审核中，审核完成后再匿名化"

// Anonymise writes scrub(before) as version before.Version+1: the log entry
// decides it (a transition decided on the old state loses to it), carrying
// no delta (the applier counts nothing) and no handoff, and the rewritten
// fields set at insert, so that whoever rolls it forward applies them too.
// Then every earlier entry of the ticket is rewritten by scrub, and, if
// complete, the ticket is marked anonymised (last: a crash before leaves
// it listed by Expired, and the next pass does it again). Errors:
// invalid_argument, conflict, not_found, unavailable.
func (p *Privacy) Anonymise(ctx context.Context, before *model.Ticket, scrub func(*model.Ticket), complete bool) (*model.Ticket, error) {
	if before.Version == 0 {
		return nil, model.Errorf(model.CodeConflict, msgNotScreened)
	}
	a := before.Clone()
	scrub(a)
	if !model.CountedSame(before, a) {
		return nil, model.Errorf(model.CodeInvalidArgument, "匿名化只能改动个人信息，不能改动统计所计的内容")
	}
	next := before.Version + 1
	a.Version = next
	at := p.now().UTC()
	entry := logDoc{ID: logID(a.ID, next), Ticket: a.ID, Version: next, Fields: fieldsOf(a), At: at, Personal: personalOf(a)}
	if _, err := p.t.log.InsertOne(ctx, entry); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			if err := p.t.rollForwardTo(ctx, a.ID, next); err != nil {
				return nil, err
			}
			return nil, model.Errorf(model.CodeConflict, "工单刚被修改；请刷新后重试")
		}
		return nil, fmt.Errorf("anonymise ticket: %w", translate(err))
	}
	applied, err := p.t.applied(ctx, &entry)
	if err != nil {
		return nil, err
	}
	if !applied {
		if err := p.t.c.FindOne(ctx, bson.M{"_id": a.ID}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err(); err != nil {
			return nil, fmt.Errorf("anonymise ticket: %w", translate(err))
		}
		// Another writer rolled it forward first.
	}
	if err := p.scrubLog(ctx, before, scrub); err != nil {
		return nil, err
	}
	if complete {
		if _, err := p.t.c.UpdateOne(ctx, bson.M{"_id": a.ID}, bson.M{"$set": bson.M{"anon": at}}); err != nil {
			return nil, fmt.Errorf("anonymise ticket: %w", translate(err))
		}
	}
	return a, nil
}

// scrubLog rewrites the entries of before's versions 1..before.Version by
// scrub: each entry's state, with the fields set at insert as before has
// them, scrubbed, stored back. Entries already scrubbed stay as they are.
func (p *Privacy) scrubLog(ctx context.Context, before *model.Ticket, scrub func(*model.Ticket)) error {
	for v := int64(1); v <= before.Version; v++ {
		var e logDoc
		err := p.t.log.FindOne(ctx, bson.M{"_id": logID(before.ID, v)}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // loaded in bulk: no entry for this version
		}
		if err != nil {
			return fmt.Errorf("anonymise ticket history: %w", translate(err))
		}
		d := ticketDoc{ID: before.ID, ReporterID: before.ReporterID, Category: before.Category, Description: before.Description,
			Address: before.Address, PhotoIDs: before.PhotoIDs, Source: string(before.Source), CallerName: before.CallerName,
			CallerPhone: before.CallerPhone, CreatedAt: before.CreatedAt, Version: v, Fields: e.Fields}
		t := d.model()
		scrub(t)
		f := fieldsOf(t)
		set, err := bsonFields(f)
		if err != nil {
			return err
		}
		old, err := bsonFields(e.Fields)
		if err != nil {
			return err
		}
		if sameFields(old, set) {
			continue
		}
		patch := bson.M{}
		for k, v := range set {
			patch["fields."+k] = v
		}
		if _, err := p.t.log.UpdateOne(ctx, bson.M{"_id": e.ID}, bson.M{"$set": patch}); err != nil {
			return fmt.Errorf("anonymise ticket history: %w", translate(err))
		}
	}
	return nil
}

// sameFields reports whether two encoded states are equal.
func sameFields(a, b bson.M) bool {
	ra, err1 := bson.Marshal(a)
	rb, err2 := bson.Marshal(b)
	return err1 == nil && err2 == nil && slices.Equal(ra, rb)
}

var finalStatuses = []model.Status{model.StatusClosed, model.StatusRejected, model.StatusMerged}

// Expired returns final tickets unchanged since before and not anonymised,
// longest unchanged first: per final status, a read of the retention
// index. Errors: unavailable.
func (p *Privacy) Expired(ctx context.Context, before time.Time, limit int) ([]string, error) {
	type row struct {
		ID        string    `bson:"_id"`
		UpdatedAt time.Time `bson:"updated_at"`
	}
	var all []row
	for _, st := range finalStatuses {
		cur, err := p.t.c.Find(ctx, bson.M{"status": string(st), "anon": nil, "updated_at": bson.M{"$lt": before.UTC()}},
			options.Find().SetProjection(bson.M{"_id": 1, "updated_at": 1}).SetSort(bson.D{{Key: "updated_at", Value: 1}}).
				SetLimit(int64(limit)).SetHint(ixRetention))
		if err != nil {
			return nil, fmt.Errorf("expired tickets: %w", translate(err))
		}
		var rows []row
		if err := cur.All(ctx, &rows); err != nil {
			return nil, fmt.Errorf("expired tickets: %w", translate(err))
		}
		all = append(all, rows...)
	}
	slices.SortFunc(all, func(a, b row) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	out := make([]string, 0, min(limit, len(all)))
	for _, r := range all[:min(limit, len(all))] {
		out = append(out, r.ID)
	}
	return out, nil
}

// DeleteResident removes a WeChat user (and so their openid), then their
// allowances (their sub starts with the user's) and the records of the
// messages sent to them. Errors: not_found, unavailable.
func (p *Privacy) DeleteResident(ctx context.Context, userID string) error {
	res, err := p.users.DeleteOne(ctx, bson.M{"_id": userID})
	if err != nil {
		return fmt.Errorf("delete resident: %w", translate(err))
	}
	if res.DeletedCount == 0 {
		return model.Errorf(model.CodeNotFound, "没有用户 %s", userID)
	}
	if _, err := p.subscriptions.DeleteMany(ctx, bson.M{"sub": bson.M{"$gte": userID + "|", "$lt": userID + "}"}}); err != nil {
		return fmt.Errorf("delete resident: %w", translate(err))
	}
	if _, err := p.notifications.DeleteMany(ctx, bson.M{"user_id": userID}); err != nil {
		return fmt.Errorf("delete resident: %w", translate(err))
	}
	return nil
}

// DeleteSubmitter removes an Open311 ticket's submitter. Errors:
// unavailable.
func (p *Privacy) DeleteSubmitter(ctx context.Context, ticketID string) error {
	if _, err := p.submitters.DeleteOne(ctx, bson.M{"_id": ticketID}); err != nil {
		return fmt.Errorf("delete open311 submitter: %w", translate(err))
	}
	return nil
}

type erasureDoc struct {
	ID     string    `bson:"_id"`
	Ticket string    `bson:"ticket"`
	User   string    `bson:"user"`
	At     time.Time `bson:"at"`
}

func erasureID(e model.Erasure) string { return e.TicketID + "/" + e.UserID }

// QueueErasure records an erasure still to do (once). Errors: unavailable.
func (p *Privacy) QueueErasure(ctx context.Context, e model.Erasure) error {
	if e.At.IsZero() {
		e.At = p.now()
	}
	_, err := p.erasures.InsertOne(ctx, erasureDoc{ID: erasureID(e), Ticket: e.TicketID, User: e.UserID, At: e.At.UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("queue erasure: %w", translate(err))
	}
	return nil
}

// Erasures lists up to limit erasures still to do, oldest first. Errors:
// unavailable.
func (p *Privacy) Erasures(ctx context.Context, limit int) ([]model.Erasure, error) {
	return findAll(ctx, p.erasures, "erasures", func(d *erasureDoc) model.Erasure {
		return model.Erasure{TicketID: d.Ticket, UserID: d.User, At: d.At}
	}, bson.M{}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}}).SetLimit(int64(limit)).SetHint("at"))
}

// ErasureDone removes an erasure from the list. Errors: unavailable.
func (p *Privacy) ErasureDone(ctx context.Context, e model.Erasure) error {
	if _, err := p.erasures.DeleteOne(ctx, bson.M{"_id": erasureID(e)}); err != nil {
		return fmt.Errorf("erasure done: %w", translate(err))
	}
	return nil
}
