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

// colHandoffs holds the handoffs: what a committed ticket change hands to
// Redis after the commit (docs/consistency.md, "Handoffs").
//
// MongoDB cannot write the ticket's change and a second document atomically
// without a transaction (and FerretDB has none), so each attempt to commit
// first inserts its handoff record here — one immutable document per
// attempt, {_id: random, ticket, version, from, owner, at} — and then
// inserts the transition's log entry, which decides the commit. A committed
// transition therefore always has its record, even if its writer dies at
// once. An attempt that loses (another writer took the version) deletes its
// own record; one whose writer died before its commit leaves a record for a
// change that never happened, which is harmless: relaying is idempotent and
// derived from the ticket's committed state.
//
// Records are never updated, only inserted and deleted — on FerretDB, where
// updates of one document are not atomic, nothing here can be lost to a
// race. A ticket's records read as one handoff: the latest version and
// owner, the smallest From.
const colHandoffs = "handoffs"

type handoffDoc struct {
	ID      string    `bson:"_id"`
	Ticket  string    `bson:"ticket"`
	Version int64     `bson:"version"`
	From    int       `bson:"from"`
	Owner   string    `bson:"owner"`
	At      time.Time `bson:"at"`
}

// recordHandoff inserts the handoff record of an attempt to commit ticket
// at version, and returns its id (for dropHandoff when the attempt loses).
func (s *Tickets) recordHandoff(ctx context.Context, ticket string, version int64, from int, at time.Time) (string, error) {
	d := handoffDoc{ID: NewID(), Ticket: ticket, Version: version, From: from, Owner: s.owner, At: at.UTC()}
	if _, err := s.handoffs.InsertOne(ctx, d); err != nil {
		return "", fmt.Errorf("record handoff: %w", translate(err))
	}
	return d.ID, nil
}

// dropHandoff deletes the record of an attempt that did not commit. Best
// effort: a record left behind is relayed harmlessly.
func (s *Tickets) dropHandoff(ctx context.Context, id string) {
	_, _ = s.handoffs.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": id})
}

// Unrelayed lists up to limit handoffs, oldest first: one per ticket, with
// the latest version and owner of its records and the smallest From. A
// ticket whose latest transition is committed but not yet written to the
// ticket (its writer died in between) is rolled forward first, so that
// whoever relays it reads the committed state. Errors: unavailable.
func (s *Tickets) Unrelayed(ctx context.Context, limit int) ([]model.Handoff, error) {
	if limit <= 0 {
		return nil, nil
	}
	var docs []handoffDoc
	cur, err := s.handoffs.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(4*limit)).SetHint(ixHandoffsAt))
	if err == nil {
		err = cur.All(ctx, &docs)
	}
	if err != nil {
		return nil, fmt.Errorf("unrelayed handoffs: %w", translate(err))
	}
	var out []model.Handoff
	index := map[string]int{}
	for _, d := range docs {
		i, ok := index[d.Ticket]
		if !ok {
			if len(out) == limit {
				continue
			}
			index[d.Ticket] = len(out)
			out = append(out, model.Handoff{TicketID: d.Ticket, Version: d.Version, From: d.From, Owner: d.Owner, At: d.At})
			continue
		}
		h := &out[i]
		if d.Version >= h.Version {
			h.Version, h.Owner, h.At = d.Version, d.Owner, d.At
		}
		h.From = min(h.From, d.From)
	}
	slices.SortStableFunc(out, func(a, b model.Handoff) int { return a.At.Compare(b.At) })
	for _, h := range out {
		if err := s.rollForwardTo(ctx, h.TicketID, h.Version); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Relayed clears a ticket's handoff records made at version or before; a
// record of a later commit stays. Errors: unavailable.
func (s *Tickets) Relayed(ctx context.Context, ticketID string, version int64) error {
	_, err := s.handoffs.DeleteMany(ctx, bson.M{"ticket": ticketID, "version": bson.M{"$lte": version}})
	if err != nil {
		return fmt.Errorf("handoff relayed: %w", translate(err))
	}
	return nil
}

// rollForwardTo applies the committed log entries of a ticket up to
// version that its document does not have yet (a writer died between its
// commit and writing the ticket). An entry that does not exist ends it: no
// such commit happened.
func (s *Tickets) rollForwardTo(ctx context.Context, id string, version int64) error {
	var cur struct {
		Version int64 `bson:"version"`
	}
	err := s.c.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(bson.M{"version": 1})).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil // an intake that never happened
	}
	if err != nil {
		return fmt.Errorf("roll forward ticket: %w", translate(err))
	}
	for v := cur.Version + 1; v <= version; v++ {
		var e logDoc
		err := s.log.FindOne(ctx, bson.M{"_id": logID(id, v)}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("roll forward ticket: %w", translate(err))
		}
		if err := s.apply(ctx, &e); err != nil {
			return err
		}
	}
	return nil
}
