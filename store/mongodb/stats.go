package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/redis"
)

// Stats keeps the statistics of the MongoDB store: every committed
// transition's delta (in its log entry, see Tickets.Commit) added to the
// roll-ups exactly once, by one applier at a time; and the reads of them
// (docs/statistics.md).
//
// The applier works in batches. A batch is the log entries still pending
// (oldest first, from a sparse index), numbered by the insert of its
// record — {_id: "batch|<number>", entries}, in the roll-ups' collection,
// so that it goes in the same ordered bulk write as the roll-ups, first —
// whose unique _id lets only one applier use a number. It adds the sum of
// their deltas to the roll-up documents whose watermark is below the
// number, and then clears the entries' pending mark. A crash anywhere in between leaves the
// batch's record with entries still pending: the next holder of the lease
// finishes that batch first (the documents it already wrote are skipped by
// their watermarks, the rest written, the marks cleared). So each entry is
// counted once.
type Stats struct {
	log     *mongo.Collection
	tickets *mongo.Collection
	batches *mongo.Collection
	rollups *Rollups
	lease   Lease
	wakeups Wakeups
	// look is how often the applier looks without a wake-up.
	look   time.Duration
	owner  string
	now    func() time.Time
	logger *slog.Logger

	local   chan struct{} // commits of this instance, without Wakeups
	running atomic.Bool   // Run is counting

	// mu makes one pass at a time. While this instance holds the lease
	// without a break (holding), last is the number of the last batch,
	// all of it written; -1 when unknown.
	mu      sync.Mutex
	holding bool
	last    int64
}

// Lease is the applier's lease: one applier counts at a time (store/redis
// Locks).
type Lease interface {
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (ok bool, holder string, err error)
	Renew(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, key, owner string) error
}

// Wakeups carry "a transition was committed" to every instance's applier
// (store/redis Signals).
type Wakeups interface {
	Notify(ctx context.Context, name string) error
	C(name string) <-chan struct{}
}

