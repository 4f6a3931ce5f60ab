package mongodb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/citizen-city/chengguantong/model"
)

// shape is one query the store makes, with the index that serves it.
type shape struct {
	name       string
	collection string
	filter     bson.M
	sort       bson.D
	index      string
	// memorySort says the index narrows by equality and the few
	// candidates are sorted in memory (declared, not an accident).
	memorySort bool
}

var yes = true

// staffShapes are the staff search's shapes: each filter alone (and the
// combinations the console sends), in each order.
func staffShapes() []shape {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	qs := []struct {
		name string
		q    model.TicketQuery
	}{
		{"all", model.TicketQuery{}},
		{"status", model.TicketQuery{Statuses: []model.Status{model.StatusPending}}},
		{"statuses", model.TicketQuery{Statuses: []model.Status{model.StatusDispatched, model.StatusInProgress}}},
		{"grid", model.TicketQuery{Grid: "g1"}},
		{"grid+status", model.TicketQuery{Grid: "g1", Statuses: []model.Status{model.StatusPending}}},
		{"category", model.TicketQuery{Category: "0101"}},
		{"category+created", model.TicketQuery{Category: "0101", From: now.AddDate(0, -1, 0), To: now}},
		{"source", model.TicketQuery{Source: model.SourceHotline}},
		{"queue", model.TicketQuery{Queue: model.QueueStaff}},
		{"overdue", model.TicketQuery{Overdue: &yes, Now: now}},
		{"late", model.TicketQuery{Late: &yes}},
		{"held", model.TicketQuery{Held: &yes}},
		{"created", model.TicketQuery{From: now.AddDate(0, -1, 0), To: now}},
		{"words", model.TicketQuery{Words: []string{"井盖"}}},
		{"words+grid", model.TicketQuery{Words: []string{"路灯不亮"}, Grid: "g1"}},
	}
	var out []shape
	for _, c := range qs {
		for _, sort := range []model.TicketSort{model.SortNewest, model.SortOldest, model.SortDue} {
			q := c.q
			q.Sort = sort
			order := bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}
			switch sort {
			case model.SortOldest:
				order = bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}
			case model.SortDue:
				order = bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}
			}
			ix := staffIndex(q)
			memory := sort == model.SortDue && !slices.Contains([]string{ixDue, ixStatusDue, ixGridDue, ixCategoryDue, ixQueueDue, ixOpenOverdueDue, ixSourceDue}, ix)
			out = append(out, shape{name: "staff " + c.name + " " + string(sort), collection: colTickets, filter: staffFilter(q), sort: order, index: ix, memorySort: memory})
		}
	}
	return out
}

