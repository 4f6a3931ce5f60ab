package mongodb

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
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
	colRollups    = "rollups"
	colStatsState = "stats_state"
)

// Rollups are the statistics' running counters: per period bucket ×
// dimension, one document (y2026|category|0), or eight for the
// dimensions with thousands of keys (y2026|grid|0 … y2026|grid|7, by a
// hash of the key), each holding its keys' counters packed in one binary
// value ({k: <binary>}, see rollupcodec.go). A summary reads a handful of
// documents by _id whatever the number of grids (FerretDB pushes only an
// _id equality down to SQLite), and one packed value is cheap to move and
// decode on any server.
//
// Each document carries a watermark: the sequence number of the last event
// applied to it. The statistics applier is the only writer (a lease); it
// numbers events in the order it applies them and writes a document only if
// its watermark is below the event's number — so an event retried or
// replayed after a crash is applied to each document at most once.
//
// Reads are served from an in-process cache of decoded documents, each
// valid for one generation: a random token per document in Redis that
// every write of the document replaces once it is written (see Read). A
// transition rewrites one shard of the grids, so a summary after it
// re-reads an eighth of them.
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
	r     *redis.Redis // holds the generations; nil: no cache
	cache rollupCache
	// server is what the server does with a write's watermark condition
	// (serverUnknown until asked).
	server atomic.Int32

	// The applier's memory of the documents it wrote (see Apply).
	mu    sync.Mutex
	known map[string]*rollupDoc // by _id; nil value: known not to exist
	// knownSeq is the event the memory is as of (-1: none); complete says
	// that a document not in it does not exist (the roll-ups were empty
	// when it began); epoch is the rebuild's mark the memory was made under.
	knownSeq int64
	complete bool
	epoch    string
	// shardsOnly says that no document of the layout before shards can
	// exist (a database that began with shards, or was rebuilt since).
	shardsOnly bool
}

// rollupsKnownMax bounds the applier's memory of documents.
const rollupsKnownMax = 4096

const (
	serverUnknown     = iota
	serverConditional // MongoDB: {_id, wm} is atomic and uses the _id index
	serverIDOnly      // FerretDB: {_id, wm} scans the collection and is not atomic anyway
)

// NewRollups returns the roll-up store of m. With r, reads are cached in
// process until the next write (r holds the generation tokens); with a nil
// r, every read goes to m.
func NewRollups(m *Mongo, r *redis.Redis) *Rollups {
	return &Rollups{c: m.db.Collection(colRollups), state: m.db.Collection(colStatsState), r: r}
}

// The documents of a period × dimension. The dimensions with thousands of
// keys — grids, workers, party members — are split over rollupShards
// documents by a hash of the key, so that a transition rewrites a small
// document, and a reader re-reads only the shard that changed; the others
// are one document each.
const rollupShards = 8

func shardsOf(dim string) int {
	switch dim {
	case "grid", "worker", "member":
		return rollupShards
	}
	return 1
}

// rollupID names the document of a key: <period>|<dim>|<shard>.
func rollupID(period, dim, key string) string {
	n := shardsOf(dim)
	shard := 0
	if n > 1 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(key))
		shard = int(h.Sum32() % uint32(n))
	}
	return period + "|" + dim + "|" + strconv.Itoa(shard)
}

// splitRollupID is the inverse of rollupID.
func splitRollupID(id string) (shard, period, dim string) {
	period, rest, _ := strings.Cut(id, "|")
	dim, shard, _ = strings.Cut(rest, "|")
	return shard, period, dim
}

// rollupIDs are the documents of a period × dimension: its shards, and
// the single document of the layout before shards (<period>|<dim>), whose
// counts the shards' add to until the next rebuild removes it.
func rollupIDs(period, dim string) []string {
	ids := make([]string, 0, shardsOf(dim)+1)
	for shard := range shardsOf(dim) {
		ids = append(ids, period+"|"+dim+"|"+strconv.Itoa(shard))
	}
	return append(ids, period+"|"+dim)
}

