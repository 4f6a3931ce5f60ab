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

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

const (
	colTickets   = "tickets"
	colTicketLog = "ticket_log"
)

// Tickets stores tickets, one document each, the log of their transitions,
// and the handoffs each transition leaves for Redis (handoffs.go).
//
// A transition from version v to v+1 is decided by inserting the log entry
// "<id>/<v+1>" holding the ticket's new state and its statistics delta: the
// unique _id lets exactly one concurrent writer win, on MongoDB and on
// FerretDB alike (FerretDB v1 does not make a conditional update atomic
// under concurrency, but a unique insert is). The winner then applies the
// entry to the ticket. If it crashes in between, the next writer finds the
// entry taken, applies it (rolls forward), and retries on the new state. The
// log is also the ticket's event record — one entry per transition, its
// state never rewritten — and the statistics' source: an entry is pending
// until the applier (Stats) has counted its delta.
type Tickets struct {
	m        *Mongo
	c        *mongo.Collection
	log      *mongo.Collection
	counters *mongo.Collection
	owner    string
	now      func() time.Time
	// committed, when set, is told of every commit (Stats wakes its
	// applier).
	committed func(ctx context.Context)
	// relayed remembers, by ticket, the version up to which this instance
	// has cleared the handoff records (Relayed).
	relayedMu sync.Mutex
	relayed   map[string]int64
}

// NewTickets returns the ticket store of m as instance owner (a server
// process, named in the handoffs it records) sees it.
func NewTickets(m *Mongo, owner string, now func() time.Time) *Tickets {
	return &Tickets{m: m, c: m.db.Collection(colTickets), log: m.db.Collection(colTicketLog),
		counters: m.db.Collection(colCaseCounters), owner: owner, now: msClock(now)}
}

type logDoc struct {
	ID      string       `bson:"_id"` // ticket id / version
	Ticket  string       `bson:"ticket"`
	Version int64        `bson:"version"`
	Fields  ticketFields `bson:"fields"`
	At      time.Time    `bson:"at"`
	// Delta is the transition's statistics delta (model.StatsDelta), packed
	// (encodeDelta): the applier counts it without reading any ticket.
	Delta []byte `bson:"delta,omitempty"`
	// Pending is the commit's time while the applier has not counted the
	// entry, and absent after: a sparse index lists what is left to count.
	Pending *time.Time `bson:"pending,omitempty"`
	// Personal, on an anonymisation's entry (privacy.go), are the fields
	// set at insert that it rewrites, applied with Fields.
	Personal *personalDoc `bson:"personal,omitempty"`
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
	// What the staff search filters on, kept with each transition:
	// Ticket.OpenOverdue and Ticket.ClosedLate.
	OpenOverdue bool `bson:"open_overdue"`
	Late        bool `bson:"late"`
}

type ticketDoc struct {
	ID string `bson:"_id"`
	// CaseNo is the 案件编号, unique (absent on tickets stored before case
	// numbers).
	CaseNo      string      `bson:"case_no,omitempty"`
	Idem        string      `bson:"idem"`
	BodyHash    string      `bson:"body_hash"`
	ReporterID  string      `bson:"reporter_id"`
	Category    string      `bson:"category"`
	Description string      `bson:"description"`
	Location    locationDoc `bson:"location"`
	Point       pointDoc    `bson:"point"`
	// Cells are the point's geohash prefixes: "what is near" is an indexed
	// $in over them, on MongoDB and FerretDB alike.
	Cells   []string `bson:"cells"`
	Address string   `bson:"address"`
	// Grams are the search's n-grams of description and address (grams.go).
	Grams    []string `bson:"grams"`
	PhotoIDs []string `bson:"photo_ids"`
	Source   string   `bson:"source,omitempty"`
	// A hotline caller's details (staff only).
	CallerName  string    `bson:"caller_name,omitempty"`
	CallerPhone string    `bson:"caller_phone,omitempty"`
	Version     int64     `bson:"version"`
	CreatedAt   time.Time `bson:"created_at"`
	// LoadBatch marks the tickets of one Load, to take them back on a
	// conflict.
	LoadBatch string       `bson:"load_batch,omitempty"`
	Fields    ticketFields `bson:",inline"`
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
	// The working time left is kept in whole seconds, rounded up: a resumed
	// deadline never comes before the one the deferral stopped.
	f.DeferredFrom, f.DeferredAt, f.DeferredLeft = string(t.DeferredFrom), t.DeferredAt.UTC(), int64((t.DeferredLeft+time.Second-1)/time.Second)
	f.Urges, f.VerifyFails, f.SelfHandled, f.PhotoFlags = t.Urges, t.VerifyFails, t.SelfHandled, t.PhotoFlags
	f.OpenOverdue, f.Late = t.OpenOverdue(), t.ClosedLate()
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
		ID: d.ID, CaseNo: d.CaseNo, ReporterID: d.ReporterID, Category: d.Category, Description: d.Description,
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
		ID: t.ID, CaseNo: t.CaseNo, Idem: idem, BodyHash: bodyHash, ReporterID: t.ReporterID, Category: t.Category,
		Description: t.Description, Address: t.Address, PhotoIDs: nonNil(t.PhotoIDs), Source: string(src),
		CallerName: t.CallerName, CallerPhone: t.CallerPhone,
		Location: locationDoc{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Point:    pointDoc{Lat: t.Point.Lat, Lng: t.Point.Lng},
		Cells:    geo.Cells(geo.Point{Lat: t.Point.Lat, Lng: t.Point.Lng}),
		Grams:    grams(t.Description, t.Address),
		Version:  t.Version, CreatedAt: t.CreatedAt.UTC(), Fields: fieldsOf(t),
	}
}

