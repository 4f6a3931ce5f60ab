package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/redis"
)

const (
	colStatsPending = "stats_pending"
	colStatsSeq     = "stats_seq"
	// pendingOrphanAge is how long a pending mark may point at a log entry
	// that does not exist (its writer died between the mark and the
	// commit) before it is dropped. A commit takes seconds at most.
	pendingOrphanAge = time.Hour
)

// StatsCursor tells the statistics applier which ticket transition to
// count next without scanning ticket_log, which on FerretDB means reading
// and decoding every entry ever written (only a filter of exactly {_id} is
// pushed down to SQLite):
//
//   - stats_pending holds one mark {_id: <log id>, at} per transition not
//     yet counted. MarkPending writes it just before the transition's log
//     entry is inserted, so no committed entry lacks one; the applier drops
//     it once the entry is counted. It stays small — what the applier has
//     not caught up with — so reading all of it is cheap anywhere.
//   - stats_seq maps the applier's sequence numbers to log entries
//     ({_id: "<seq>", log: <log id>}, a unique insert), so "the entry
//     numbered applied+1" — one whose counting was cut short, or a replay —
//     is an _id lookup.
//
// Everything else is read by _id. Until Tickets marks its transitions
// (marked false), new entries are found by the old scan of ticket_log.
type StatsCursor struct {
	log     *mongo.Collection
	pending *mongo.Collection
	seqs    *mongo.Collection
	state   *mongo.Collection
	marked  bool
	now     func() time.Time
	// repaired is set once the one-time mark of entries written before
	// marking began is known to be done.
	repaired atomic.Bool

	mu    sync.Mutex
	queue []pendingDoc // the marks of the last read of stats_pending not yet worked through
	// lastFull is the entry PendingEntry last returned, read whole.
	lastFull *logDoc
	// inPass and passRead: within a pass (BeginPass … EndPass) the marks
	// are read at most once; what is marked after that read wakes the
	// applier for the next pass.
	inPass, passRead bool
	// done are the marks of entries counted in this pass, dropped at
	// FlushDone.
	done []string
	// early is set when the last pass skipped a mark whose entry was not
	// there yet (its commit on its way).
	early atomic.Bool
	// signals, when set, wakes the applier at every mark.
	signals *redis.Signals
	// numbered remembers, by ticket, the latest version this cursor saw
	// numbered: a fact that never becomes false, so first need not read
	// the entry before it again.
	numberedMu sync.Mutex
	numbered   map[string]int64
}

// numberedMax bounds the memory of numbered versions.
const numberedMax = 20_000

func (c *StatsCursor) sawNumbered(ticket string, version int64) {
	c.numberedMu.Lock()
	defer c.numberedMu.Unlock()
	if c.numbered == nil || len(c.numbered) >= numberedMax {
		c.numbered = map[string]int64{}
	}
	if version > c.numbered[ticket] {
		c.numbered[ticket] = version
	}
}

func (c *StatsCursor) knownNumbered(ticket string, version int64) bool {
	c.numberedMu.Lock()
	defer c.numberedMu.Unlock()
	return c.numbered[ticket] >= version
}

// StatsSignal is the signal (Signals) a mark sends the applier.
const StatsSignal = "stats"

// WakeOnMark makes every mark wake the statistics applier, wherever it
// runs, through s: the applier waits for marks instead of polling.
func (c *StatsCursor) WakeOnMark(s *redis.Signals) { c.signals = s }

// BeginPass starts one pass of the applier: until EndPass, stats_pending
// is read at most once, and PendingEntry returns nil once the marks of
// that read are worked through. Every mark wakes the applier (WakeOnMark)
// after it is written, and the applier takes the wake-up before its pass,
// so a mark written after the pass's read is taken up by the next pass.
func (c *StatsCursor) BeginPass() {
	c.mu.Lock()
	c.inPass, c.passRead, c.done = true, false, nil
	c.mu.Unlock()
}

// EndPass ends the pass BeginPass began.
func (c *StatsCursor) EndPass() {
	c.mu.Lock()
	c.inPass, c.passRead, c.done = false, false, nil
	c.mu.Unlock()
}

