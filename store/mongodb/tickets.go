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

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/redis"
)

const (
	colTickets   = "tickets"
	colTicketLog = "ticket_log"
)

// Tickets stores tickets, one document each, and the log of their
// transitions.
//
// A transition from version v to v+1 is decided by inserting the log entry
// "<id>/<v+1>" holding the ticket's new state: the unique _id lets exactly
// one concurrent writer win, on MongoDB and on FerretDB alike (FerretDB v1
// does not make a conditional update atomic under concurrency, but a
// unique insert is). The winner then applies the entry to the ticket. If it
// crashes in between, the next writer finds the entry taken, applies it
// (rolls forward), and retries on the new state. The log is also the
// ticket's event record: one entry per transition, never rewritten.
type Tickets struct {
	m      *Mongo
	c      *mongo.Collection
	log    *mongo.Collection
	statsV *mongo.Collection
	now    func() time.Time
	// index, when set, is synced on every commit and serves the hot reads.
	index *redis.TaskIndex
	// marks, when set, records each transition for the statistics applier.
	marks *StatsCursor
}

// UseStatsMarks makes every transition mark itself for the statistics
// applier (see StatsCursor) before it commits.
func (s *Tickets) UseStatsMarks(c *StatsCursor) { s.marks = c }

// UseIndex makes the store keep x in step with every commit and read open
// tasks, loads and nearby tickets from it once it is built.
func (s *Tickets) UseIndex(x *redis.TaskIndex) { s.index = x }

// indexed reports whether reads may use the index.
func (s *Tickets) indexed(ctx context.Context) bool {
	if s.index == nil {
		return false
	}
	ok, err := s.index.Built(ctx)
	return err == nil && ok
}

// NewTickets returns the ticket store of m.
func NewTickets(m *Mongo, now func() time.Time) *Tickets {
	return &Tickets{m: m, c: m.db.Collection(colTickets), log: m.db.Collection(colTicketLog), statsV: m.db.Collection("ticket_stats_version"), now: now}
}

type logDoc struct {
	ID      string       `bson:"_id"` // ticket id / version
	Ticket  string       `bson:"ticket"`
	Version int64        `bson:"version"`
	Fields  ticketFields `bson:"fields"`
	At      time.Time    `bson:"at"`
	// Seq is the statistics applier's sequence number: 0 until it takes
	// the entry up (see service.Stats).
	Seq int64 `bson:"seq"`
}

func logID(ticketID string, version int64) string { return fmt.Sprintf("%s/%d", ticketID, version) }

type pointDoc struct {
	Lat float64 `bson:"lat"`
	Lng float64 `bson:"lng"`
}

type locationDoc struct {
	Lat       float64 `bson:"lat"`
	Lng       float64 `bson:"lng"`
	CoordType string  `bson:"coord_type"`
}

type eventDoc struct {
	At        time.Time `bson:"at"`
	Type      string    `bson:"type"`
	Status    string    `bson:"status"`
	ActorID   string    `bson:"actor_id,omitempty"`
	ActorRole string    `bson:"actor_role,omitempty"`
	ActorName string    `bson:"actor_name,omitempty"`
	Note      string    `bson:"note,omitempty"`
	Assignee  string    `bson:"assignee,omitempty"`
}

type extensionDoc struct {
	Status      string    `bson:"status"`
	Hours       int       `bson:"hours"`
	Reason      string    `bson:"reason"`
	RequestedAt time.Time `bson:"requested_at"`
	RequestedBy string    `bson:"requested_by"`
	DecidedAt   time.Time `bson:"decided_at,omitempty"`
	DecidedBy   string    `bson:"decided_by,omitempty"`
	Note        string    `bson:"note,omitempty"`
}

type resolutionDoc struct {
	Note       string    `bson:"note"`
	PhotoIDs   []string  `bson:"photo_ids"`
	ResolvedAt time.Time `bson:"resolved_at"`
	ResolverID string    `bson:"resolver_id"`
}

