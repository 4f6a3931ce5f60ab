// Package store is the contract between the services and the storage
// engines: the method sets every engine implements (store/sqlite, the
// embedded default; store/mongodb, production), gathered by resource in
// Engine, which cmd/server wires. The services declare their own, smaller
// interfaces; store/storetest is the conformance suite that holds every
// engine to this one.
package store

import (
	"context"
	"io"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Engine is one open store of one engine: every resource of the contract.
type Engine struct {
	Name          string // "sqlite", "mongodb"
	Tickets       Tickets
	Stats         Stats
	Users         Users
	Invites       Invites
	People        People
	Categories    Categories
	Grids         Grids
	Photos        Photos
	Activities    Activities
	APIKeys       APIKeys
	Submitters    Submitters
	Notifications Notifications
	Subscriptions Subscriptions
	Addresses     Addresses
	Layers        Layers
	// The duty of care (privacy.go).
	Staff     Staff
	Trail     Trail
	Privacy   Privacy
	Redaction Redaction
}

// Tickets stores tickets and their transitions.
//
// Commit is the one way a ticket changes: it writes after as version
// before.Version+1 if the stored ticket is still at before.Version (else
// conflict), together with the statistics' delta (model.StatsDelta(before,
// after)) and a handoff (model.Handoff) naming the first timeline event not
// yet relayed — atomically: a reader never sees the new state without its
// delta and handoff. Insert likewise records the intake handoff (From 0)
// with the new ticket and gives it its case number.
type Tickets interface {
	// Insert stores a new ticket (version 0) and its intake handoff, and
	// sets t.CaseNo (YYYYMMDD-NNNN by t.CreatedAt in China Standard Time).
	// idem identifies the submission; a second ticket with the same idem is
	// a conflict, and nothing of it is stored.
	Insert(ctx context.Context, t *model.Ticket, idem, bodyHash string) error
	// Load stores tickets whose history is already written (a migration,
	// seed-history): in one batch, each counted by the statistics as of its
	// version (version 0 counts nothing), with no handoff; a ticket without
	// a case number gets the next of its day. A conflict (an id or case
	// number taken) stores none of the batch.
	Load(ctx context.Context, ts []*model.Ticket) error
	// Commit: see the type's comment. It sets after.Version. Errors:
	// conflict, unavailable.
	Commit(ctx context.Context, before, after *model.Ticket) error
	// ByIdem returns the ticket a submission created and its body digest.
	ByIdem(ctx context.Context, idem string) (*model.Ticket, string, error)
	// Get returns a ticket by id (not_found if none).
	Get(ctx context.Context, id string) (*model.Ticket, error)
	// GetByCaseNo returns a ticket by its case number (not_found if none).
	GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error)

	// Unrelayed lists up to limit recorded handoffs, oldest first.
	Unrelayed(ctx context.Context, limit int) ([]model.Handoff, error)
	// Relayed clears the ticket's handoff if it was recorded at version or
	// before; a handoff recorded by a later commit stays.
	Relayed(ctx context.Context, ticketID string, version int64) error

	// ListByReporter: a reporter's tickets, newest first, after cursor.
	ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error)
	// ListAssigned: an assignee's tickets in statuses, newest first.
	ListAssigned(ctx context.Context, assigneeID string, statuses []model.Status, cursor string, limit int) ([]*model.Ticket, string, error)
	// ListPool: tickets offered to the party members of communities
	// (Pool set, pending or dispatched), newest first.
	ListPool(ctx context.Context, communities []string, cursor string, limit int) ([]*model.Ticket, string, error)
	// OpenLoads: per user, the tickets assigned and dispatched or in
	// progress.
	OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error)
	// Near: tickets in statuses within about radiusM of center (the caller
	// filters by exact distance), of one category if set, created since.
	Near(ctx context.Context, center model.Point, radiusM float64, category string, statuses []model.Status, since time.Time, limit int) ([]*model.Ticket, error)
	// Stale: ids of tickets in status (held or not) unchanged since before,
	// oldest change first — the reconciler's work list.
	Stale(ctx context.Context, status model.Status, held bool, before time.Time, limit int) ([]string, error)
	// Open: the tickets that have timers (pending, dispatched, in
	// progress, resolved) after id `after`, in id order.
	Open(ctx context.Context, after string, limit int) ([]*model.Ticket, error)
	// ListStaff: a page of the staff search in q.Sort's order after cursor
	// (the previous page's last id), with the total (exact up to
	// model.MaxExactTotal, else a lower bound marked TotalCapped). Errors:
	// invalid_argument for a cursor naming no ticket.
	ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error)
	// Public: the tickets an Open311 listing shows (model.PublicQuery).
	Public(ctx context.Context, q model.PublicQuery) ([]*model.Ticket, error)
	// History: per committed version 1..version, the timeline's length and
	// the assignee after it.
	History(ctx context.Context, id string, version int64) ([]model.TicketVersion, error)
}