// otherShapes are every other query that grows with tickets, and the
// directory's.
func otherShapes() []shape {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	newest := bson.D{{Key: "_id", Value: -1}}
	return []shape{
		{name: "a resident's reports", collection: colTickets, filter: bson.M{"reporter_id": "u1", "_id": bson.M{"$lt": "z"}}, sort: newest, index: ixReporter},
		{name: "a worker's tasks", collection: colTickets, filter: bson.M{"assignee_id": "u1", "status": bson.M{"$in": statusStrings(loadStatuses)}}, sort: newest, index: ixAssignee},
		{name: "loads", collection: colTickets, filter: bson.M{"assignee_id": bson.M{"$in": bson.A{"u1", "u2"}}, "status": bson.M{"$in": statusStrings(loadStatuses)}}, index: ixAssignee},
		{name: "the pool", collection: colTickets, filter: bson.M{"pool": true, "community": bson.M{"$in": bson.A{"c1"}}, "status": bson.M{"$in": statusStrings(poolStatuses)}}, sort: newest, index: ixPool},
		{name: "nearby", collection: colTickets, filter: bson.M{"cells": bson.M{"$in": bson.A{"wtsq", "wtsr"}}, "status": bson.M{"$in": statusStrings(loadStatuses)}, "created_at": bson.M{"$gte": at}},
			sort: bson.D{{Key: "_id", Value: 1}}, index: ixCells, memorySort: true},
		{name: "stale (reconciler)", collection: colTickets, filter: bson.M{"status": "pending", "held": false, "updated_at": bson.M{"$lt": at}}, sort: bson.D{{Key: "updated_at", Value: 1}}, index: ixStale},
		{name: "open (reconciler)", collection: colTickets, filter: bson.M{"status": bson.M{"$in": statusStrings(timerStatuses)}, "_id": bson.M{"$gt": "a"}}, sort: bson.D{{Key: "_id", Value: 1}}, index: ixStatusID},
		{name: "Open311 requests", collection: colTickets, filter: bson.M{"status": bson.M{"$in": statusStrings(model.PublicStatuses)}, "created_at": bson.M{"$lte": at}},
			sort: bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, index: ixStatusCreated},
		{name: "by case number", collection: colTickets, filter: bson.M{"case_no": "20261201-0001"}, index: ixCaseNo},
		{name: "by submission", collection: colTickets, filter: bson.M{"idem": "x"}, index: ixIdem},
		{name: "pending transitions", collection: colTicketLog, filter: bson.M{"pending": bson.M{"$exists": true}}, sort: bson.D{{Key: "pending", Value: 1}}, index: ixLogPending},
		{name: "unrelayed handoffs", collection: colTicketLog, filter: bson.M{"handoff": bson.M{"$exists": true}}, sort: bson.D{{Key: "handoff", Value: 1}}, index: ixLogHandoff},
		{name: "allowances", collection: colSubscriptions, filter: bson.M{"sub": "u1|t1"}, index: ixSubscriptions},
		{name: "workers", collection: colWorkers, filter: bson.M{}, sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, index: ixWorkersCreated},
		{name: "a grid's workers", collection: colWorkers, filter: bson.M{"grid_codes": "g1"}, sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, index: ixWorkersGrid},
		{name: "party members", collection: colPartyMembers, filter: bson.M{}, sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, index: ixMembersCreated},
		{name: "a community's members", collection: colPartyMembers, filter: bson.M{"communities": "c1"}, sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, index: ixMembersCommunit},
		{name: "a branch's members", collection: colPartyMembers, filter: bson.M{"branch_id": "b1"}, sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, index: ixMembersBranch},
	}
}

// CheckQueryShapes maps each query shape to the index that serves it:
// declared, keyed by the shape's equality fields and then its sort, and
// created in m. On MongoDB (MONGODB_URI) explain shows the plan scans
// that index and sorts in memory only where declared; FerretDB, which
// ignores hints, is checked for the index alone (TestEveryQueryShapeHasItsIndex).
func CheckQueryShapes(t *testing.T, m *Mongo) {
	ctx := context.Background()
	declared := map[string]index{}
	for _, ix := range indexes {
		declared[ix.collection+"."+ix.name] = ix
	}
	created := map[string]bool{}
	for _, c := range []string{colTickets, colTicketLog, colSubscriptions, colWorkers, colPartyMembers, colActivities, colActivityCheckins, colAddresses} {
		specs, err := m.db.Collection(c).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			created[c+"."+s.Name] = true
		}
	}
	mongod := os.Getenv("MONGODB_URI") != ""
	for _, s := range slices.Concat(staffShapes(), otherShapes(), deskShapes()) {
		if s.index == "" {
			t.Errorf("%s: no index", s.name)
			continue
		}
		ix, ok := declared[s.collection+"."+s.index]
		if !ok {
			t.Errorf("%s: index %s.%s is not declared", s.name, s.collection, s.index)
			continue
		}
		if !created[s.collection+"."+s.index] {
			t.Errorf("%s: index %s.%s was not created", s.name, s.collection, s.index)
		}
		if lead := ix.keys[0].Key; !s.mentions(lead) {
			t.Errorf("%s: index %s leads with %s, which the shape neither filters nor sorts on", s.name, s.index, lead)
		} else if fixed := s.fixed(); len(fixed) > 0 && !slices.Contains(fixed, lead) {
			t.Errorf("%s: index %s leads with %s, not with a field the shape fixes (%v)", s.name, s.index, lead, fixed)
		}
		if !s.memorySort && len(s.sort) > 0 && !ix.sorts(s) {
			t.Errorf("%s: index %s (%v) does not give the order %v after the shape's equalities", s.name, s.index, ix.keys, s.sort)
		}
		if mongod {
			s.explain(t, m)
		}
	}
}