type feedbackDoc struct {
	Satisfied bool      `bson:"satisfied"`
	Rating    int       `bson:"rating"`
	Comment   string    `bson:"comment,omitempty"`
	At        time.Time `bson:"at"`
}

// ticketFields are the fields a transition may change; the rest are set
// once at insert.
type ticketFields struct {
	Status       string         `bson:"status"`
	GridCode     string         `bson:"grid_code"`
	Community    string         `bson:"community"`
	AssigneeID   string         `bson:"assignee_id"`
	AssigneeRole string         `bson:"assignee_role"`
	DuplicateOf  string         `bson:"duplicate_of"`
	Reporters    int            `bson:"reporters"`
	Followers    []string       `bson:"followers"`
	MergedIDs    []string       `bson:"merged_ids"`
	Queue        string         `bson:"queue"`
	Pool         bool           `bson:"pool"`
	ReturnedBy   []string       `bson:"returned_by"`
	Escalated    bool           `bson:"escalated"`
	RegisteredAt time.Time      `bson:"registered_at"`
	RejectReason string         `bson:"reject_reason"`
	Held         bool           `bson:"held"`
	Returns      int            `bson:"returns"`
	Reopens      int            `bson:"reopens"`
	Overdue      bool           `bson:"overdue"`
	DueAt        time.Time      `bson:"due_at"`
	AcceptBy     time.Time      `bson:"accept_by"`
	Resolution   *resolutionDoc `bson:"resolution"`
	Feedback     *feedbackDoc   `bson:"feedback"`
	Timeline     []eventDoc     `bson:"timeline"`
	UpdatedAt    time.Time      `bson:"updated_at"`
	// The branches of the workflow (延期, 挂账, 督办, 核查) and the channels'
	// fields; empty on tickets stored before them. No omitempty: $set
	// must clear a field a step empties (a resumed ticket's deferral).
	Extension    *extensionDoc `bson:"extension"`
	DeferredFrom string        `bson:"deferred_from"`
	DeferredAt   time.Time     `bson:"deferred_at"`
	DeferredLeft int64         `bson:"deferred_left_s"`
	Urges        int           `bson:"urges"`
	VerifyFails  int           `bson:"verify_fails"`
	SelfHandled  bool          `bson:"self_handled"`
	PhotoFlags   []string      `bson:"photo_flags"`
}

type ticketDoc struct {
	ID          string      `bson:"_id"`
	Idem        string      `bson:"idem"`
	BodyHash    string      `bson:"body_hash"`
	ReporterID  string      `bson:"reporter_id"`
	Category    string      `bson:"category"`
	Description string      `bson:"description"`
	Location    locationDoc `bson:"location"`
	Point       pointDoc    `bson:"point"`
	// Cells are the point's geohash prefixes: "what is near" is an indexed
	// $in over them, on MongoDB and FerretDB alike.
	Cells    []string `bson:"cells"`
	Address  string   `bson:"address"`
	PhotoIDs []string `bson:"photo_ids"`
	Source   string   `bson:"source,omitempty"`
	// A hotline caller's details (staff only).
	CallerName  string       `bson:"caller_name,omitempty"`
	CallerPhone string       `bson:"caller_phone,omitempty"`
	Version     int64        `bson:"version"`
	CreatedAt   time.Time    `bson:"created_at"`
	Fields      ticketFields `bson:",inline"`
}