// Insert stores a new ticket (version 0) with its case number (set on t)
// and its intake handoff. idem identifies the submission (a digest of the
// reporter and their Idempotency-Key, or unique when there was none); a
// second ticket with the same idem is a conflict, and nothing of it stays
// but a handoff record for a ticket that does not exist (dropped at once;
// harmless if left). Errors: conflict, unavailable.
func (s *Tickets) Insert(ctx context.Context, t *model.Ticket, idem, bodyHash string) error {
	// The intake's handoff first: a stored ticket must never lack it.
	if _, err := s.log.InsertOne(ctx, s.handoff(t.ID, 0, 0, s.now())); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("insert ticket: %w", translate(err))
	}
	var err error
	for attempt := 0; ; attempt++ {
		if t.CaseNo, err = s.nextCaseNo(ctx, t.CreatedAt, 1); err != nil {
			break
		}
		_, err = s.c.InsertOne(ctx, newTicketDoc(t, idem, bodyHash))
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) || s.taken(ctx, t.ID, idem) {
			break
		}
		if attempt == caseNoAttempts-1 {
			err = model.Errorf(model.CodeUnavailable, "案件编号分配繁忙，请稍后重试")
			break
		}
		// The case number was taken: on FerretDB two writers' $inc of the
		// day's counter can give the same number, and the unique index
		// refuses the second. Take the next one.
	}
	t.CaseNo = ""
	if !s.taken(ctx, t.ID, "") {
		s.dropHandoff(ctx, t.ID, 0)
	}
	return fmt.Errorf("insert ticket: %w", translate(err))
}

// taken reports whether a ticket with this id or idem exists (after a
// duplicate key: which key was it?).
func (s *Tickets) taken(ctx context.Context, id, idem string) bool {
	for _, f := range []bson.M{{"_id": id}, {"idem": idem}} {
		if f["idem"] == "" {
			continue
		}
		if err := s.c.FindOne(ctx, f, options.FindOne().SetProjection(bson.M{"_id": 1})).Err(); err == nil {
			return true
		}
	}
	return false
}

// ByIdem returns the ticket a submission created and the digest of its
// body. Errors: not_found, unavailable.
func (s *Tickets) ByIdem(ctx context.Context, idem string) (*model.Ticket, string, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"idem": idem}).Decode(&d); err != nil {
		return nil, "", fmt.Errorf("find ticket by idempotency key: %w", translate(err))
	}
	return d.model(), d.BodyHash, nil
}

// Get returns a ticket. Errors: not_found, unavailable.
func (s *Tickets) Get(ctx context.Context, id string) (*model.Ticket, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get ticket: %w", translate(err))
	}
	return d.model(), nil
}

// GetByCaseNo returns the ticket of a case number. Errors: not_found,
// unavailable.
func (s *Tickets) GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error) {
	var d ticketDoc
	if err := s.c.FindOne(ctx, bson.M{"case_no": caseNo}).Decode(&d); err != nil {
		return nil, fmt.Errorf("get ticket by case number: %w", translate(err))
	}
	return d.model(), nil
}