// Early reports whether the last look skipped a mark whose log entry was
// not written yet: its commit is on its way, so look again shortly.
func (c *StatsCursor) Early() bool { return c.early.Load() }

// NewStatsCursor returns the cursor over m's ticket log. marked says that
// every transition is marked (Tickets calls MarkPending before each log
// insert); otherwise the cursor scans ticket_log for new entries.
func NewStatsCursor(m *Mongo, marked bool, now func() time.Time) *StatsCursor {
	return &StatsCursor{log: m.db.Collection(colTicketLog), pending: m.db.Collection(colStatsPending),
		seqs: m.db.Collection(colStatsSeq), state: m.db.Collection(colStatsState), marked: marked, now: now}
}

type pendingDoc struct {
	ID string    `bson:"_id"` // the log entry's
	At time.Time `bson:"at"`
}

type seqDoc struct {
	ID  string `bson:"_id"` // the sequence number, in decimal: FerretDB pushes down only string and ObjectID _ids
	Log string `bson:"log"`
}

// MarkPending records that a ticket's transition to version is about to
// be committed. Call it just before inserting the log entry: an entry
// whose insert loses (another writer took that version) is marked by the
// winner too, and a mark whose entry never appears is dropped after an
// hour.
func (c *StatsCursor) MarkPending(ctx context.Context, ticketID string, version int64, at time.Time) error {
	if err := c.mark(ctx, logID(ticketID, version), at); err != nil {
		return err
	}
	if c.signals != nil {
		// Best effort: a lost wake-up is made good by the applier's own
		// rare look.
		_ = c.signals.Notify(ctx, StatsSignal)
	}
	return nil
}

func (c *StatsCursor) mark(ctx context.Context, id string, at time.Time) error {
	_, err := c.pending.InsertOne(ctx, pendingDoc{ID: id, At: at.UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mark transition for the statistics: %w", translate(err))
	}
	return nil
}

// PendingEntry returns the next transition the statistics applier must
// count: the one it numbered applied+1 if any (its counting was cut short,
// or it is being replayed), else the oldest one not yet numbered — taking
// a ticket's transitions in version order. It returns nil when there is
// none.
//
// resume false says the caller knows that no entry is numbered applied+1
// (it numbered and counted every entry up to applied itself, holding the
// applier's lease throughout), which spares a lookup.
func (c *StatsCursor) PendingEntry(ctx context.Context, applied int64, resume bool) (*model.LogEntry, error) {
	if err := c.repair(ctx, applied); err != nil {
		return nil, err
	}
	var sd seqDoc
	err := mongo.ErrNoDocuments
	if resume {
		err = c.seqs.FindOne(ctx, bson.M{"_id": strconv.FormatInt(applied+1, 10)}).Decode(&sd)
	}
	switch {
	case err == nil:
		d, err := c.entry(ctx, sd.Log)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, fmt.Errorf("pending log entry: %s, numbered %d, is missing", sd.Log, applied+1)
		}
		return &model.LogEntry{ID: d.ID, Ticket: d.Ticket, Version: d.Version, Seq: applied + 1}, nil
	case !errors.Is(err, mongo.ErrNoDocuments):
		return nil, fmt.Errorf("pending log entry: %w", translate(err))
	}
	if !c.marked {
		return c.scanLog(ctx)
	}
	return c.oldestMarked(ctx)
}

// oldestMarked returns the oldest marked entry not yet counted, dropping
// the marks of entries already counted and of orphans. It works through
// the marks of one read of stats_pending before reading it again, so a
// backlog costs one read of it, not one per transition.
func (c *StatsCursor) oldestMarked(ctx context.Context) (*model.LogEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.early.Store(false)
	for read := c.inPass && c.passRead; ; {
		if len(c.queue) == 0 {
			if read {
				return nil, nil
			}
			if err := c.readMarks(ctx); err != nil {
				return nil, err
			}
			read, c.passRead = true, c.inPass
			continue
		}
		m := c.queue[0]
		d, err := c.entryWith(ctx, m.ID, true)
		if err != nil {
			return nil, err
		}
		switch {
		case d == nil && c.now().Sub(m.At) < pendingOrphanAge:
			c.queue = c.queue[1:] // its commit may still be on its way: the next read sees it
			if c.now().Sub(m.At) < time.Minute {
				c.early.Store(true)
			}
		case d == nil || d.Seq != 0: // an orphan, or counted before its mark was dropped
			if _, err := c.pending.DeleteOne(ctx, bson.M{"_id": m.ID}); err != nil {
				return nil, fmt.Errorf("unmark log entry: %w", translate(err))
			}
			c.queue = c.queue[1:]
		default:
			e, err := c.first(ctx, d) // stays first until DoneEntry
			if err == nil && e.ID == d.ID {
				c.lastFull = d // its state, for StateAfter
			}
			return e, err
		}
	}
}