// Stats reads the statistics' roll-ups, which the engine keeps from every
// commit exactly once.
type Stats interface {
	// Read returns a row per bucket and key of dimension dim in the period
	// buckets given, each bucket's rows in key order.
	Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error)
	// UpdatedAt is when a transition was last counted (zero if never).
	UpdatedAt(ctx context.Context) (time.Time, error)
	// Rebuild recomputes every roll-up as the sum of model.Contribute over
	// the tickets as counted; it returns how many tickets it read.
	Rebuild(ctx context.Context) (int, error)
	// Settle returns once every commit made before the call is counted (an
	// engine that counts within the commit returns at once).
	Settle(ctx context.Context) error
}

// Users keeps accounts: WeChat users and staff.
type Users interface {
	UpsertWeChat(ctx context.Context, openID string) (*model.User, error)
	Get(ctx context.Context, id string) (*model.User, error)
	Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error)
	Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error)
	SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error)
	GetStaff(ctx context.Context, id string) (*model.User, error)
	StaffCredentials(ctx context.Context, username string) (*model.User, []byte, error)
	UpsertStaff(ctx context.Context, username string, hash []byte) (*model.User, error)
	StaffExists(ctx context.Context, username string) (bool, error)
	OnDuty(ctx context.Context, ids []string) ([]string, error)
}

// Invites keeps single-use invite codes by their hash.
type Invites interface {
	Create(ctx context.Context, codeHash string, inv model.Invite) error
	Redeem(ctx context.Context, codeHash, userID string) (*model.Invite, error)
	RevokeUnused(ctx context.Context, role model.Role, profileID string) error
}

// People is the directory of grid workers, party branches and members.
type People interface {
	CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error)
	GetWorker(ctx context.Context, id string) (*model.Worker, error)
	UpdateWorker(ctx context.Context, w *model.Worker) error
	ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error)
	WorkerUsers(ctx context.Context, gridCode string) ([]string, error)
	CreateBranch(ctx context.Context, b model.Branch) (*model.Branch, error)
	GetBranch(ctx context.Context, id string) (*model.Branch, error)
	ListBranches(ctx context.Context) ([]model.Branch, map[string]int, error)
	RenameBranch(ctx context.Context, id, name string) (*model.Branch, error)
	CreatePartyMember(ctx context.Context, p model.PartyMember) (*model.PartyMember, error)
	GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error)
	UpdatePartyMember(ctx context.Context, p *model.PartyMember) error
	ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error)
	LinkUser(ctx context.Context, role model.Role, profileID, userID string) error
	ClaimPhone(ctx context.Context, role model.Role, phone, profileID string) (string, error)
	ReleasePhone(ctx context.Context, role model.Role, phone, profileID string) error
}

// Categories keeps the category catalogue.
type Categories interface {
	Seed(ctx context.Context, cats []model.Category) error
	List(ctx context.Context) ([]model.Category, error)
	Put(ctx context.Context, c model.Category) error
}

// Grids keeps the grids' outlines.
type Grids interface {
	Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error)
	Revision(ctx context.Context) (string, error)
	All(ctx context.Context) ([]geo.Grid, error)
	List(ctx context.Context) ([]model.Grid, error)
}

