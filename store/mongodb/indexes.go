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

// Every query the product makes is served by an index declared here:
// equality fields first, then the sort, then the range. The reads name
// their index (a hint), so the plan is the one declared whatever the data —
// queryshapes_test.go maps each query shape to its index and, on MongoDB,
// checks the plan with explain. (FerretDB v1 ignores hints and reads its
// collections whole for any filter but _id alone; the tests run there, and
// production runs on MongoDB.)

// The tickets' indexes.
const (
	ixIdem     = "idem_unique"
	ixCaseNo   = "case_no_unique"
	ixReporter = "reporter_newest"
	ixCells    = "cells_status"
	ixStale    = "status_held_updated"
	ixAssignee = "assignee_status_id"
	ixPool     = "pool_community_status_id"
	ixStatusID = "status_id"

	// The staff search: one index per filter it can be narrowed by, with
	// the sort's key (created_at, or due_at for sort=due_at).
	ixCreated            = "created_id"
	ixDue                = "due_id"
	ixStatusCreated      = "status_created_id"
	ixStatusDue          = "status_due_id"
	ixGridCreated        = "grid_created_id"
	ixGridDue            = "grid_due_id"
	ixCategoryCreated    = "category_created_id"
	ixCategoryDue        = "category_due_id"
	ixQueueCreated       = "queue_created_id"
	ixQueueDue           = "queue_due_id"
	ixOpenOverdueCreated = "open_overdue_created_id"
	ixOpenOverdueDue     = "open_overdue_due_id"
	ixSourceCreated      = "source_created_id"
	ixSourceDue          = "source_due_id"
	ixLateCreated        = "late_created_id"
	ixHeldCreated        = "held_created_id"
	ixGramsCreated       = "grams_created_id"
)

// The indexes of the log, the handoffs and the directory.
const (
	ixLogPending      = "pending_sparse"
	ixLogHandoff      = "handoff_sparse"
	ixWorkersCreated  = "created_id"
	ixWorkersGrid     = "grid_created_id"
	ixMembersCreated  = "created_id"
	ixMembersCommunit = "community_created_id"
	ixMembersBranch   = "branch_created_id"
	ixSubscriptions   = "sub"
)

// index is one index the store needs.
type index struct {
	collection string
	keys       bson.D
	name       string
	unique     bool
	// sparse leaves out the documents without the (first) field: MongoDB
	// keeps such an index as small as what it lists. FerretDB ignores it.
	sparse bool
}

func keys(fields ...string) bson.D {
	d := make(bson.D, len(fields))
	for i, f := range fields {
		d[i] = bson.E{Key: f, Value: 1}
	}
	return d
}