// Commit writes after, changed by a step from before, as version
// before.Version+1 if nobody else committed that version first, with its
// statistics delta and its handoff (From: before's timeline length), and
// sets after.Version. Otherwise it is a conflict: the caller reloads and
// decides again. Errors: conflict, unavailable.
func (s *Tickets) Commit(ctx context.Context, before, after *model.Ticket) error {
	next := before.Version + 1
	at := s.now().UTC()
	entry := logDoc{ID: logID(after.ID, next), Ticket: after.ID, Version: next, Fields: fieldsOf(after), At: at,
		Delta: encodeDelta(model.StatsDelta(before, after).Rows()), Pending: &at}
	// The handoff and the entry in one unordered insert: the record is
	// written whether or not the entry wins (docs/consistency.md).
	_, err := s.log.InsertMany(ctx, []any{s.handoff(after.ID, next, len(before.Timeline), at), entry}, options.InsertMany().SetOrdered(false))
	if lost, err := commitOutcome(err); err != nil {
		return fmt.Errorf("commit ticket: %w", translate(err))
	} else if lost {
		// Someone else won this version (the record, if this insert made
		// it, serves their commit); make sure it is applied.
		if err := s.rollForwardTo(ctx, after.ID, next); err != nil {
			return err
		}
		return model.Errorf(model.CodeConflict, "工单刚被修改；请刷新后重试")
	}
	if s.committed != nil {
		s.committed(ctx)
	}
	applied, err := s.applied(ctx, &entry)
	if err != nil {
		// Committed all the same: the next writer, or whoever relays the
		// handoff, rolls it forward.
		return err
	}
	if !applied {
		if err := s.c.FindOne(ctx, bson.M{"_id": after.ID}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err(); err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) {
				return s.void(ctx, &entry)
			}
			return fmt.Errorf("commit ticket: %w", translate(err))
		}
		// Another writer rolled it forward first.
	}
	after.Version = next
	return nil
}

// commitOutcome reads the insert of a handoff record (index 0) and a log
// entry (index 1): lost when the entry's _id was taken; an error other
// than the record's being there already is returned.
func commitOutcome(err error) (lost bool, _ error) {
	if err == nil {
		return false, nil
	}
	var bw mongo.BulkWriteException
	if !errors.As(err, &bw) || bw.WriteConcernError != nil || len(bw.WriteErrors) == 0 {
		return false, err
	}
	for _, we := range bw.WriteErrors {
		if !mongo.IsDuplicateKeyError(we.WriteError) {
			return false, err
		}
		if we.Index == 1 {
			lost = true
		}
	}
	return lost, nil
}

// void takes back the commit of a ticket that does not exist: its handoff
// goes, and a reversal entry with the opposite delta is counted along with
// it (the applier may have counted it already). The entry stays, an id
// being never reused. Errors: not_found, unavailable.
func (s *Tickets) void(ctx context.Context, e *logDoc) error {
	s.dropHandoff(ctx, e.Ticket, e.Version)
	neg := model.Contribution{}
	if err := decodeDelta(e.Delta, func(r model.RollupRow) {
		v := r.Values
		for i := range v {
			v[i] = -v[i]
		}
		neg[model.RollupKey{Period: r.Period, Dim: r.Dim, Key: r.Key}] = v
	}); err != nil {
		return fmt.Errorf("commit ticket: %w", err)
	}
	if len(neg) > 0 {
		at := s.now().UTC()
		rev := logDoc{ID: e.ID + "/void", Ticket: e.Ticket, Version: e.Version, At: at, Delta: encodeDelta(neg.Rows()), Pending: &at}
		if _, err := s.log.InsertOne(ctx, rev); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("commit ticket: %w", translate(err))
		}
	}
	return model.Errorf(model.CodeNotFound, "工单不存在")
}

// apply writes a committed log entry to the ticket if the ticket is still
// at the version before it; applying twice changes nothing.
func (s *Tickets) apply(ctx context.Context, e *logDoc) error {
	_, err := s.applied(ctx, e)
	return err
}

// applied is apply, saying whether it changed the ticket.
func (s *Tickets) applied(ctx context.Context, e *logDoc) (bool, error) {
	set, err := bsonFields(e.Fields)
	if err != nil {
		return false, err
	}
	set["version"] = e.Version
	if e.Personal != nil {
		if err := e.Personal.addTo(set); err != nil {
			return false, err
		}
	}
	res, err := s.c.UpdateOne(ctx, bson.M{"_id": e.Ticket, "version": e.Version - 1}, bson.M{"$set": set})
	if err != nil {
		return false, fmt.Errorf("apply ticket: %w", translate(err))
	}
	return res.MatchedCount > 0, nil
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

// ListByReporter returns a reporter's tickets newest first, after the
// cursor (the last id of the previous page), and the next cursor. Errors:
// unavailable.
func (s *Tickets) ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error) {
	return s.page(ctx, bson.M{"reporter_id": reporterID}, cursor, ixReporter, limit)
}

// page reads up to limit tickets of filter, newest id first, after cursor
// (the last id of the previous page), through the index named hint, and
// the next cursor. Errors: invalid_argument for a cursor naming no
// ticket, unavailable.
func (s *Tickets) page(ctx context.Context, filter bson.M, cursor, hint string, limit int) ([]*model.Ticket, string, error) {
	if cursor != "" {
		err := s.c.FindOne(ctx, bson.M{"_id": cursor}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, "", model.Invalid("cursor", "不是本服务给出的游标")
		}
		if err != nil {
			return nil, "", fmt.Errorf("list tickets: %w", translate(err))
		}
		filter["_id"] = bson.M{"$lt": cursor}
	}
	out, err := findAll(ctx, s.c, "list tickets", (*ticketDoc).model, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)).SetHint(hint))
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