type rollupDoc struct {
	ID string `bson:"_id"`
	WM int64  `bson:"wm"`
	// K are the packed counters of every key (rollupcodec.go).
	K []byte `bson:"k"`
}

func (s *Rollups) get(ctx context.Context, id string) (*rollupDoc, error) {
	var d rollupDoc
	err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-up: %w", translate(err))
	}
	return &d, nil
}

// UpdatedAt returns when the applier last counted an event (zero if
// never): from Redis (one HGET), else from MongoDB, put back in Redis.
func (s *Rollups) UpdatedAt(ctx context.Context) (time.Time, error) {
	if s.r != nil {
		v, err := s.r.Client.HGet(ctx, s.generationKey(), updatedField).Result()
		if err == nil {
			if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return at, nil
			}
		}
	}
	var d struct {
		At time.Time `bson:"at"`
	}
	err := s.state.FindOne(ctx, bson.M{"_id": "applier"}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("stats state: %w", translate(err))
	}
	if s.r != nil && !d.At.IsZero() {
		_ = s.r.Client.HSetNX(ctx, s.generationKey(), updatedField, d.At.UTC().Format(time.RFC3339Nano)).Err()
	}
	return d.At, nil
}

// Applied returns the number of the last event fully applied. It also
// tells the applier's memory whether a rebuild ran since it was made.
func (s *Rollups) Applied(ctx context.Context) (int64, error) {
	var d struct {
		Applied int64  `bson:"applied"`
		Epoch   string `bson:"epoch"`
		Layout  int    `bson:"layout"`
	}
	err := s.state.FindOne(ctx, bson.M{"_id": "applier"}).Decode(&d)
	fresh := errors.Is(err, mongo.ErrNoDocuments)
	if err != nil && !fresh {
		return 0, fmt.Errorf("stats state: %w", translate(err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh {
		// Nothing was ever counted here: no roll-up exists, of any layout.
		s.shardsOnly = true
		if s.known == nil && s.knownSeq <= 0 {
			s.known, s.knownSeq, s.complete = map[string]*rollupDoc{}, 0, true
		}
	} else if d.Layout >= rollupLayoutShards {
		s.shardsOnly = true
	}
	if d.Epoch != s.epoch {
		s.epoch = d.Epoch
		s.forgetLocked()
	}
	return d.Applied, nil
}

// rollupLayoutShards marks, in the applier's state, a database with no
// document of the layout before shards.
const rollupLayoutShards = 2

// Forget drops the applier's memory of the documents: the next event is
// applied to what MongoDB holds. The applier calls it before resuming an
// event another run left half applied.
func (s *Rollups) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked()
}

func (s *Rollups) forgetLocked() { s.known, s.knownSeq, s.complete = nil, -1, false }

// SetApplied records that event seq, counted at at, is fully applied.
func (s *Rollups) SetApplied(ctx context.Context, seq int64, at time.Time) error {
	set := bson.M{"applied": seq}
	s.mu.Lock()
	if s.shardsOnly {
		set["layout"] = rollupLayoutShards
	}
	s.mu.Unlock()
	if !at.IsZero() {
		set["at"] = at.UTC()
	}
	_, err := s.state.UpdateOne(ctx, bson.M{"_id": "applier"}, bson.M{"$set": set}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats state: %w", translate(err))
	}
	return nil
}

// Apply adds event seq's deltas, counted at at: each document is read,
// added to and written back once, skipping documents that already have
// the event. Then it starts a new cache generation of those documents —
// also when every one was skipped, so that the retry of an event whose
// applier died between its writes and the new generation ends any
// staleness — and records at as the time of the last count (UpdatedAt),
// in the same Redis command.
func (s *Rollups) Apply(ctx context.Context, seq int64, at time.Time, rows []model.RollupRow) error {
	var order []string
	byID := map[string][]model.RollupRow{}
	for _, r := range rows {
		id := rollupID(r.Period, r.Dim, r.Key)
		if byID[id] == nil {
			order = append(order, id)
		}
		byID[id] = append(byID[id], r)
	}
	if order == nil {
		order = []string{} // no document changed: none loses its cache
	}
	s.mu.Lock()
	if s.knownSeq < 0 || seq != s.knownSeq+1 {
		// Another applier counted meanwhile, or this is a replay: what
		// this one remembers may be behind.
		s.known, s.complete = map[string]*rollupDoc{}, false
	}
	s.knownSeq = -1 // until this event is applied in full
	s.mu.Unlock()

	var writes []rollupDoc
	var conds []int64
	for _, id := range order {
		d, err := s.current(ctx, id)
		if err != nil {
			return err
		}
		if d != nil && d.WM >= seq {
			continue // the document already has this event
		}
		if d == nil {
			// A new shard: the document from before shards, if any, had
			// every key of the period × dimension, and perhaps this event.
			_, period, dim := splitRollupID(id)
			old, err := s.oldLayout(ctx, period+"|"+dim)
			if err != nil {
				return err
			}
			if old != nil && old.WM >= seq {
				continue
			}
			d = &rollupDoc{ID: id, WM: -1}
		}
		var packed []model.RollupRow
		err = decodeRollup(d.K, func(n int) { packed = make([]model.RollupRow, 0, n+len(byID[id])) }, func(key string, v *model.RollupValues) {
			packed = append(packed, model.RollupRow{Key: key, Values: *v})
		})
		if err != nil {
			return fmt.Errorf("decode roll-up %s: %w", id, err)
		}
		index := make(map[string]int, len(packed))
		for i := range packed {
			index[packed[i].Key] = i
		}
		for _, r := range byID[id] {
			j, ok := index[r.Key]
			if !ok {
				j = len(packed)
				index[r.Key] = j
				packed = append(packed, model.RollupRow{Key: r.Key})
			}
			for i, x := range r.Values {
				packed[j].Values[i] += x
			}
		}
		// A key back at zero goes, as a rebuild would not have it.
		packed = slices.DeleteFunc(packed, func(r model.RollupRow) bool { return r.Values == model.RollupValues{} })
		writes = append(writes, rollupDoc{ID: id, WM: seq, K: encodeRollup(packed)})
		conds = append(conds, max(d.WM, 0))
	}
	if err := s.writeAll(ctx, writes, conds); err != nil {
		s.Forget()
		return err
	}
	s.mu.Lock()
	if s.known != nil {
		if len(s.known)+len(writes) > rollupsKnownMax {
			s.known, s.complete = map[string]*rollupDoc{}, false
		}
		for i := range writes {
			s.known[writes[i].ID] = &writes[i]
		}
		s.knownSeq = seq
	}
	s.mu.Unlock()
	return s.newGeneration(ctx, order, at)
}

// current is a document as the applier last wrote it, or as MongoDB has
// it; nil if there is none.
func (s *Rollups) current(ctx context.Context, id string) (*rollupDoc, error) {
	s.mu.Lock()
	d, ok := s.known[id]
	complete := s.complete
	s.mu.Unlock()
	if ok || complete {
		return d, nil
	}
	d, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.known != nil && len(s.known) < rollupsKnownMax {
		s.known[id] = d
	}
	s.mu.Unlock()
	return d, nil
}

// oldLayout reads the document of the layout before shards, unless the
// database cannot have one.
func (s *Rollups) oldLayout(ctx context.Context, id string) (*rollupDoc, error) {
	s.mu.Lock()
	none := s.shardsOnly
	s.mu.Unlock()
	if none {
		return nil, nil
	}
	return s.get(ctx, id)
}

// writeAll stores the documents in one command (an ordered bulk write:
// the "all" documents, last in the list, are written last), each at its
// new watermark; on MongoDB each only if its watermark is still conds[i]
// (see write). A document written meanwhile by an applier that had the
// event is left as it is.
func (s *Rollups) writeAll(ctx context.Context, docs []rollupDoc, conds []int64) error {
	if len(docs) == 0 {
		return nil
	}
	conditional := s.serverKind(ctx) == serverConditional
	models := make([]mongo.WriteModel, len(docs))
	for i := range docs {
		filter := bson.M{"_id": docs[i].ID}
		if conditional {
			filter["wm"] = conds[i]
		}
		models[i] = mongo.NewReplaceOneModel().SetFilter(filter).SetReplacement(docs[i]).SetUpsert(true)
	}
	_, err := s.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write roll-ups: %w", translate(err))
	}
	// Some were written meanwhile (MongoDB only): the rest one at a time.
	for i := range docs {
		if err := s.write(ctx, &rollupDoc{ID: docs[i].ID, WM: conds[i]}, docs[i].WM, docs[i].K); err != nil {
			return err
		}
	}
	return nil
}

// write stores a document's counters at watermark seq. On MongoDB, only
// if nothing was written meanwhile (the watermark is still the one read):
// an applier that lost its lease while it was paused cannot undo its
// successor's writes. FerretDB v1 pushes down to SQLite only a filter of
// exactly {_id}: with the watermark in it, every write would read and
// decode the whole collection — and still not be atomic. There the lease
// alone keeps the writer single.
func (s *Rollups) write(ctx context.Context, d *rollupDoc, seq int64, packed []byte) error {
	filter := bson.M{"_id": d.ID}
	if s.serverKind(ctx) == serverConditional {
		filter["wm"] = d.WM
	}
	_, err := s.c.ReplaceOne(ctx, filter, rollupDoc{ID: d.ID, WM: seq, K: packed}, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // written meanwhile by an applier that had the event
	}
	if err != nil {
		return fmt.Errorf("write roll-up: %w", translate(err))
	}
	return nil
}

// serverKind asks the server once whether it is FerretDB (its buildInfo
// says so); until it answers, writes carry the condition.
func (s *Rollups) serverKind(ctx context.Context) int32 {
	if k := s.server.Load(); k != serverUnknown {
		return k
	}
	var info bson.M
	if err := s.c.Database().RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return serverConditional
	}
	k := int32(serverConditional)
	if _, ferret := info["ferretdbVersion"]; ferret {
		k = serverIDOnly
	}
	s.server.Store(k)
	return k
}