func fieldsOf(t *model.Ticket) ticketFields {
	f := ticketFields{
		Status: string(t.Status), GridCode: t.GridCode, Community: t.Community,
		AssigneeID: t.AssigneeID, AssigneeRole: string(t.AssigneeRole), DuplicateOf: t.DuplicateOf,
		Reporters: t.Reporters, Followers: nonNil(t.Followers), MergedIDs: nonNil(t.MergedIDs),
		Queue: t.Queue, Pool: t.Pool, ReturnedBy: nonNil(t.ReturnedBy), Escalated: t.Escalated, RegisteredAt: t.RegisteredAt.UTC(),
		RejectReason: t.RejectReason, Held: t.Held, Returns: t.Returns, Reopens: t.Reopens,
		Overdue: t.Overdue, DueAt: t.DueAt.UTC(), AcceptBy: t.AcceptBy.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
	if r := t.Resolution; r != nil {
		f.Resolution = &resolutionDoc{Note: r.Note, PhotoIDs: nonNil(r.PhotoIDs), ResolvedAt: r.ResolvedAt.UTC(), ResolverID: r.ResolverID}
	}
	if fb := t.Feedback; fb != nil {
		f.Feedback = &feedbackDoc{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment, At: fb.At.UTC()}
	}
	f.Timeline = make([]eventDoc, len(t.Timeline))
	for i, e := range t.Timeline {
		f.Timeline[i] = eventDoc{At: e.At.UTC(), Type: string(e.Type), Status: string(e.Status), ActorID: e.ActorID, ActorRole: string(e.ActorRole),
			ActorName: e.ActorName, Note: e.Note, Assignee: e.AssigneeID}
	}
	if x := t.Extension; x != nil {
		f.Extension = &extensionDoc{Status: string(x.Status), Hours: x.Hours, Reason: x.Reason, RequestedAt: x.RequestedAt.UTC(),
			RequestedBy: x.RequestedBy, DecidedAt: x.DecidedAt.UTC(), DecidedBy: x.DecidedBy, Note: x.Note}
	}
	f.DeferredFrom, f.DeferredAt, f.DeferredLeft = string(t.DeferredFrom), t.DeferredAt.UTC(), int64(t.DeferredLeft/time.Second)
	f.Urges, f.VerifyFails, f.SelfHandled, f.PhotoFlags = t.Urges, t.VerifyFails, t.SelfHandled, t.PhotoFlags
	return f
}

// sourceOf reads a stored source; tickets stored before sources existed are
// residents' WeChat reports.
func sourceOf(s string) model.Source {
	if s == "" {
		return model.SourceWeChat
	}
	return model.Source(s)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *ticketDoc) model() *model.Ticket {
	f := &d.Fields
	t := &model.Ticket{
		ID: d.ID, ReporterID: d.ReporterID, Category: d.Category, Description: d.Description,
		Location: model.Location{Lat: d.Location.Lat, Lng: d.Location.Lng, CoordType: model.CoordType(d.Location.CoordType)},
		Point:    model.Point{Lat: d.Point.Lat, Lng: d.Point.Lng}, Address: d.Address, PhotoIDs: d.PhotoIDs, Source: sourceOf(d.Source),
		Status: model.Status(f.Status), Version: d.Version, GridCode: f.GridCode, Community: f.Community,
		AssigneeID: f.AssigneeID, AssigneeRole: model.Role(f.AssigneeRole), DuplicateOf: f.DuplicateOf,
		Reporters: f.Reporters, Followers: f.Followers, MergedIDs: f.MergedIDs, RejectReason: f.RejectReason,
		Queue: f.Queue, Pool: f.Pool, ReturnedBy: f.ReturnedBy, Escalated: f.Escalated, RegisteredAt: f.RegisteredAt,
		Held: f.Held, Returns: f.Returns, Reopens: f.Reopens, Overdue: f.Overdue, DueAt: f.DueAt, AcceptBy: f.AcceptBy,
		CreatedAt: d.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
	if r := f.Resolution; r != nil {
		t.Resolution = &model.Resolution{Note: r.Note, PhotoIDs: r.PhotoIDs, ResolvedAt: r.ResolvedAt, ResolverID: r.ResolverID}
	}
	if fb := f.Feedback; fb != nil {
		t.Feedback = &model.Feedback{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment, At: fb.At}
	}
	t.Timeline = make([]model.Event, len(f.Timeline))
	for i, e := range f.Timeline {
		t.Timeline[i] = model.Event{At: e.At, Type: model.EventType(e.Type), Status: model.Status(e.Status), ActorID: e.ActorID,
			ActorRole: model.Role(e.ActorRole), ActorName: e.ActorName, Note: e.Note, AssigneeID: e.Assignee}
	}
	if x := f.Extension; x != nil {
		t.Extension = &model.Extension{Status: model.ExtensionStatus(x.Status), Hours: x.Hours, Reason: x.Reason, RequestedAt: x.RequestedAt,
			RequestedBy: x.RequestedBy, DecidedAt: x.DecidedAt, DecidedBy: x.DecidedBy, Note: x.Note}
	}
	t.DeferredFrom, t.DeferredAt, t.DeferredLeft = model.Status(f.DeferredFrom), f.DeferredAt, time.Duration(f.DeferredLeft)*time.Second
	t.Urges, t.VerifyFails, t.SelfHandled, t.PhotoFlags = f.Urges, f.VerifyFails, f.SelfHandled, f.PhotoFlags
	t.CallerName, t.CallerPhone = d.CallerName, d.CallerPhone
	return t
}

// newTicketDoc is the document Insert and Load store for a new ticket.
func newTicketDoc(t *model.Ticket, idem, bodyHash string) ticketDoc {
	src := t.Source
	if src == "" {
		src = model.SourceWeChat
	}
	return ticketDoc{
		ID: t.ID, Idem: idem, BodyHash: bodyHash, ReporterID: t.ReporterID, Category: t.Category,
		Description: t.Description, Address: t.Address, PhotoIDs: nonNil(t.PhotoIDs), Source: string(src),
		CallerName: t.CallerName, CallerPhone: t.CallerPhone,
		Location: locationDoc{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Point:    pointDoc{Lat: t.Point.Lat, Lng: t.Point.Lng},
		Cells:    geo.Cells(geo.Point{Lat: t.Point.Lat, Lng: t.Point.Lng}),
		Version:  t.Version, CreatedAt: t.CreatedAt.UTC(), Fields: fieldsOf(t),
	}
}

// Insert stores a new ticket. idem identifies the submission (a digest of
// the reporter and their Idempotency-Key, or unique when there was none);
// a second ticket with the same idem is a conflict.
func (s *Tickets) Insert(ctx context.Context, t *model.Ticket, idem, bodyHash string) error {
	d := newTicketDoc(t, idem, bodyHash)
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert ticket: %w", translate(err))
	}
	return nil
}

// ByIdem returns the ticket a submission created and the digest of its body.
func (s *Tickets) ByIdem(ctx context.Context, idem string) (*model.Ticket, string, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"idem": idem}).Decode(&d); err != nil {
		return nil, "", fmt.Errorf("find ticket by idempotency key: %w", translate(err))
	}
	return d.model(), d.BodyHash, nil
}

