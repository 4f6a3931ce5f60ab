package mongodb

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// noDeadline separates tickets with a deadline from those without (stored
// as the zero time, year 1).
var noDeadline = time.Unix(0, 0).UTC()

// staffFilter is the MongoDB filter of a staff search. On MongoDB the
// equality fields and created_at are served by indexes; words are regular
// expressions, so a search with q reads every candidate the other filters
// leave. On FerretDB v1 every filter but _id reads the whole collection.
func staffFilter(q model.TicketQuery) bson.M {
	var and bson.A
	if len(q.Statuses) == 1 {
		and = append(and, bson.M{"status": string(q.Statuses[0])})
	} else if len(q.Statuses) > 1 {
		and = append(and, bson.M{"status": bson.M{"$in": statusStrings(q.Statuses)}})
	}
	if q.Grid != "" {
		and = append(and, bson.M{"grid_code": q.Grid})
	}
	if q.Category != "" {
		and = append(and, bson.M{"category": q.Category})
	}
	if q.Queue != "" {
		and = append(and, bson.M{"queue": q.Queue})
	}
	if q.Source != "" {
		if q.Source == model.SourceWeChat {
			// Tickets stored before sources existed are WeChat reports.
			and = append(and, bson.M{"source": bson.M{"$in": bson.A{string(model.SourceWeChat), "", nil}}})
		} else {
			and = append(and, bson.M{"source": string(q.Source)})
		}
	}
	if created := timeRange(q.From, q.To, "$lt"); created != nil {
		and = append(and, bson.M{"created_at": created})
	}
	if q.Overdue != nil {
		late := bson.M{"due_at": bson.M{"$gt": noDeadline, "$lt": q.Now.UTC()}, "status": bson.M{"$in": statusStrings(model.OpenForDeadline)}}
		if *q.Overdue {
			and = append(and, bson.M{"$or": bson.A{bson.M{"overdue": true}, late}})
		} else {
			and = append(and, bson.M{"overdue": bson.M{"$ne": true}}, bson.M{"$nor": bson.A{late}})
		}
	}
	var words bson.A
	for _, w := range q.Words {
		re := bson.Regex{Pattern: regexp.QuoteMeta(w), Options: "i"}
		words = append(words, bson.M{"$or": bson.A{bson.M{"description": re}, bson.M{"address": re}}})
	}
	switch {
	case q.Ref != "" && len(words) > 0:
		and = append(and, bson.M{"$or": bson.A{bson.M{"_id": q.Ref}, bson.M{"$and": words}}})
	case q.Ref != "":
		and = append(and, bson.M{"_id": q.Ref})
	case len(words) > 0:
		and = append(and, words...)
	}
	if len(and) == 0 {
		return bson.M{}
	}
	return bson.M{"$and": and}
}

// with adds one more condition to a filter.
func with(filter bson.M, cond bson.M) bson.M {
	if len(filter) == 0 {
		return cond
	}
	return bson.M{"$and": bson.A{filter, cond}}
}

// ListStaff returns a page of the tickets matching q in q.Sort's order
// after cursor (the id of the previous page's last ticket), the next
// cursor ("" at the end), and how many tickets match in all. Errors:
// invalid_argument (a cursor naming no ticket), unavailable.
func (s *Tickets) ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error) {
	ts, next, total, err := s.listStaff(ctx, q, cursor, limit)
	return model.TicketPage{Items: ts, Next: next, Total: total}, err
}

func (s *Tickets) listStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) ([]*model.Ticket, string, int64, error) {
	filter := staffFilter(q)
	total, err := s.c.CountDocuments(ctx, filter)
	if err != nil {
		return nil, "", 0, fmt.Errorf("count tickets: %w", translate(err))
	}
	var last *ticketDoc
	if cursor != "" {
		var d ticketDoc
		err := s.c.FindOne(ctx, bson.M{"_id": cursor}, options.FindOne().SetProjection(bson.M{"created_at": 1, "due_at": 1})).Decode(&d)
		if err == mongo.ErrNoDocuments {
			return nil, "", 0, model.Invalid("cursor", "不是本服务给出的游标")
		}
		if err != nil {
			return nil, "", 0, fmt.Errorf("list tickets: %w", translate(err))
		}
		last = &d
	}
	docs, err := s.staffPage(ctx, filter, q.Sort, last, limit+1)
	if err != nil {
		return nil, "", 0, fmt.Errorf("list tickets: %w", err)
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
	return out, next, total, nil
}

// staffPage reads up to n tickets of filter in order after last.
func (s *Tickets) staffPage(ctx context.Context, filter bson.M, sort model.TicketSort, last *ticketDoc, n int) ([]ticketDoc, error) {
	find := func(f bson.M, order bson.D, n int) ([]ticketDoc, error) {
		cur, err := s.c.Find(ctx, f, options.Find().SetSort(order).SetLimit(int64(n)))
		if err != nil {
			return nil, translate(err)
		}
		var docs []ticketDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, translate(err)
		}
		return docs, nil
	}
	switch sort {
	case model.SortOldest:
		f := filter
		if last != nil {
			f = with(filter, bson.M{"$or": bson.A{
				bson.M{"created_at": bson.M{"$gt": last.CreatedAt}},
				bson.M{"created_at": last.CreatedAt, "_id": bson.M{"$gt": last.ID}},
			}})
		}
		return find(f, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, n)
	case model.SortDue:
		// Tickets with a deadline, soonest first, then those without one
		// (not yet registered, rejected, merged) in id order.
		var docs []ticketDoc
		if last == nil || last.Fields.DueAt.After(noDeadline) {
			f := with(filter, bson.M{"due_at": bson.M{"$gt": noDeadline}})
			if last != nil {
				f = with(f, bson.M{"$or": bson.A{
					bson.M{"due_at": bson.M{"$gt": last.Fields.DueAt}},
					bson.M{"due_at": last.Fields.DueAt, "_id": bson.M{"$gt": last.ID}},
				}})
			}
			var err error
			if docs, err = find(f, bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}, n); err != nil {
				return nil, err
			}
			if len(docs) == n {
				return docs, nil
			}
			last = nil
		}
		f := with(filter, bson.M{"due_at": bson.M{"$lte": noDeadline}})
		if last != nil {
			f = with(f, bson.M{"_id": bson.M{"$gt": last.ID}})
		}
		rest, err := find(f, bson.D{{Key: "_id", Value: 1}}, n-len(docs))
		return append(docs, rest...), err
	default:
		f := filter
		if last != nil {
			f = with(filter, bson.M{"$or": bson.A{
				bson.M{"created_at": bson.M{"$lt": last.CreatedAt}},
				bson.M{"created_at": last.CreatedAt, "_id": bson.M{"$lt": last.ID}},
			}})
		}
		return find(f, bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, n)
	}
}

// History returns, for each committed version of a ticket from 1 to
// version, the length of its timeline and its assignee after that
// transition — read from the ticket's log, one lookup by _id each. A
// version whose entry is missing is left out.
func (s *Tickets) History(ctx context.Context, id string, version int64) ([]model.TicketVersion, error) {
	out := make([]model.TicketVersion, 0, version)
	for v := int64(1); v <= version; v++ {
		var e logDoc
		err := s.log.FindOne(ctx, bson.M{"_id": logID(id, v)}).Decode(&e)
		if err == mongo.ErrNoDocuments {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ticket history: %w", translate(err))
		}
		out = append(out, model.TicketVersion{Version: v, Events: len(e.Fields.Timeline), AssigneeID: e.Fields.AssigneeID, AssigneeRole: model.Role(e.Fields.AssigneeRole)})
	}
	return out, nil
}