// Read returns the counters of a dimension for the given period buckets,
// one row per bucket and key, each bucket's in key order. The rows may be
// shared with other callers: they are read-only.
//
// It first takes the documents' generation tokens from Redis (one HMGET),
// then each document from the cache if it was read under its token, else
// from MongoDB. A writer replaces a document's token only after writing
// it, so a document cached under a token was read after every write that
// came before the token: a reader never sees less than a direct read made
// when the last applier pass ended. Without Redis it reads MongoDB every
// time.
func (s *Rollups) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	if len(periods) == 0 {
		return nil, nil
	}
	var ids []string
	for _, p := range periods {
		ids = append(ids, rollupIDs(p, dim)...)
	}
	per := len(ids) / len(periods)
	tokens := s.generations(ctx, ids)
	// A period's rows merged from its documents, cached under all their
	// tokens: a summary of a quiet period neither reads nor merges.
	merged := make([][]model.RollupRow, len(periods))
	mergedTokens := make([]string, len(periods))
	docs := make([][]model.RollupRow, len(ids))
	var missing []int
	for p := range periods {
		mergedTokens[p] = joinTokens(tokens[p*per : (p+1)*per])
		if rows, ok := s.cache.get(mergedTokens[p], "merged:"+periods[p]+"|"+dim); ok {
			merged[p] = rows
			continue
		}
		for i := p * per; i < (p+1)*per; i++ {
			rows, ok := s.cache.get(tokens[i], ids[i])
			if ok {
				docs[i] = rows
			} else {
				missing = append(missing, i)
			}
		}
	}
	// The documents not cached, a few at a time: each is a round trip.
	var wg sync.WaitGroup
	errs := make([]error, len(missing))
	next := make(chan int)
	for range min(rollupReaders, len(missing)) {
		wg.Go(func() {
			for j := range next {
				i := missing[j]
				docs[i], errs[j] = s.document(ctx, ids[i], tokens[i], periods[i/per], dim)
			}
		})
	}
	for j := range missing {
		next <- j
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	for p := range periods {
		if merged[p] != nil {
			continue
		}
		runs := make([][]model.RollupRow, 0, per)
		for _, rows := range docs[p*per : (p+1)*per] {
			if len(rows) > 0 {
				runs = append(runs, rows)
			}
		}
		if len(runs) == 1 {
			merged[p] = runs[0]
		} else {
			merged[p] = mergeRows(nil, runs)
			s.cache.put(mergedTokens[p], "merged:"+periods[p]+"|"+dim, merged[p])
		}
	}
	if len(periods) == 1 {
		return merged[0][:len(merged[0]):len(merged[0])], nil // an append copies
	}
	var out []model.RollupRow
	for _, rows := range merged {
		out = append(out, rows...)
	}
	return out, nil
}