// StateAfter is the ticket as entry e left it, composed from the log
// entry PendingEntry just read whole and before, the ticket at the
// version before e (for the fields no transition changes) — no read. It
// is nil when PendingEntry did not read e whole (then read the state).
func (c *StatsCursor) StateAfter(e *model.LogEntry, before *model.Ticket) *model.Ticket {
	c.mu.Lock()
	d := c.lastFull
	c.mu.Unlock()
	if d == nil || before == nil || d.ID != e.ID || before.ID != e.Ticket || before.Version != e.Version-1 {
		return nil
	}
	doc := newTicketDoc(before, "", "")
	doc.Fields, doc.Version = d.Fields, d.Version
	return doc.model()
}

func (c *StatsCursor) readMarks(ctx context.Context) error {
	cur, err := c.pending.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("pending log entries: %w", translate(err))
	}
	c.queue = c.queue[:0]
	if err := cur.All(ctx, &c.queue); err != nil {
		return fmt.Errorf("pending log entries: %w", translate(err))
	}
	return nil
}

// scanLog finds the oldest entry not yet numbered by a query on ticket_log
// (a scan on FerretDB): the way until transitions are marked.
func (c *StatsCursor) scanLog(ctx context.Context) (*model.LogEntry, error) {
	var d logDoc
	err := c.log.FindOne(ctx, bson.M{"seq": 0},
		options.FindOne().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.M{"fields": 0})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending log entry: %w", translate(err))
	}
	return c.first(ctx, &d)
}

// first returns the earliest version of d's ticket not yet numbered, d or
// before it, by _id lookups.
func (c *StatsCursor) first(ctx context.Context, d *logDoc) (*model.LogEntry, error) {
	for d.Version > 1 && !c.knownNumbered(d.Ticket, d.Version-1) {
		prev, err := c.entry(ctx, logID(d.Ticket, d.Version-1))
		if err != nil {
			return nil, err
		}
		if prev == nil || prev.Seq != 0 {
			break
		}
		d = prev
	}
	return &model.LogEntry{ID: d.ID, Ticket: d.Ticket, Version: d.Version}, nil
}

// splitLogID is the inverse of logID.
func splitLogID(id string) (ticket string, version int64, ok bool) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return "", 0, false
	}
	v, err := strconv.ParseInt(id[i+1:], 10, 64)
	return id[:i], v, err == nil
}

// entry reads a log entry by _id without its fields; nil if there is none.
func (c *StatsCursor) entry(ctx context.Context, id string) (*logDoc, error) {
	return c.entryWith(ctx, id, false)
}

// entryWith reads a log entry by _id, with its fields or without; nil if
// there is none.
func (c *StatsCursor) entryWith(ctx context.Context, id string, fields bool) (*logDoc, error) {
	var d logDoc
	opts := options.FindOne()
	if !fields {
		opts.SetProjection(bson.M{"fields": 0})
	}
	err := c.log.FindOne(ctx, bson.M{"_id": id}, opts).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("log entry: %w", translate(err))
	}
	if d.Seq != 0 {
		c.sawNumbered(d.Ticket, d.Version)
	}
	return &d, nil
}