// StatsDeps are what Stats works with.
type StatsDeps struct {
	// Tickets is the ticket store whose commits wake the applier.
	Tickets *Tickets
	Lease   Lease
	// Wakeups, when set, wake the applier wherever it runs; without them
	// only this instance's commits wake it (besides its own look every
	// few minutes).
	Wakeups Wakeups
	// Cache holds the roll-ups' read cache generations; nil: every read
	// goes to MongoDB.
	Cache *redis.Redis
	// Owner names this instance in the lease.
	Owner string
	// Look is how often the applier looks without a wake-up
	// (STATS_LOOK_EVERY; 5 minutes when zero).
	Look   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// NewStats returns the statistics of m and makes d.Tickets's commits wake
// its applier.
func NewStats(m *Mongo, d StatsDeps) *Stats {
	s := &Stats{log: m.db.Collection(colTicketLog), tickets: m.db.Collection(colTickets), batches: m.db.Collection(colRollups),
		rollups: NewRollups(m, d.Cache), lease: d.Lease, wakeups: d.Wakeups, owner: d.Owner, now: d.Now, logger: d.Logger,
		local: make(chan struct{}, 1), last: -1, look: d.Look}
	if s.look <= 0 {
		s.look = statsLookEvery
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if d.Tickets != nil {
		d.Tickets.committed = s.committed
	}
	return s
}

const (
	// StatsSignal is the wake-up (Wakeups) a commit sends the applier.
	StatsSignal     = "stats"
	applierLease    = "stats-applier"
	applierLeaseTTL = 30 * time.Second
	// applierIdleTTL is how long the lease stays with an instance after
	// its pass: the next pass, if it comes sooner, renews it and knows the
	// last batch; otherwise another instance may take it.
	applierIdleTTL = 5 * time.Second
	// batchMax bounds the entries of one batch.
	batchMax = 200
	// statsLookEvery is how often the applier looks without a wake-up
	// (one lost with a Redis connection).
	statsLookEvery = 5 * time.Minute
	// statsGather is how long a wake-up waits for a burst of commits.
	statsGather = 300 * time.Millisecond
)

// batchDoc is a batch's record.
type batchDoc struct {
	ID      string    `bson:"_id"` // Seq, zero-padded: _id order is number order
	Seq     int64     `bson:"seq"`
	Entries []string  `bson:"entries"`
	At      time.Time `bson:"at"`
	// Rebuild marks the rebuild's record: Entries are the pending entries
	// its figures include, Replaced says its roll-ups are all written.
	Rebuild  bool `bson:"rebuild,omitempty"`
	Replaced bool `bson:"replaced,omitempty"`
}

func batchID(seq int64) string { return fmt.Sprintf("%s%020d", batchPrefix, seq) }

// batchPrefix starts the _id of every batch record ("batch|" sorts before
// no period bucket: those start with d, m or y).
const batchPrefix = "batch|"

// batchRange selects the batch records among the roll-ups.
var batchRange = bson.M{"_id": bson.M{"$gte": batchPrefix, "$lt": "batch}"}}

// pendingDoc is a log entry as the applier reads it.
type pendingDoc struct {
	ID      string `bson:"_id"`
	Ticket  string `bson:"ticket"`
	Version int64  `bson:"version"`
	Delta   []byte `bson:"delta"`
}

var errLeaseLost = model.Errorf(model.CodeConflict, "统计任务的租约已失效，另一实例正在统计")

// committed wakes the applier after a commit: this instance's at once and
// the others' through Wakeups. Best effort: a lost wake-up is made good by
// the applier's own look.
func (s *Stats) committed(ctx context.Context) {
	if s.wakeups != nil {
		_ = s.wakeups.Notify(ctx, StatsSignal)
		return
	}
	select {
	case s.local <- struct{}{}:
	default:
	}
}

// Run counts what is committed until ctx ends: at once, then whenever a
// commit wakes it (after statsGather, to take a burst together), and by
// itself every statsLookEvery. It gives up the lease when it returns, so
// that another instance takes over at its next wake-up.
func (s *Stats) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	defer s.stop()
	var remote <-chan struct{}
	if s.wakeups != nil {
		remote = s.wakeups.C(StatsSignal)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.local:
			gather(ctx)
		case <-remote:
			gather(ctx)
		}
		// Taken before the pass: a commit after its look wakes the next.
		select {
		case <-s.local:
		default:
		}
		select {
		case <-remote:
		default:
		}
		again := s.look
		start := time.Now()
		n, err := s.pass(ctx, 4*time.Second)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.WarnContext(ctx, "statistics: pass failed; trying again", "error", err.Error(), "counted", n)
			again = 5 * time.Second
		case time.Since(start) >= 4*time.Second:
			again = 0 // more to count
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(again)
	}
}

func gather(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(statsGather):
	}
}

// stop gives the lease up (if this instance holds it).
func (s *Stats) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding {
		s.drop(context.Background())
	}
}

// drop gives the lease up; the caller holds mu.
func (s *Stats) drop(ctx context.Context) {
	s.holding = false
	_ = s.lease.Release(context.WithoutCancel(ctx), applierLease, s.owner)
}

// take renews the lease this instance kept from its last pass, or takes it
// afresh — forgetting the last batch, since another instance may have
// counted in between; false if another instance holds it. The caller holds
// mu.
func (s *Stats) take(ctx context.Context) (bool, error) {
	if s.holding {
		if ok, err := s.lease.Renew(ctx, applierLease, s.owner, applierLeaseTTL); err == nil && ok {
			return true, nil
		}
	}
	s.holding, s.last = false, -1
	ok, _, err := s.lease.Acquire(ctx, applierLease, s.owner, applierLeaseTTL)
	if err != nil || !ok {
		return false, err
	}
	s.holding = true
	return true, nil
}

// hold renews the lease every third of its time to live until stop is
// called. If another instance holds it by then, the returned context is
// cancelled (cause errLeaseLost): any write still to come fails rather
// than race the new holder.
func (s *Stats) hold(ctx context.Context) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(applierLeaseTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// An error (Redis unreachable) is retried at the next tick.
				if ok, err := s.lease.Renew(ctx, applierLease, s.owner, applierLeaseTTL); err == nil && !ok {
					cancel(errLeaseLost)
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		<-finished
		cancel(nil)
	}
}

// leaseErr is err, or errLeaseLost if that is why ctx ended.
func leaseErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errLeaseLost) {
		return errLeaseLost
	}
	return err
}