// Get returns a ticket (not_found if there is none).
func (s *Tickets) Get(ctx context.Context, id string) (*model.Ticket, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get ticket: %w", translate(err))
	}
	return d.model(), nil
}

// Update commits t's changeable fields as version t.Version+1 if nobody
// else committed that version first, and sets t.Version. Otherwise it is a
// conflict: the caller reloads and decides again.
func (s *Tickets) Update(ctx context.Context, t *model.Ticket) error {
	next := t.Version + 1
	entry := logDoc{ID: logID(t.ID, next), Ticket: t.ID, Version: next, Fields: fieldsOf(t), At: s.now().UTC()}
	if s.marks != nil {
		// Before the commit, so that no committed entry lacks its mark.
		if err := s.marks.MarkPending(ctx, t.ID, next, entry.At); err != nil {
			return err
		}
	}
	if _, err := s.log.InsertOne(ctx, entry); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			// Someone else won this version; make sure it is applied.
			if err := s.rollForward(ctx, t.ID, next); err != nil {
				return err
			}
			return model.Errorf(model.CodeConflict, "工单刚被修改；请刷新后重试")
		}
		return fmt.Errorf("update ticket: %w", translate(err))
	}
	if err := s.apply(ctx, &entry); err != nil {
		return err
	}
	t.Version = next
	if s.index != nil {
		// Best effort: an index that missed a commit is repaired by the
		// reconciler's rebuild, and readers check what it lists.
		_ = s.index.Sync(ctx, t)
	}
	return nil
}

