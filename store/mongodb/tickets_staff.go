package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// noDeadline separates tickets with a deadline from those without (stored
// as the zero time, year 1).
var noDeadline = time.Unix(0, 0).UTC()

// staffFilter is the MongoDB filter of a staff search, without its words
// (checked on each candidate, see ListStaff) but with the grams they need.
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
	for _, f := range []struct {
		field string
		want  *bool
	}{{"open_overdue", q.Overdue}, {"late", q.Late}, {"held", q.Held}} {
		if f.want != nil {
			and = append(and, bson.M{f.field: *f.want})
		}
	}
	var words bson.M
	if g := wordGrams(q.Words); len(g) > 0 {
		words = bson.M{"grams": bson.M{"$all": g}}
	}
	switch {
	case q.Ref != "" && words != nil:
		and = append(and, bson.M{"$or": bson.A{bson.M{"_id": q.Ref}, bson.M{"case_no": q.Ref}, words}})
	case q.Ref != "":
		and = append(and, bson.M{"$or": bson.A{bson.M{"_id": q.Ref}, bson.M{"case_no": q.Ref}}})
	case words != nil:
		and = append(and, words)
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
// cursor ("" at the end), and how many tickets match: exact up to
// model.MaxExactTotal, else that many and TotalCapped. Every shape of the
// query is served by the index staffIndex names. Errors: invalid_argument
// (a cursor naming no ticket), unavailable.
func (s *Tickets) ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error) {
	filter := staffFilter(q)
	hint := staffIndex(q)
	var page model.TicketPage
	var err error
	if page.Total, page.TotalCapped, err = s.countStaff(ctx, q, filter, hint); err != nil {
		return model.TicketPage{}, err
	}
	var last *ticketDoc
	if cursor != "" {
		var d ticketDoc
		err := s.c.FindOne(ctx, bson.M{"_id": cursor}, options.FindOne().SetProjection(bson.M{"created_at": 1, "due_at": 1})).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return model.TicketPage{}, model.Invalid("cursor", "不是本服务给出的游标")
		}
		if err != nil {
			return model.TicketPage{}, fmt.Errorf("list tickets: %w", translate(err))
		}
		last = &d
	}
	docs, err := s.staffPage(ctx, q, filter, hint, last, limit+1)
	if err != nil {
		return model.TicketPage{}, fmt.Errorf("list tickets: %w", err)
	}
	if len(docs) > limit {
		docs = docs[:limit]
		page.Next = docs[limit-1].ID
	}
	page.Items = make([]*model.Ticket, len(docs))
	for i := range docs {
		page.Items[i] = docs[i].model()
	}
	return page, nil
}

// matches is the exact check of a candidate the filter found: its words
// are in it (the grams only say that their pairs of characters are).
func matches(q model.TicketQuery, d *ticketDoc) bool {
	if len(q.Words) == 0 || wordsExact(q.Words) {
		return true
	}
	return (q.Ref != "" && (d.ID == q.Ref || d.CaseNo == q.Ref)) || hasWords(q.Words, d.Description, d.Address)
}

