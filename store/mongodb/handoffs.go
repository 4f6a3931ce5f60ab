package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

// The handoffs: what a committed ticket change hands to Redis after the
// commit (docs/consistency.md, "Handoffs").
//
// MongoDB cannot write the ticket's change and a second document atomically
// without a transaction (and FerretDB has none), so each attempt to commit
// version v sends its handoff record together with its log entry, in one
// unordered insert into the log: {_id: "<ticket>/<v>/h", ticket, version,
// from, owner, handoff: <time>}. The record is written whether or not the
// entry wins, so a committed transition always has it, even if its writer
// dies at once; one attempt's record serves every attempt at that version
// (their From is the same: the timeline of version v-1). A record whose
// version was never committed (its writer died before the insert reached
// the entry) is harmless: relaying is idempotent and derived from the
// ticket's committed state. The intake's record, "<ticket>/0/h", is
// inserted before the ticket.
//
// Records are only inserted and deleted, never updated: on FerretDB, where
// updates of one document are not atomic, none can be lost to a race. A
// ticket's records read as one handoff: the latest version and owner, the
// smallest From.

type handoffDoc struct {
	ID      string    `bson:"_id"`
	Ticket  string    `bson:"ticket"`
	Version int64     `bson:"version"`
	From    int       `bson:"from"`
	Owner   string    `bson:"owner"`
	At      time.Time `bson:"handoff"` // sparse-indexed: only records have it
}

// handoffID names the record of a ticket's version.
func handoffID(ticket string, version int64) string {
	return ticket + "/" + strconv.FormatInt(version, 10) + "/h"
}

// handoff is the record of an attempt to commit ticket at version.
func (s *Tickets) handoff(ticket string, version int64, from int, at time.Time) handoffDoc {
	return handoffDoc{ID: handoffID(ticket, version), Ticket: ticket, Version: version, From: from, Owner: s.owner, At: at.UTC()}
}

// dropHandoff deletes the record of a version that will not be committed.
// Best effort: a record left behind is relayed harmlessly.
func (s *Tickets) dropHandoff(ctx context.Context, ticket string, version int64) {
	_, _ = s.log.DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": handoffID(ticket, version)})
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
	cur, err := s.log.Find(ctx, bson.M{"handoff": bson.M{"$exists": true}}, options.Find().
		SetSort(bson.D{{Key: "handoff", Value: 1}}).SetLimit(int64(4*limit)).SetHint(ixLogHandoff))
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
// record of a later commit stays. On MongoDB one delete of their _ids; on
// FerretDB, which looks up only a single _id without reading the whole log,
// one delete each. Versions this instance has cleared already are not
// asked for again. Errors: unavailable.
func (s *Tickets) Relayed(ctx context.Context, ticketID string, version int64) error {
	from := s.relayedBelow(ticketID)
	ids := make([]string, 0, version+1)
	for v := version; v >= from; v-- {
		ids = append(ids, handoffID(ticketID, v))
	}
	if err := s.deleteHandoffs(ctx, ids); err != nil {
		return err
	}
	s.relayedUpTo(ticketID, version)
	return nil
}

// relayedBelow is the first version of a ticket whose record this instance
// has not cleared (0 if it knows of none).
func (s *Tickets) relayedBelow(ticket string) int64 {
	s.relayedMu.Lock()
	defer s.relayedMu.Unlock()
	if v, ok := s.relayed[ticket]; ok {
		return v + 1
	}
	return 0
}

// relayedUpTo remembers that the ticket's records up to version are
// cleared. The memory is bounded; forgetting only costs a longer delete.
func (s *Tickets) relayedUpTo(ticket string, version int64) {
	s.relayedMu.Lock()
	defer s.relayedMu.Unlock()
	if s.relayed == nil || len(s.relayed) >= relayedMax {
		s.relayed = map[string]int64{}
	}
	if v, ok := s.relayed[ticket]; !ok || version > v {
		s.relayed[ticket] = version
	}
}

// relayedMax bounds the memory of cleared records.
const relayedMax = 50_000

// deleteHandoffs deletes records by _id.
func (s *Tickets) deleteHandoffs(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if !s.m.ferret {
		if _, err := s.log.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}}); err != nil {
			return fmt.Errorf("handoff relayed: %w", translate(err))
		}
		return nil
	}
	for _, id := range ids {
		if _, err := s.log.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
			return fmt.Errorf("handoff relayed: %w", translate(err))
		}
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