// joinTokens is the token of a merge of documents: "" (not cached) if
// any of theirs is.
func joinTokens(tokens []string) string {
	for _, t := range tokens {
		if t == "" {
			return ""
		}
	}
	return strings.Join(tokens, ",")
}

// rollupReaders is how many documents Read fetches at once.
const rollupReaders = 4

// document reads a document and returns its rows in key order, caching
// them under token.
func (s *Rollups) document(ctx context.Context, id, token, period, dim string) ([]model.RollupRow, error) {
	// One lookup by _id: FerretDB pushes an _id equality down to its
	// storage, but would decode the whole collection to answer $in.
	d, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows []model.RollupRow
	if d != nil {
		err := decodeRollup(d.K, func(n int) { rows = make([]model.RollupRow, 0, n) }, func(key string, v *model.RollupValues) {
			rows = append(rows, model.RollupRow{Period: period, Dim: dim, Key: key, Values: *v})
		})
		if err != nil {
			return nil, fmt.Errorf("decode roll-up %s: %w", id, err)
		}
		if len(d.K) > 0 && d.K[0] != rollupFormat1 && d.K[0] != rollupFormat2 { // JSON: in no order
			slices.SortFunc(rows, func(a, b model.RollupRow) int { return strings.Compare(a.Key, b.Key) })
		}
	}
	s.cache.put(token, id, rows)
	return rows, nil
}