// NumberEntry gives a log entry the applier's sequence number seq. A seq
// already given to another entry is a conflict (another applier numbered
// it: this one lost the lease).
func (c *StatsCursor) NumberEntry(ctx context.Context, id string, seq int64) error {
	_, err := c.seqs.InsertOne(ctx, seqDoc{ID: strconv.FormatInt(seq, 10), Log: id})
	if mongo.IsDuplicateKeyError(err) {
		var sd seqDoc
		if err := c.seqs.FindOne(ctx, bson.M{"_id": strconv.FormatInt(seq, 10)}).Decode(&sd); err != nil {
			return fmt.Errorf("number log entry: %w", translate(err))
		}
		if sd.Log != id {
			return model.Errorf(model.CodeConflict, "统计事件 %d 属于 %s，不是 %s", seq, sd.Log, id)
		}
	} else if err != nil {
		return fmt.Errorf("number log entry: %w", translate(err))
	}
	if _, err := c.log.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"seq": seq}}); err != nil {
		return fmt.Errorf("number log entry: %w", translate(err))
	}
	if ticket, v, ok := splitLogID(id); ok {
		c.sawNumbered(ticket, v)
	}
	return nil
}

// DoneEntry drops a counted entry's mark — within a pass (BeginPass) at
// FlushDone, with the marks of the pass's other counted entries.
func (c *StatsCursor) DoneEntry(ctx context.Context, id string) error {
	if !c.marked {
		return nil
	}
	c.mu.Lock()
	if len(c.queue) > 0 && c.queue[0].ID == id {
		c.queue = c.queue[1:]
	}
	if c.inPass {
		c.done = append(c.done, id)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if _, err := c.pending.DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return fmt.Errorf("unmark log entry: %w", translate(err))
	}
	return nil
}

// FlushDone drops the marks DoneEntry kept back in this pass, in one
// delete. A mark left behind (a crash before it) is on a numbered entry,
// and the next look drops it.
func (c *StatsCursor) FlushDone(ctx context.Context) error {
	c.mu.Lock()
	ids := c.done
	c.done = nil
	c.mu.Unlock()
	var err error
	switch len(ids) {
	case 0:
		return nil
	case 1:
		_, err = c.pending.DeleteOne(ctx, bson.M{"_id": ids[0]})
	default:
		_, err = c.pending.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
	}
	if err != nil {
		return fmt.Errorf("unmark log entries: %w", translate(err))
	}
	return nil
}

// repair brings, once per database, what was written before this cursor
// to its form, in one scan of ticket_log — the last one:
//   - the entries numbered beyond applied (the one whose counting was cut
//     short) get their stats_seq, and
//   - once transitions are marked, the entries not yet numbered get their
//     marks. Upgrade with every instance marking: an entry committed by an
//     instance that does not mark, after this ran, is never counted.
func (c *StatsCursor) repair(ctx context.Context, applied int64) error {
	if c.repaired.Load() {
		return nil
	}
	var done struct {
		Seqs  bool `bson:"seqs"`
		Marks bool `bson:"marks"`
	}
	err := c.state.FindOne(ctx, bson.M{"_id": "cursor"}).Decode(&done)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("stats cursor: %w", translate(err))
	}
	seqs, marks := !done.Seqs, c.marked && !done.Marks
	if seqs || marks {
		if err := c.repairScan(ctx, applied, seqs, marks); err != nil {
			return fmt.Errorf("stats cursor repair: %w", err)
		}
		_, err = c.state.UpdateOne(ctx, bson.M{"_id": "cursor"},
			bson.M{"$set": bson.M{"seqs": true, "marks": done.Marks || marks, "at": c.now().UTC()}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("stats cursor repair: %w", translate(err))
		}
	}
	c.repaired.Store(true)
	return nil
}

func (c *StatsCursor) repairScan(ctx context.Context, applied int64, seqs, marks bool) error {
	cur, err := c.log.Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"fields": 0}))
	if err != nil {
		return translate(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d logDoc
		if err := cur.Decode(&d); err != nil {
			return err
		}
		switch {
		case marks && d.Seq == 0:
			err = c.mark(ctx, d.ID, d.At)
		case seqs && d.Seq > applied:
			_, err = c.seqs.InsertOne(ctx, seqDoc{ID: strconv.FormatInt(d.Seq, 10), Log: d.ID})
			if mongo.IsDuplicateKeyError(err) {
				err = nil
			}
		}
		if err != nil {
			return translate(err)
		}
	}
	return translate(cur.Err())
}