// Photos keeps uploaded photos (their bytes, and what is known of them).
type Photos interface {
	Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error)
	Get(ctx context.Context, id string) (*model.Photo, error)
	Many(ctx context.Context, ids []string) ([]*model.Photo, error)
	Open(ctx context.Context, id, variant string) (io.ReadCloser, int64, string, error)
	Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error)
	SetTrace(ctx context.Context, id, traceID string) error
	SetVerdict(ctx context.Context, traceID, suggest string) (*model.Photo, error)
	ExpireModeration(ctx context.Context, cutoff time.Time) (int, error)
	DeleteUnused(ctx context.Context, cutoff time.Time) (int, error)
	SaveEarlyVerdict(ctx context.Context, traceID, suggest string) error
	TakeEarlyVerdict(ctx context.Context, traceID string) (string, bool, error)
}

// Activities keeps party members' activities and their check-ins. A
// cancelled activity stays listed, with its check-ins, but counts nothing:
// CountActivities and CheckinsBetween leave it out.
type Activities interface {
	Create(ctx context.Context, a model.Activity) (*model.Activity, error)
	Get(ctx context.Context, id string) (*model.Activity, error)
	CheckIn(ctx context.Context, c model.Checkin) (recorded model.Checkin, first bool, err error)
	CountActivities(ctx context.Context, from, to time.Time) (map[string]int64, error)
	CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error)
	// List: a page of the activities f selects, in f's order (by start,
	// then id) after cursor. Errors: invalid_argument (a cursor this store
	// did not give).
	List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error)
	// Update writes a's title, community and times (its check-ins follow
	// the times). Errors: not_found; conflict when it is cancelled.
	Update(ctx context.Context, a *model.Activity) error
	// Cancel marks the activity cancelled at at, with the reason, and
	// returns it. Errors: not_found; conflict when it is cancelled already.
	Cancel(ctx context.Context, id, reason string, at time.Time) (*model.Activity, error)
	// Checkins: an activity's check-ins, in the order they were made.
	Checkins(ctx context.Context, activityID string) ([]model.Checkin, error)
}

// APIKeys keeps Open311 clients' keys.
type APIKeys interface {
	Insert(ctx context.Context, k *model.APIKey) error
	Get(ctx context.Context, id string) (*model.APIKey, error)
	List(ctx context.Context) ([]*model.APIKey, error)
	Revoke(ctx context.Context, id string, at time.Time) error
}

// Submitters keeps what an Open311 client said about who filed a request.
type Submitters interface {
	Save(ctx context.Context, p *model.Open311Submitter) error
	Get(ctx context.Context, ticketID string) (*model.Open311Submitter, error)
}

// Notifications records each logical subscribe message once.
type Notifications interface {
	Begin(ctx context.Context, key, userID, templateID string) (bool, error)
	Finish(ctx context.Context, key, outcome string) error
	Forget(ctx context.Context, key string) error
	Status(ctx context.Context, key string) (string, error)
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// Subscriptions counts the subscribe-message allowances residents granted.
type Subscriptions interface {
	Grant(ctx context.Context, userID string, templateIDs []string) error
	Consume(ctx context.Context, userID, templateID string) (bool, error)
	Refund(ctx context.Context, userID, templateID string) error
	Clear(ctx context.Context, userID, templateID string) error
	Remaining(ctx context.Context, userID, templateID string) (int, error)
}

// Addresses keeps the address book (地址库): standard addresses by their
// unique name, found by any part of it.
type Addresses interface {
	// Upsert stores each address by name: a new name is added with a new
	// id, a known one takes the kind and point given (its id stays). It
	// returns how many names were new. Errors: unavailable.
	Upsert(ctx context.Context, as []model.Address, at time.Time) (added int, err error)
	// Search returns up to limit addresses whose name contains every word
	// (Chinese substrings), best first (model.SortAddresses): the name
	// itself, then names that start with it (the first few in name order),
	// then the others — shorter names first within each. Errors:
	// unavailable.
	Search(ctx context.Context, words []string, limit int) ([]model.Address, error)
	// Count is how many addresses there are.
	Count(ctx context.Context) (int, error)
}

// Layers keeps the map's base layers (roads, boundaries).
type Layers interface {
	// Create stores a new layer, giving it its id. Errors: unavailable.
	Create(ctx context.Context, l model.Layer) (*model.Layer, error)
	// List returns every layer, oldest first, with its GeoJSON.
	List(ctx context.Context) ([]model.Layer, error)
	// Delete removes a layer. Errors: not_found.
	Delete(ctx context.Context, id string) error
}