// pass counts the pending entries, batch by batch, for up to budget, if
// this instance holds (or gets) the lease; it returns how many it counted.
// It keeps the lease for applierIdleTTL afterwards while Run is counting,
// and gives it up otherwise.
func (s *Stats) pass(ctx context.Context, budget time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok, err := s.take(ctx)
	if err != nil || !ok {
		return 0, err
	}
	hctx, stop := s.hold(ctx)
	n, err := s.count(hctx, budget)
	err = leaseErr(hctx, err)
	lost := hctx.Err() != nil // before stop, which ends hctx
	stop()
	if err != nil || lost || !s.running.Load() {
		// A failed pass records nothing more: the next holder finishes
		// its batch.
		s.drop(ctx)
		return n, err
	}
	// Kept for the next pass, briefly: should this instance stop counting
	// (or die), another takes over within applierIdleTTL.
	if ok, err := s.lease.Renew(ctx, applierLease, s.owner, applierIdleTTL); err != nil || !ok {
		s.holding = false
	}
	return n, nil
}

// count is the work of a pass, holding the lease.
func (s *Stats) count(ctx context.Context, budget time.Duration) (int, error) {
	start := time.Now()
	var cutShort *batchDoc
	if s.last < 0 {
		b, err := s.lastBatch(ctx)
		if err != nil {
			return 0, err
		}
		s.last, cutShort = 0, b
		switch {
		case b != nil:
			s.last = b.Seq
		default:
			// No batch yet: a new database, or one the applier before
			// batches counted — whose numbers the roll-ups' watermarks
			// carry, so the first batch follows the last of them.
			if s.last, err = s.legacyApplied(ctx); err != nil {
				return 0, err
			}
			if s.last == 0 {
				if err := s.rollups.c.FindOne(ctx, bson.M{}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err(); errors.Is(err, mongo.ErrNoDocuments) {
					s.rollups.knowEmpty() // nothing was ever counted here
				}
			}
		}
	}
	n := 0
	for time.Since(start) < budget {
		pending, err := s.pending(ctx, batchMax)
		if err != nil {
			return n, err
		}
		if cutShort != nil {
			// Taken over: is the last batch cut short (its entries still
			// pending)? Then it is finished first.
			finished, err := s.finishIfCutShort(ctx, cutShort, pending)
			if err != nil {
				return n, err
			}
			cutShort = nil
			if finished {
				continue // what is pending now
			}
		}
		if len(pending) == 0 {
			return n, nil
		}
		if err := s.countBatch(ctx, s.last+1, pending); err != nil {
			return n, err
		}
		n += len(pending)
		if len(pending) < batchMax {
			return n, nil
		}
	}
	return n, nil
}

// legacyApplied is the last event the applier before batches counted
// (its stats_state document), 0 if there is none.
func (s *Stats) legacyApplied(ctx context.Context) (int64, error) {
	var d struct {
		Applied int64 `bson:"applied"`
	}
	err := s.log.Database().Collection("stats_state").FindOne(ctx, bson.M{"_id": "applier"}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("statistics: %w", translate(err))
	}
	return d.Applied, nil
}

// pending reads up to limit pending entries, oldest first.
func (s *Stats) pending(ctx context.Context, limit int) ([]pendingDoc, error) {
	var out []pendingDoc
	cur, err := s.log.Find(ctx, bson.M{"pending": bson.M{"$exists": true}}, options.Find().
		SetSort(bson.D{{Key: "pending", Value: 1}}).SetLimit(int64(limit)).SetHint(ixLogPending).
		SetProjection(bson.M{"ticket": 1, "version": 1, "delta": 1}))
	if err == nil {
		err = cur.All(ctx, &out)
	}
	if err != nil {
		return nil, fmt.Errorf("pending transitions: %w", translate(err))
	}
	return out, nil
}

// lastBatch reads the record of the last batch; nil if none.
func (s *Stats) lastBatch(ctx context.Context) (*batchDoc, error) {
	var b batchDoc
	err := s.batches.FindOne(ctx, batchRange, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("statistics batch: %w", translate(err))
	}
	return &b, nil
}

// countBatch numbers the entries as batch seq, adds their deltas to the
// roll-ups and clears their pending marks.
func (s *Stats) countBatch(ctx context.Context, seq int64, entries []pendingDoc) error {
	at := s.now().UTC()
	b := batchDoc{ID: batchID(seq), Seq: seq, At: at, Entries: make([]string, len(entries))}
	for i, e := range entries {
		b.Entries[i] = e.ID
	}
	if err := s.write(ctx, &b, entries, true); err != nil {
		return err
	}
	s.last = seq
	if seq%100 == 0 {
		// Only the last record is ever read again (and one before it, to
		// be safe); the older ones go, a hundred at a time.
		_, _ = s.batches.DeleteMany(ctx, bson.M{"_id": bson.M{"$gte": batchPrefix, "$lt": batchID(seq - 1)}})
	}
	return nil
}

// write adds the entries' deltas to the roll-ups as batch b — inserting
// b's record first, in the same bulk write, when record is set — and
// clears their pending marks.
func (s *Stats) write(ctx context.Context, b *batchDoc, entries []pendingDoc, record bool) error {
	sum := model.Contribution{}
	for _, e := range entries {
		err := decodeDelta(e.Delta, func(r model.RollupRow) {
			sum.Add(model.Contribution{{Period: r.Period, Dim: r.Dim, Key: r.Key}: r.Values})
		})
		if err != nil {
			return fmt.Errorf("statistics delta of %s: %w", e.ID, err)
		}
	}
	var rec *batchDoc
	if record {
		rec = b
	}
	if err := s.rollups.Apply(ctx, b.Seq, b.At, sum.Rows(), rec); err != nil {
		if errors.Is(err, errBatchTaken) {
			return errLeaseLost // another applier numbered it: this one lost the lease
		}
		return err
	}
	return s.clear(ctx, b.Entries)
}

// clear drops the pending marks of entries.
func (s *Stats) clear(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if _, err := s.log.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": ids[:n]}}, bson.M{"$unset": bson.M{"pending": ""}}); err != nil {
			return fmt.Errorf("statistics: clear counted transitions: %w", translate(err))
		}
		ids = ids[n:]
	}
	return nil
}