// mentions reports whether the shape filters or sorts on field.
func (s shape) mentions(field string) bool {
	var look func(v any) bool
	look = func(v any) bool {
		switch x := v.(type) {
		case bson.M:
			for k, c := range x {
				if k == field || look(c) {
					return true
				}
			}
		case bson.A:
			for _, c := range x {
				if look(c) {
					return true
				}
			}
		}
		return false
	}
	if look(s.filter) {
		return true
	}
	for _, e := range s.sort {
		if e.Key == field {
			return true
		}
	}
	return false
}

// sorts reports whether the index's keys, after those the shape fixes by
// equality (or $in, which MongoDB merges in order), are the sort's fields.
func (ix index) sorts(s shape) bool {
	keys := ix.keys
	for len(keys) > 0 && s.fixes(keys[0].Key) {
		keys = keys[1:]
	}
	if len(keys) < len(s.sort) {
		return false
	}
	for i, e := range s.sort {
		if keys[i].Key != e.Key {
			return false
		}
	}
	return true
}

// fixed lists the fields the shape's filter fixes (but _id).
func (s shape) fixed() []string {
	var out []string
	var walk func(f bson.M)
	walk = func(f bson.M) {
		for k, v := range f {
			switch {
			case k == "$and":
				for _, c := range v.(bson.A) {
					if cm, ok := c.(bson.M); ok {
						walk(cm)
					}
				}
			case k != "_id" && !strings.HasPrefix(k, "$") && s.fixes(k):
				out = append(out, k)
			}
		}
	}
	walk(s.filter)
	return out
}

// fixes reports whether the shape's filter holds field to a value or a
// set of values (at the top level or in its $and), not to a range.
func (s shape) fixes(field string) bool {
	var look func(f bson.M) bool
	look = func(f bson.M) bool {
		for k, v := range f {
			if k == field {
				if m, ok := v.(bson.M); ok {
					_, in := m["$in"]
					_, all := m["$all"]
					return in || all
				}
				return true
			}
			if k == "$and" {
				for _, c := range v.(bson.A) {
					if cm, ok := c.(bson.M); ok && look(cm) {
						return true
					}
				}
			}
		}
		return false
	}
	return look(s.filter)
}

// explain checks MongoDB's winning plan: an index scan of the shape's
// index, and no blocking sort unless declared.
func (s shape) explain(t *testing.T, m *Mongo) {
	t.Helper()
	find := bson.D{{Key: "find", Value: s.collection}, {Key: "filter", Value: s.filter}, {Key: "hint", Value: s.index}, {Key: "limit", Value: 21}}
	if len(s.sort) > 0 {
		find = append(find, bson.E{Key: "sort", Value: s.sort})
	}
	var plan bson.M
	if err := m.db.RunCommand(context.Background(), bson.D{{Key: "explain", Value: find}, {Key: "verbosity", Value: "queryPlanner"}}).Decode(&plan); err != nil {
		t.Errorf("%s: explain: %v", s.name, err)
		return
	}
	text := fmt.Sprint(plan["queryPlanner"])
	if !strings.Contains(text, "IXSCAN") || !strings.Contains(text, s.index) {
		t.Errorf("%s: the plan does not scan %s: %s", s.name, s.index, text)
	}
	if !s.memorySort && strings.Contains(text, "stage:SORT ") {
		t.Errorf("%s: the plan sorts in memory: %s", s.name, text)
	}
	if strings.Contains(text, "COLLSCAN") {
		t.Errorf("%s: the plan scans the collection: %s", s.name, text)
	}
}
