package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// Load stores tickets whose history is already written — a migration from
// another system, seed-history — in one batch: each document as Insert
// stores it (its idem is "load:<id>"), a ticket without a case number
// getting the next of its day, and, for each ticket past version 0, one log
// entry at its version whose delta is its whole contribution — so the
// statistics applier counts it as of its version, like any commit. No
// handoff: nothing is relayed for history.
//
// A conflict (an id or a case number taken) stores none of the batch: the
// tickets are inserted first, and those of the batch are removed again
// before the log entries are written. A crash between the two leaves the
// batch's tickets stored and not counted until `rebuild-stats`. Errors:
// conflict, unavailable.
func (s *Tickets) Load(ctx context.Context, ts []*model.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	batch := NewID()
	var err error
	for attempt := 0; attempt < caseNoAttempts; attempt++ {
		var given []*model.Ticket // the tickets this attempt numbers
		if given, err = s.numberLoad(ctx, ts); err != nil {
			return err
		}
		if err = s.insertLoad(ctx, ts, batch); err == nil {
			break
		}
		for _, t := range given {
			t.CaseNo = ""
		}
		if !errors.Is(err, model.ErrConflict) || s.anyExists(ctx, ts) {
			return err
		}
		// Only numbers this attempt took collided (FerretDB's $inc): try
		// with new ones.
	}
	if err != nil {
		return err
	}
	var entries []any
	for _, t := range ts {
		if t.Version == 0 {
			continue // a report still being screened counts nothing
		}
		at := t.UpdatedAt.UTC()
		entries = append(entries, logDoc{ID: logID(t.ID, t.Version), Ticket: t.ID, Version: t.Version, Fields: fieldsOf(t), At: at,
			Delta: encodeDelta(model.Contribute(t).Rows()), Pending: &at})
	}
	if len(entries) > 0 {
		if _, err := s.log.InsertMany(ctx, entries, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("load tickets: %w", translate(err))
		}
		if s.committed != nil {
			s.committed(ctx)
		}
	}
	return nil
}

// numberLoad gives the tickets without a case number the next numbers of
// their days, in creation order within a day, and returns them.
func (s *Tickets) numberLoad(ctx context.Context, ts []*model.Ticket) ([]*model.Ticket, error) {
	byDay := map[string][]*model.Ticket{}
	var days []string
	highest := map[string]int64{} // the given numbers' highest, by day
	for _, t := range ts {
		if t.CaseNo != "" {
			if day, n, ok := strings.Cut(t.CaseNo, "-"); ok {
				if x, err := strconv.ParseInt(n, 10, 64); err == nil && x > highest[day] {
					highest[day] = x
				}
			}
			continue
		}
		d := caseDay(t.CreatedAt)
		if byDay[d] == nil {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], t)
	}
	// The days' counters move past the numbers given, so that the next
	// intake does not take one of them.
	for day, n := range highest {
		_, err := s.counters.UpdateOne(ctx, bson.M{"_id": day}, bson.M{"$max": bson.M{"n": n}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("case number: %w", translate(err))
		}
	}
	var given []*model.Ticket
	for _, d := range days {
		day := byDay[d]
		slices.SortStableFunc(day, func(a, b *model.Ticket) int { return a.CreatedAt.Compare(b.CreatedAt) })
		first, err := s.takeCaseNos(ctx, d, int64(len(day)))
		if err != nil {
			return given, err
		}
		for i, t := range day {
			t.CaseNo = formatCaseNo(d, first+int64(i))
			given = append(given, t)
		}
	}
	return given, nil
}

// insertLoad inserts the batch's tickets, each marked with batch; on a
// duplicate key it removes those it inserted and returns conflict.
func (s *Tickets) insertLoad(ctx context.Context, ts []*model.Ticket, batch string) error {
	docs := make([]any, len(ts))
	ids := make([]string, len(ts))
	for i, t := range ts {
		d := newTicketDoc(t, "load:"+t.ID, "")
		d.LoadBatch = batch
		docs[i], ids[i] = d, t.ID
	}
	_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	if mongo.IsDuplicateKeyError(err) {
		if _, derr := s.c.DeleteMany(context.WithoutCancel(ctx), bson.M{"_id": bson.M{"$in": ids}, "load_batch": batch}); derr != nil {
			return fmt.Errorf("load tickets: undo a conflicting batch: %w", translate(derr))
		}
	}
	return fmt.Errorf("load tickets: %w", translate(err))
}

// anyExists reports whether a ticket of ts is stored (by id).
func (s *Tickets) anyExists(ctx context.Context, ts []*model.Ticket) bool {
	for _, t := range ts {
		if err := s.c.FindOne(ctx, bson.M{"_id": t.ID}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err(); err == nil {
			return true
		}
	}
	return false
}