// indexes lists every index of every collection; EnsureIndexes creates them.
var indexes = []index{
	{collection: colUsers, keys: keys("openid"), unique: true, name: "openid_unique"},
	{collection: colStaff, keys: keys("username"), unique: true, name: "username_unique"},
	{collection: colWorkers, keys: keys("user_id"), name: "user_id"},
	{collection: colWorkers, keys: keys("created_at", "_id"), name: ixWorkersCreated},
	{collection: colWorkers, keys: keys("grid_codes", "created_at", "_id"), name: ixWorkersGrid},
	{collection: colPartyMembers, keys: keys("user_id"), name: "user_id"},
	{collection: colPartyMembers, keys: keys("branch_id"), name: "branch_id"},
	{collection: colPartyMembers, keys: keys("created_at", "_id"), name: ixMembersCreated},
	{collection: colPartyMembers, keys: keys("communities", "created_at", "_id"), name: ixMembersCommunit},
	{collection: colPartyMembers, keys: keys("branch_id", "created_at", "_id"), name: ixMembersBranch},
	{collection: colPhotos, keys: keys("moderation.trace_id"), name: "trace_id"},
	{collection: colPhotos, keys: keys("used_by", "created_at"), name: "unused_age"},

	{collection: colTickets, keys: keys("idem"), unique: true, name: ixIdem},
	{collection: colTickets, keys: keys("case_no"), unique: true, sparse: true, name: ixCaseNo},
	{collection: colTickets, keys: bson.D{{Key: "reporter_id", Value: 1}, {Key: "_id", Value: -1}}, name: ixReporter},
	{collection: colTickets, keys: keys("cells", "status"), name: ixCells},
	{collection: colTickets, keys: keys("status", "held", "updated_at"), name: ixStale},
	{collection: colTickets, keys: keys("assignee_id", "status", "_id"), name: ixAssignee},
	{collection: colTickets, keys: keys("pool", "community", "status", "_id"), name: ixPool},
	{collection: colTickets, keys: keys("status", "_id"), name: ixStatusID},
	{collection: colTickets, keys: keys("created_at", "_id"), name: ixCreated},
	{collection: colTickets, keys: keys("due_at", "_id"), name: ixDue},
	{collection: colTickets, keys: keys("status", "created_at", "_id"), name: ixStatusCreated},
	{collection: colTickets, keys: keys("status", "due_at", "_id"), name: ixStatusDue},
	{collection: colTickets, keys: keys("grid_code", "created_at", "_id"), name: ixGridCreated},
	{collection: colTickets, keys: keys("grid_code", "due_at", "_id"), name: ixGridDue},
	{collection: colTickets, keys: keys("category", "created_at", "_id"), name: ixCategoryCreated},
	{collection: colTickets, keys: keys("category", "due_at", "_id"), name: ixCategoryDue},
	{collection: colTickets, keys: keys("queue", "created_at", "_id"), name: ixQueueCreated},
	{collection: colTickets, keys: keys("queue", "due_at", "_id"), name: ixQueueDue},
	{collection: colTickets, keys: keys("open_overdue", "created_at", "_id"), name: ixOpenOverdueCreated},
	{collection: colTickets, keys: keys("open_overdue", "due_at", "_id"), name: ixOpenOverdueDue},
	{collection: colTickets, keys: keys("source", "created_at", "_id"), name: ixSourceCreated},
	{collection: colTickets, keys: keys("source", "due_at", "_id"), name: ixSourceDue},
	{collection: colTickets, keys: keys("late", "created_at", "_id"), name: ixLateCreated},
	{collection: colTickets, keys: keys("held", "created_at", "_id"), name: ixHeldCreated},
	{collection: colTickets, keys: keys("grams", "created_at", "_id"), name: ixGramsCreated},

	{collection: colTicketLog, keys: keys("pending"), sparse: true, name: ixLogPending},
	{collection: colTicketLog, keys: keys("handoff"), sparse: true, name: ixLogHandoff},

	{collection: colWorkers, keys: keys("grid_codes"), name: "grid_codes"},
	{collection: colNotifications, keys: keys("at"), name: "at"},
	{collection: colSubscriptions, keys: keys("sub"), name: ixSubscriptions},
	{collection: colActivities, keys: keys("starts_at"), name: ixActivitiesStart},
	{collection: colActivities, keys: keys("starts_at", "_id"), name: ixActivitiesStartID},
	{collection: colActivities, keys: keys("community", "starts_at", "_id"), name: ixActivitiesCommunity},
	{collection: colActivities, keys: keys("kind", "starts_at", "_id"), name: ixActivitiesKind},
	{collection: colActivityCheckins, keys: keys("activity_id", "at"), name: ixCheckinsActivity},
	{collection: colAddresses, keys: keys("name"), unique: true, name: ixAddressName},
	{collection: colAddresses, keys: keys("grams"), name: ixAddressGrams},
	// GridFS's own indexes of the photo files (the driver's upload would
	// make them on first use; Photos writes the files itself).
	{collection: photosBucket + ".chunks", keys: keys("files_id", "n"), unique: true, name: "files_id_1_n_1"},
	{collection: photosBucket + ".files", keys: keys("filename", "uploadDate"), name: "filename_1_uploadDate_1"},
	{collection: colActivityCheckins, keys: keys("starts_at", "_id"), name: "starts_at"},

	// The duty of care (docs/privacy.md): the access trail by actor,
	// action and target (each newest first), the retention period's work
	// list, the erasures still to do, a resident's uploads and messages.
	{collection: colAudit, keys: keys("actor_id", "_id"), name: ixAuditActor},
	{collection: colAudit, keys: keys("action", "_id"), name: ixAuditAction},
	{collection: colAudit, keys: keys("target", "_id"), name: ixAuditTarget},
	{collection: colTickets, keys: keys("status", "anon", "updated_at"), name: ixRetention},
	{collection: colErasures, keys: keys("at"), name: "at"},
	{collection: colPhotos, keys: keys("owner_id"), name: "owner_id"},
	{collection: colNotifications, keys: keys("user_id"), name: "user_id"},
}

