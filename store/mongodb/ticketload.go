package mongodb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// Load stores tickets whose history is already written — a migration from
// another system, or a benchmark's year of tickets — in one InsertMany per
// call: each document as Insert stores it (its idem is "load:<id>"), with
// no log entries, and counted by the statistics as of its version. So the
// statistics applier never sees them (it counts log entries) and `server
// rebuild-stats` counts them. A ticket already stored is a conflict, after
// the others are stored.
func (s *Tickets) Load(ctx context.Context, ts []*model.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	docs := make([]any, len(ts))
	var counted []any
	for i, t := range ts {
		docs[i] = newTicketDoc(t, "load:"+t.ID, "")
		if t.Version > 0 { // a submitted ticket counts from its first transition
			counted = append(counted, statsVersionDoc{ID: t.ID, V: t.Version})
		}
	}
	if _, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		return fmt.Errorf("load tickets: %w", translate(err))
	}
	if len(counted) > 0 {
		if _, err := s.statsV.InsertMany(ctx, counted, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("load tickets: %w", translate(err))
		}
	}
	return nil
}

// statsVersionDoc is a ticket's version the statistics include
// (SetStatsVersion).
type statsVersionDoc struct {
	ID string `bson:"_id"`
	V  int64  `bson:"v"`
}