// finishIfCutShort finishes batch b if some of its entries are still
// pending — among those just read, or else looked up — and says whether
// it did.
func (s *Stats) finishIfCutShort(ctx context.Context, b *batchDoc, pending []pendingDoc) (bool, error) {
	in := map[string]bool{}
	for _, id := range b.Entries {
		in[id] = true
	}
	cut := false
	for _, e := range pending {
		cut = cut || in[e.ID]
	}
	if !cut && len(pending) == batchMax {
		// The batch's entries may be pending beyond what was read.
		n, err := s.log.CountDocuments(ctx, bson.M{"_id": bson.M{"$in": b.Entries}, "pending": bson.M{"$exists": true}})
		if err != nil {
			return false, fmt.Errorf("statistics: batch %d: %w", b.Seq, translate(err))
		}
		cut = n > 0
	}
	if !cut {
		return false, nil
	}
	if b.Rebuild {
		if !b.Replaced {
			// The rebuild stopped before its figures were written: the
			// entries it included are counted as usual, on the figures
			// from before it.
			s.logger.ErrorContext(ctx, "statistics: a rebuild was interrupted; run `server rebuild-stats` again", "batch", b.Seq)
			return false, nil
		}
		return true, s.clear(ctx, b.Entries)
	}
	s.logger.WarnContext(ctx, "statistics: finishing a batch another run left half written", "batch", b.Seq, "entries", len(b.Entries))
	var entries []pendingDoc
	cur, err := s.log.Find(ctx, bson.M{"_id": bson.M{"$in": b.Entries}}, options.Find().SetProjection(bson.M{"ticket": 1, "version": 1, "delta": 1}))
	if err == nil {
		err = cur.All(ctx, &entries)
	}
	if err != nil {
		return false, fmt.Errorf("statistics: batch %d: %w", b.Seq, translate(err))
	}
	s.rollups.Forget() // some of its documents may be written already
	return true, s.write(ctx, b, entries, false)
}