// mergeRows appends to out the rows of runs, each in key order, in key
// order, adding up the rows of one key (a key is in one shard, and maybe
// in the document from before shards too).
func mergeRows(out []model.RollupRow, runs [][]model.RollupRow) []model.RollupRow {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	out = slices.Grow(out, n)
	first := len(out)
	for len(runs) > 0 {
		// The run whose head is least; runs are few.
		m := 0
		for i := 1; i < len(runs); i++ {
			if runs[i][0].Key < runs[m][0].Key {
				m = i
			}
		}
		r := runs[m][0]
		if last := len(out) - 1; last >= first && out[last].Key == r.Key {
			for c, x := range r.Values {
				out[last].Values[c] += x
			}
		} else {
			out = append(out, r)
		}
		if runs[m] = runs[m][1:]; len(runs[m]) == 0 {
			runs = slices.Delete(runs, m, m+1)
		}
	}
	return out
}

// Replace drops every roll-up and writes rows instead, all at watermark
// seq: the rebuild. It sorts rows.
func (s *Rollups) Replace(ctx context.Context, seq int64, rows []model.RollupRow) error {
	slices.SortFunc(rows, func(a, b model.RollupRow) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Key, b.Key))
	})
	if _, err := s.c.DeleteMany(ctx, bson.M{}); err != nil {
		return fmt.Errorf("clear roll-ups: %w", translate(err))
	}
	// Batches of at most 500 documents or 8 MB.
	var batch []any
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := s.c.InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("write roll-ups: %w", translate(err))
		}
		batch, size = batch[:0], 0
		return nil
	}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Period == rows[i].Period && rows[j].Dim == rows[i].Dim {
			j++
		}
		// One period × dimension, by shard.
		shards := map[string][]model.RollupRow{}
		for _, r := range rows[i:j] {
			id := rollupID(r.Period, r.Dim, r.Key)
			shards[id] = append(shards[id], r)
		}
		for id, rs := range shards {
			packed := encodeRollup(rs)
			batch = append(batch, rollupDoc{ID: id, WM: seq, K: packed})
			size += len(packed)
			if len(batch) == 500 || size > 8<<20 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		i = j
	}
	if err := flush(); err != nil {
		return err
	}
	if err := s.SetApplied(ctx, seq, time.Time{}); err != nil {
		return err
	}
	// Every applier's memory of the documents is now out of date; and no
	// document of the layout before shards is left.
	_, err := s.state.UpdateOne(ctx, bson.M{"_id": "applier"},
		bson.M{"$set": bson.M{"epoch": newToken(), "layout": rollupLayoutShards}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats state: %w", translate(err))
	}
	s.Forget()
	return s.newGeneration(ctx, nil, time.Time{})
}