// apply writes a committed log entry to the ticket if the ticket is still
// at the version before it; applying twice changes nothing.
func (s *Tickets) apply(ctx context.Context, e *logDoc) error {
	set, err := bsonFields(e.Fields)
	if err != nil {
		return err
	}
	set["version"] = e.Version
	filter := bson.M{"_id": e.Ticket, "version": e.Version - 1}
	if !s.m.SecondaryIndexesServeQueries(ctx) {
		// FerretDB v1 on SQLite would answer the two-key filter by decoding
		// every ticket, then update the match by _id without holding a lock
		// in between. Doing the same two steps here, by _id, is exactly as
		// safe there and costs one document instead of the collection.
		var cur struct {
			Version int64 `bson:"version"`
		}
		err := s.c.FindOne(ctx, bson.M{"_id": e.Ticket}, options.FindOne().SetProjection(bson.M{"version": 1})).Decode(&cur)
		if err != nil {
			return fmt.Errorf("apply ticket: %w", translate(err))
		}
		if cur.Version != e.Version-1 {
			return nil
		}
		filter = bson.M{"_id": e.Ticket}
	}
	if _, err := s.c.UpdateOne(ctx, filter, bson.M{"$set": set}); err != nil {
		return fmt.Errorf("apply ticket: %w", translate(err))
	}
	return nil
}

func bsonFields(f ticketFields) (bson.M, error) {
	raw, err := bson.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode ticket: %w", err)
	}
	var m bson.M
	if err := bson.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("encode ticket: %w", err)
	}
	return m, nil
}

// rollForward applies the committed entry of version v if the ticket is
// still at v-1 (its writer crashed between commit and apply).
func (s *Tickets) rollForward(ctx context.Context, id string, v int64) error {
	var e logDoc
	if err := s.log.FindOne(ctx, bson.M{"_id": logID(id, v)}).Decode(&e); err != nil {
		return fmt.Errorf("roll forward ticket: %w", translate(err))
	}
	return s.apply(ctx, &e)
}

// ListByReporter returns a reporter's tickets newest first, after the
// cursor (the last id of the previous page), and the next cursor.
func (s *Tickets) ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error) {
	filter := bson.M{"reporter_id": reporterID}
	if cursor != "" {
		filter["_id"] = bson.M{"$lt": cursor}
	}
	return s.page(ctx, filter, limit)
}

func (s *Tickets) page(ctx context.Context, filter bson.M, limit int) ([]*model.Ticket, string, error) {
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, "", fmt.Errorf("list tickets: %w", translate(err))
	}
	var docs []ticketDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", fmt.Errorf("list tickets: %w", translate(err))
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = docs[limit-1].ID
	}
	out := make([]*model.Ticket, len(docs))
	for i := range docs {
		out[i] = docs[i].model()
	}
	return out, next, nil
}