// Settle returns once every transition committed before the call is
// counted: it counts them itself when it gets the lease, and otherwise
// waits for the holder. Errors: unavailable, and ctx's.
func (s *Stats) Settle(ctx context.Context) error {
	var last struct {
		Pending time.Time `bson:"pending"`
	}
	if err := s.log.FindOne(ctx, bson.M{"pending": bson.M{"$exists": true}}, options.FindOne().
		SetSort(bson.D{{Key: "pending", Value: -1}}).SetHint(ixLogPending).SetProjection(bson.M{"pending": 1})).Decode(&last); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		return fmt.Errorf("statistics: settle: %w", translate(err))
	}
	for {
		if _, err := s.pass(ctx, time.Minute); err != nil && !errors.Is(err, errLeaseLost) {
			return err
		}
		err := s.log.FindOne(ctx, bson.M{"pending": bson.M{"$lte": last.Pending}}, options.FindOne().
			SetHint(ixLogPending).SetProjection(bson.M{"_id": 1})).Err()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("statistics: settle: %w", translate(err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Read returns a row per bucket and key of dimension dim in the period
// buckets given, each bucket's rows in key order. The rows may be shared
// with other readers: read only. Errors: unavailable.
func (s *Stats) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	return s.rollups.Read(ctx, dim, periods)
}

// UpdatedAt is when a transition was last counted (zero if never): from
// Redis, else from the last batch's record. Errors: unavailable.
func (s *Stats) UpdatedAt(ctx context.Context) (time.Time, error) {
	if at, ok := s.rollups.updatedAt(ctx); ok {
		return at, nil
	}
	b, err := s.lastBatch(ctx)
	if err != nil || b == nil {
		return time.Time{}, err
	}
	s.rollups.keepUpdatedAt(ctx, b.At)
	return b.At, nil
}

// Rebuild recomputes every roll-up as the sum of model.Contribute over the
// tickets (each as its document stands, version 0 counting nothing), and
// returns how many tickets it read. It holds the applier's lease
// throughout (waiting for it while ctx allows), so nothing else counts
// meanwhile; the transitions committed while it reads are either in the
// figures (the ticket was read after them: their pending marks are
// cleared) or left pending for the applier. Errors: unavailable, and
// ctx's.
func (s *Stats) Rebuild(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		ok, err := s.take(ctx)
		if err != nil {
			return 0, err
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer s.drop(ctx)
	s.last = -1
	hctx, stop := s.hold(ctx)
	defer stop()
	n, err := s.rebuild(hctx)
	s.last = -1
	return n, leaseErr(hctx, err)
}

func (s *Stats) rebuild(ctx context.Context) (int, error) {
	// Count what is pending first, so that few entries are left to
	// reconcile with the tickets read.
	for {
		k, err := s.count(ctx, time.Minute)
		if err != nil {
			return 0, err
		}
		if k == 0 {
			break
		}
	}
	total := model.Contribution{}
	versions := map[string]int64{}
	n := 0
	cur, err := s.tickets.Find(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("rebuild statistics: %w", translate(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d ticketDoc
		if err := cur.Decode(&d); err != nil {
			return n, fmt.Errorf("rebuild statistics: %w", err)
		}
		n++
		versions[d.ID] = d.Version
		if d.Version > 0 {
			total.Add(model.Contribute(d.model()))
		}
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("rebuild statistics: %w", translate(err))
	}
	// The entries committed while the tickets were read: those of a
	// version the ticket was read at (or past) are in the figures.
	var left []pendingDoc
	c2, err := s.log.Find(ctx, bson.M{"pending": bson.M{"$exists": true}}, options.Find().SetHint(ixLogPending).
		SetProjection(bson.M{"ticket": 1, "version": 1}))
	if err == nil {
		err = c2.All(ctx, &left)
	}
	if err != nil {
		return n, fmt.Errorf("rebuild statistics: %w", translate(err))
	}
	b := batchDoc{Seq: s.last + 1, At: s.now().UTC(), Rebuild: true, Entries: []string{}}
	b.ID = batchID(b.Seq)
	for _, e := range left {
		if v, ok := versions[e.Ticket]; ok && e.Version <= v {
			b.Entries = append(b.Entries, e.ID)
		}
	}
	if _, err := s.batches.InsertOne(ctx, b); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return n, errLeaseLost
		}
		return n, fmt.Errorf("rebuild statistics: %w", translate(err))
	}
	if err := s.rollups.Replace(ctx, b.Seq, total.Rows()); err != nil {
		return n, err
	}
	if _, err := s.batches.UpdateOne(ctx, bson.M{"_id": b.ID}, bson.M{"$set": bson.M{"replaced": true}}); err != nil {
		return n, fmt.Errorf("rebuild statistics: %w", translate(err))
	}
	if err := s.clear(ctx, b.Entries); err != nil {
		return n, err
	}
	s.last = b.Seq
	return n, nil
}