// EnsureIndexes creates the indexes every collection needs, then fills in
// what tickets stored before this version lack (backfillTickets). It is
// idempotent and safe to run from several instances at once. Errors:
// unavailable, internal.
func (m *Mongo) EnsureIndexes(ctx context.Context) error {
	for _, ix := range indexes {
		opts := options.Index().SetName(ix.name)
		if ix.unique {
			opts.SetUnique(true)
		}
		if ix.sparse {
			opts.SetSparse(true)
		}
		// One at a time: FerretDB drops the connection when a batch
		// repeats indexes that exist.
		if _, err := m.db.Collection(ix.collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: opts}); err != nil {
			return fmt.Errorf("create index %s.%s: %w", ix.collection, ix.name, translate(err))
		}
	}
	return m.backfillTickets(ctx)
}

// backfillTickets gives the tickets stored before the staff search's
// n-grams, case numbers and open-overdue and late flags existed what they
// lack, in creation order (case numbers by day, after any the day has). A
// start-up with none left costs one index lookup.
func (m *Mongo) backfillTickets(ctx context.Context) error {
	t := NewTickets(m, "", time.Now)
	for {
		var docs []ticketDoc
		cur, err := t.c.Find(ctx, bson.M{"grams": nil}, options.Find().SetHint(ixGramsCreated).
			SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(500))
		if err == nil {
			err = cur.All(ctx, &docs)
		}
		if err != nil {
			return fmt.Errorf("backfill tickets: %w", translate(err))
		}
		if len(docs) == 0 {
			return nil
		}
		models := make([]mongo.WriteModel, 0, len(docs))
		for i := range docs {
			d := &docs[i]
			tk := d.model()
			set := bson.M{"grams": grams(d.Description, d.Address), "open_overdue": tk.OpenOverdue(), "late": tk.ClosedLate()}
			if d.CaseNo == "" {
				no, err := t.nextCaseNo(ctx, d.CreatedAt, 1)
				if err != nil {
					return err
				}
				set["case_no"] = no
			}
			models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": d.ID, "grams": nil}).SetUpdate(bson.M{"$set": set}))
		}
		if _, err := t.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("backfill tickets: %w", translate(err))
		}
	}
}

// staffIndex names the index that serves a staff search: that of its most
// selective equality filter, with the sort's key; "" for a search by
// reference (an $or of the _id and case number indexes, which the planner
// combines, and which no single hint may name).
func staffIndex(q model.TicketQuery) string {
	due := q.Sort == model.SortDue
	pick := func(created, dueIx string) string {
		if due && dueIx != "" {
			return dueIx
		}
		return created
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	switch {
	case q.Ref != "":
		return ""
	case len(wordGrams(q.Words)) > 0:
		// The words' grams narrow most; the candidates of a deadline
		// order are sorted in memory.
		return ixGramsCreated
	case q.Grid != "":
		return pick(ixGridCreated, ixGridDue)
	case q.Queue != "":
		return pick(ixQueueCreated, ixQueueDue)
	case isTrue(q.Overdue):
		return pick(ixOpenOverdueCreated, ixOpenOverdueDue)
	case isTrue(q.Held):
		return ixHeldCreated
	case isTrue(q.Late):
		return ixLateCreated
	case q.Category != "":
		return pick(ixCategoryCreated, ixCategoryDue)
	case len(q.Statuses) > 0:
		return pick(ixStatusCreated, ixStatusDue)
	case q.Source != "":
		return pick(ixSourceCreated, ixSourceDue)
	}
	return pick(ixCreated, ixDue)
}