// Near returns tickets in the given statuses within radiusM metres of
// center (roughly: the caller filters by exact distance), optionally of one
// category and created since a time. It reads the task index's geo set
// when built, else the tickets' geohash cells.
func (s *Tickets) Near(ctx context.Context, center model.Point, radiusM float64, category string, statuses []model.Status, since time.Time, limit int) ([]*model.Ticket, error) {
	if s.indexed(ctx) && subset(statuses, redis.GeoStatuses) {
		ids, err := s.index.Near(ctx, center, radiusM, category, limit)
		if err != nil {
			return nil, err
		}
		ts, err := s.byIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := ts[:0]
		for _, t := range ts {
			if slices.Contains(statuses, t.Status) && (category == "" || t.Category == category) && !t.CreatedAt.Before(since) {
				out = append(out, t)
			}
		}
		return out, nil
	}
	cells := geo.CoverRadius(geo.Point{Lat: center.Lat, Lng: center.Lng}, radiusM)
	filter := bson.M{"cells": bson.M{"$in": cells}, "status": bson.M{"$in": statusStrings(statuses)}}
	if category != "" {
		filter["category"] = category
	}
	if !since.IsZero() {
		filter["created_at"] = bson.M{"$gte": since.UTC()}
	}
	return findAll(ctx, s.c, "tickets near", (*ticketDoc).model, filter, options.Find().SetLimit(int64(limit)).SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// byIDs loads tickets one _id lookup each (the lookup FerretDB pushes down
// to its storage), in the order given, skipping ids that do not exist.
func (s *Tickets) byIDs(ctx context.Context, ids []string) ([]*model.Ticket, error) {
	out := make([]*model.Ticket, 0, len(ids))
	for _, id := range ids {
		t, err := s.Get(ctx, id)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func subset(a, b []model.Status) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Stale returns ids of tickets in status that have not changed since
// before, oldest first: the reconciler's work list.
func (s *Tickets) Stale(ctx context.Context, status model.Status, held bool, before time.Time, limit int) ([]string, error) {
	cur, err := s.c.Find(ctx,
		bson.M{"status": string(status), "held": held, "updated_at": bson.M{"$lt": before.UTC()}},
		options.Find().SetProjection(bson.M{"_id": 1}).SetSort(bson.D{{Key: "updated_at", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("stale tickets: %w", translate(err))
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("stale tickets: %w", translate(err))
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

func statusStrings(statuses []model.Status) bson.A {
	a := make(bson.A, len(statuses))
	for i, s := range statuses {
		a[i] = string(s)
	}
	return a
}

// OpenLoads returns, for each user, how many tickets are assigned to them
// and not yet resolved: the load routing balances. It reads the task index
// (one round trip) when built, else counts in MongoDB.
func (s *Tickets) OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error) {
	if s.indexed(ctx) {
		return s.index.Loads(ctx, userIDs)
	}
	out := make(map[string]int, len(userIDs))
	for _, u := range userIDs {
		n, err := s.countOpen(ctx, u)
		if err != nil {
			return nil, err
		}
		out[u] = n
	}
	return out, nil
}

func (s *Tickets) countOpen(ctx context.Context, assigneeID string) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.M{"assignee_id": assigneeID,
		"status": bson.M{"$in": statusStrings([]model.Status{model.StatusDispatched, model.StatusInProgress})}})
	if err != nil {
		return 0, fmt.Errorf("count open tickets: %w", translate(err))
	}
	return int(n), nil
}

// ListAssigned returns a user's tickets in the given statuses, newest first.
func (s *Tickets) ListAssigned(ctx context.Context, assigneeID string, statuses []model.Status, cursor string, limit int) ([]*model.Ticket, string, error) {
	if s.indexed(ctx) && subset(statuses, redis.TaskStatuses) {
		ids, err := s.index.Assigned(ctx, assigneeID, cursor, limit+1)
		if err != nil {
			return nil, "", err
		}
		next := ""
		if len(ids) > limit {
			ids, next = ids[:limit], ids[limit-1]
		}
		ts, err := s.byIDs(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		out := ts[:0]
		for _, t := range ts {
			if t.AssigneeID == assigneeID && slices.Contains(statuses, t.Status) {
				out = append(out, t)
			}
		}
		return out, next, nil
	}
	filter := bson.M{"assignee_id": assigneeID, "status": bson.M{"$in": statusStrings(statuses)}}
	if cursor != "" {
		filter["_id"] = bson.M{"$lt": cursor}
	}
	return s.page(ctx, filter, limit)
}

// ListPool returns tickets offered to the party members of the given
// communities, newest first.
func (s *Tickets) ListPool(ctx context.Context, communities []string, cursor string, limit int) ([]*model.Ticket, string, error) {
	filter := bson.M{"pool": true, "community": bson.M{"$in": communities},
		"status": bson.M{"$in": statusStrings([]model.Status{model.StatusPending, model.StatusDispatched})}}
	if cursor != "" {
		filter["_id"] = bson.M{"$lt": cursor}
	}
	return s.page(ctx, filter, limit)
}

// Open returns the tickets that still have timers — pending, dispatched,
// in progress, and resolved (waiting for feedback) — after the given id, in
// id order: the reconciler walks them in pages.
func (s *Tickets) Open(ctx context.Context, after string, limit int) ([]*model.Ticket, error) {
	filter := bson.M{"status": bson.M{"$in": statusStrings([]model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress, model.StatusResolved})}}
	if after != "" {
		filter["_id"] = bson.M{"$gt": after}
	}
	return findAll(ctx, s.c, "open tickets", (*ticketDoc).model, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

// StateAt returns a ticket as it was at a version (nil for version 0's
// predecessor, i.e. before it existed for the statistics).
func (s *Tickets) StateAt(ctx context.Context, id string, version int64) (*model.Ticket, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("ticket state: %w", translate(err))
	}
	if version == d.Version {
		return d.model(), nil
	}
	var e logDoc
	if err := s.log.FindOne(ctx, bson.M{"_id": logID(id, version)}).Decode(&e); err != nil {
		return nil, fmt.Errorf("ticket state at v%d: %w", version, translate(err))
	}
	d.Fields, d.Version = e.Fields, e.Version
	return d.model(), nil
}

// SetStatsVersion records the ticket's version the statistics include. It
// lives in a collection of its own: on FerretDB any update of the ticket
// document rewrites all of it, and could undo a concurrent transition.
func (s *Tickets) SetStatsVersion(ctx context.Context, id string, version int64) error {
	_, err := s.statsV.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"v": version}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats version: %w", translate(err))
	}
	return nil
}

// SetStatsVersions records the statistics' versions of several tickets
// (by ticket id) in one write.
func (s *Tickets) SetStatsVersions(ctx context.Context, versions map[string]int64) error {
	if len(versions) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, 0, len(versions))
	for id, v := range versions {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id}).
			SetUpdate(bson.M{"$set": bson.M{"v": v}}).SetUpsert(true))
	}
	_, err := s.statsV.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats versions: %w", translate(err))
	}
	return nil
}

// Counted streams every ticket as of the version the statistics include
// (skipping tickets not yet counted), for a rebuild.
func (s *Tickets) Counted(ctx context.Context, fn func(*model.Ticket) error) error {
	counted := map[string]int64{}
	vc, err := s.statsV.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("counted tickets: %w", translate(err))
	}
	for vc.Next(ctx) {
		var d struct {
			ID string `bson:"_id"`
			V  int64  `bson:"v"`
		}
		if err := vc.Decode(&d); err != nil {
			return fmt.Errorf("counted tickets: %w", err)
		}
		counted[d.ID] = d.V
	}
	if err := vc.Err(); err != nil {
		return fmt.Errorf("counted tickets: %w", translate(err))
	}
	cur, err := s.c.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("counted tickets: %w", translate(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d ticketDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("counted tickets: %w", err)
		}
		v := counted[d.ID]
		if v == 0 {
			continue // not counted yet; the applier will
		}
		t := d.model()
		if v != d.Version {
			if t, err = s.StateAt(ctx, d.ID, v); err != nil {
				return err
			}
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return translate(cur.Err())
}