// The cache generations: a random token per document, in one Redis hash,
// replaced after every write of the document. Random rather than a
// counter, so that a Redis that lost them (a restart, a flush) can never
// bring back a token a cache still holds.

func (s *Rollups) generationKey() string { return s.r.Key("stats", "rollups-generations") }

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// updatedField is the generations hash's field holding the time of the
// last count (not a document id: those contain "|").
const updatedField = "@updated"

// newGeneration invalidates every instance's cache of the documents ids,
// or of all documents for nil ids, and records at (unless zero) as the
// time of the last count. Its error fails the write: the applier then
// retries the event, which ends in a new generation.
func (s *Rollups) newGeneration(ctx context.Context, ids []string, at time.Time) error {
	if s.r == nil {
		return nil
	}
	var err error
	if ids == nil {
		err = s.r.Client.Del(ctx, s.generationKey()).Err()
	} else {
		fields := make([]any, 0, 2*len(ids)+2)
		for _, id := range ids {
			fields = append(fields, id, newToken())
		}
		if !at.IsZero() {
			fields = append(fields, updatedField, at.UTC().Format(time.RFC3339Nano))
		}
		if len(fields) > 0 {
			err = s.r.Client.HSet(ctx, s.generationKey(), fields...).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("roll-up generation: %w", redis.Translate(err))
	}
	return nil
}

// generations returns the documents' current tokens, making those Redis
// has none of; "" (no caching) without Redis or when it does not answer.
func (s *Rollups) generations(ctx context.Context, ids []string) []string {
	tokens := make([]string, len(ids))
	if s.r == nil {
		return tokens
	}
	k := s.generationKey()
	vals, err := s.r.Client.HMGet(ctx, k, ids...).Result()
	if err != nil {
		return tokens
	}
	for i, v := range vals {
		if tok, ok := v.(string); ok {
			tokens[i] = tok
			continue
		}
		// A new token taken before reading makes a cache entry that no
		// earlier write can be missing from.
		tok := newToken()
		if ok, err := s.r.Client.HSetNX(ctx, k, ids[i], tok).Result(); err == nil && ok {
			tokens[i] = tok
		} else if err == nil {
			tokens[i], _ = s.r.Client.HGet(ctx, k, ids[i]).Result() // set meanwhile
		}
	}
	return tokens
}

// rollupCacheRows bounds the cache: ~150 bytes a row, so ~40 MB.
const rollupCacheRows = 250_000

// rollupCache holds decoded documents, each with the token it was read
// under.
type rollupCache struct {
	mu   sync.Mutex
	docs map[string]cachedRollup // by document _id
	rows int
}

type cachedRollup struct {
	token string
	rows  []model.RollupRow // nil: no document
}

func (c *rollupCache) get(token, id string) ([]model.RollupRow, bool) {
	if token == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[id]
	if !ok || d.token != token {
		return nil, false
	}
	return d.rows, true
}

func (c *rollupCache) put(token, id string, rows []model.RollupRow) {
	if token == "" || len(rows) > rollupCacheRows {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.docs[id]; ok {
		c.rows -= len(old.rows)
	}
	if c.docs == nil || c.rows+len(rows) > rollupCacheRows {
		c.docs, c.rows = map[string]cachedRollup{}, 0
	}
	c.docs[id] = cachedRollup{token: token, rows: rows}
	c.rows += len(rows)
}