// countStaff counts the tickets of a staff search up to
// model.MaxExactTotal, from the index; a search whose words the grams do
// not answer exactly checks at most that many candidates.
func (s *Tickets) countStaff(ctx context.Context, q model.TicketQuery, filter bson.M, hint string) (int64, bool, error) {
	opts := options.Count().SetLimit(model.MaxExactTotal + 1)
	if hint != "" {
		opts.SetHint(hint)
	}
	if len(q.Words) == 0 || wordsExact(q.Words) {
		n, err := s.c.CountDocuments(ctx, filter, opts)
		if err != nil {
			return 0, false, fmt.Errorf("count tickets: %w", translate(err))
		}
		if n > model.MaxExactTotal {
			return model.MaxExactTotal, true, nil
		}
		return n, false, nil
	}
	fopts := options.Find().SetProjection(bson.M{"description": 1, "address": 1, "case_no": 1}).SetLimit(model.MaxExactTotal + 1)
	if hint != "" {
		fopts.SetHint(hint)
	}
	cur, err := s.c.Find(ctx, filter, fopts)
	if err != nil {
		return 0, false, fmt.Errorf("count tickets: %w", translate(err))
	}
	defer cur.Close(ctx)
	var n, seen int64
	for cur.Next(ctx) {
		var d ticketDoc
		if err := cur.Decode(&d); err != nil {
			return 0, false, fmt.Errorf("count tickets: %w", err)
		}
		if seen++; seen > model.MaxExactTotal {
			return n, true, nil
		}
		if matches(q, &d) {
			n++
		}
	}
	if err := cur.Err(); err != nil {
		return 0, false, fmt.Errorf("count tickets: %w", translate(err))
	}
	return n, false, nil
}

// staffPage reads up to n tickets of filter that match q, in q.Sort's
// order after last.
func (s *Tickets) staffPage(ctx context.Context, q model.TicketQuery, filter bson.M, hint string, last *ticketDoc, n int) ([]ticketDoc, error) {
	find := func(f bson.M, order bson.D, hint string, n int) ([]ticketDoc, error) {
		opts := options.Find().SetSort(order).SetBatchSize(int32(n))
		if hint != "" {
			opts.SetHint(hint)
		}
		exact := len(q.Words) == 0 || wordsExact(q.Words)
		if exact {
			opts.SetLimit(int64(n))
		}
		cur, err := s.c.Find(ctx, f, opts)
		if err != nil {
			return nil, translate(err)
		}
		defer cur.Close(ctx)
		var docs []ticketDoc
		for len(docs) < n && cur.Next(ctx) {
			var d ticketDoc
			if err := cur.Decode(&d); err != nil {
				return nil, err
			}
			if exact || matches(q, &d) {
				docs = append(docs, d)
			}
		}
		return docs, translate(cur.Err())
	}
	switch q.Sort {
	case model.SortOldest:
		f := filter
		if last != nil {
			f = with(filter, bson.M{"$or": bson.A{
				bson.M{"created_at": bson.M{"$gt": last.CreatedAt}},
				bson.M{"created_at": last.CreatedAt, "_id": bson.M{"$gt": last.ID}},
			}})
		}
		return find(f, bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, hint, n)
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
			if docs, err = find(f, bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}, hint, n); err != nil {
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
		rest, err := find(f, bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}, hint, n-len(docs))
		return append(docs, rest...), err
	default:
		f := filter
		if last != nil {
			f = with(filter, bson.M{"$or": bson.A{
				bson.M{"created_at": bson.M{"$lt": last.CreatedAt}},
				bson.M{"created_at": last.CreatedAt, "_id": bson.M{"$lt": last.ID}},
			}})
		}
		return find(f, bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, hint, n)
	}
}

// History returns, for each committed version of a ticket from 1 to
// version, the length of its timeline and its assignee after that
// transition — read from the ticket's log, one lookup by _id each. A
// version whose entry is missing is left out. Errors: unavailable.
func (s *Tickets) History(ctx context.Context, id string, version int64) ([]model.TicketVersion, error) {
	out := make([]model.TicketVersion, 0, version)
	for v := int64(1); v <= version; v++ {
		var e logDoc
		err := s.log.FindOne(ctx, bson.M{"_id": logID(id, v)}, options.FindOne().SetProjection(bson.M{"fields.timeline": 1,
			"fields.assignee_id": 1, "fields.assignee_role": 1})).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ticket history: %w", translate(err))
		}
		out = append(out, model.TicketVersion{Version: v, Events: len(e.Fields.Timeline), AssigneeID: e.Fields.AssigneeID, AssigneeRole: model.Role(e.Fields.AssigneeRole)})
	}
	return out, nil
}