// Near returns tickets in the given statuses within radiusM metres of
// center (roughly: the caller filters by exact distance), optionally of one
// category and created since a time: an indexed $in over the geohash cells
// that cover the circle. Errors: unavailable.
func (s *Tickets) Near(ctx context.Context, center model.Point, radiusM float64, category string, statuses []model.Status, since time.Time, limit int) ([]*model.Ticket, error) {
	cells := geo.CoverRadius(geo.Point{Lat: center.Lat, Lng: center.Lng}, radiusM)
	filter := bson.M{"cells": bson.M{"$in": cells}, "status": bson.M{"$in": statusStrings(statuses)}}
	if category != "" {
		filter["category"] = category
	}
	if !since.IsZero() {
		filter["created_at"] = bson.M{"$gte": since.UTC()}
	}
	return findAll(ctx, s.c, "tickets near", (*ticketDoc).model, filter,
		options.Find().SetLimit(int64(limit)).SetSort(bson.D{{Key: "_id", Value: 1}}).SetHint(ixCells))
}

// byIDs loads tickets one _id lookup each, in the order given, skipping
// ids that do not exist.
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

// Stale returns ids of tickets in status (held or not) that have not
// changed since before, oldest change first: the reconciler's work list.
// Errors: unavailable.
func (s *Tickets) Stale(ctx context.Context, status model.Status, held bool, before time.Time, limit int) ([]string, error) {
	cur, err := s.c.Find(ctx,
		bson.M{"status": string(status), "held": held, "updated_at": bson.M{"$lt": before.UTC()}},
		options.Find().SetProjection(bson.M{"_id": 1}).SetSort(bson.D{{Key: "updated_at", Value: 1}}).SetLimit(int64(limit)).SetHint(ixStale))
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

// loadStatuses are the statuses that count in a user's load.
var loadStatuses = []model.Status{model.StatusDispatched, model.StatusInProgress}

// OpenLoads returns, for each user, how many tickets are assigned to them
// and dispatched or in progress: the load routing balances. One
// aggregation, counted from the assignee index. Errors: unavailable.
func (s *Tickets) OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	for _, u := range userIDs {
		out[u] = 0
	}
	cur, err := s.c.Aggregate(ctx, bson.A{
		bson.M{"$match": bson.M{"assignee_id": bson.M{"$in": userIDs}, "status": bson.M{"$in": statusStrings(loadStatuses)}}},
		bson.M{"$group": bson.M{"_id": "$assignee_id", "n": bson.M{"$sum": 1}}},
	}, options.Aggregate().SetHint(ixAssignee))
	if err != nil {
		return nil, fmt.Errorf("open loads: %w", translate(err))
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("open loads: %w", translate(err))
	}
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// ListAssigned returns a user's tickets in the given statuses, newest
// first. Errors: unavailable.
func (s *Tickets) ListAssigned(ctx context.Context, assigneeID string, statuses []model.Status, cursor string, limit int) ([]*model.Ticket, string, error) {
	filter := bson.M{"assignee_id": assigneeID, "status": bson.M{"$in": statusStrings(statuses)}}
	return s.page(ctx, filter, cursor, ixAssignee, limit)
}

// poolStatuses are the statuses of a ticket offered to party members.
var poolStatuses = []model.Status{model.StatusPending, model.StatusDispatched}

// ListPool returns tickets offered to the party members of the given
// communities, newest first. Errors: unavailable.
func (s *Tickets) ListPool(ctx context.Context, communities []string, cursor string, limit int) ([]*model.Ticket, string, error) {
	filter := bson.M{"pool": true, "community": bson.M{"$in": communities}, "status": bson.M{"$in": statusStrings(poolStatuses)}}
	return s.page(ctx, filter, cursor, ixPool, limit)
}

// timerStatuses are the statuses of tickets that have timers.
var timerStatuses = []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress, model.StatusResolved}

// Open returns the tickets that still have timers — pending, dispatched,
// in progress, and resolved (waiting for feedback) — after the given id, in
// id order: the reconciler walks them in pages. Errors: unavailable.
func (s *Tickets) Open(ctx context.Context, after string, limit int) ([]*model.Ticket, error) {
	filter := bson.M{"status": bson.M{"$in": statusStrings(timerStatuses)}}
	if after != "" {
		filter["_id"] = bson.M{"$gt": after}
	}
	return findAll(ctx, s.c, "open tickets", (*ticketDoc).model, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).SetHint(ixStatusID))
}
