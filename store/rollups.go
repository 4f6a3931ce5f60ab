package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colRollups    = "rollups"
	colStatsState = "stats_state"
)

// Rollups are the statistics' running counters: one document per period
// bucket × dimension (y2026|grid), holding every key's counters packed in
// one binary value ({k: <binary>}, see rollupcodec.go). A summary reads a
// handful of documents by _id whatever the number of grids (FerretDB pushes
// only an _id equality down to SQLite), and one packed value is cheap to
// move and decode on any server.
//
// Each document carries a watermark: the sequence number of the last event
// applied to it. The statistics applier is the only writer (a lease); it
// numbers events in the order it applies them and writes a document only if
// its watermark is below the event's number — so an event retried or
// replayed after a crash is applied to each document at most once.
//
// Reads are served from an in-process cache of decoded documents, valid
// for one generation: a random token in Redis that every write replaces
// once its documents are written (see Read).
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
	r     *Redis // holds the generation; nil: no cache
	cache rollupCache
	// server is what the server does with a write's watermark condition
	// (serverUnknown until asked).
	server atomic.Int32
}

const (
	serverUnknown     = iota
	serverConditional // MongoDB: {_id, wm} is atomic and uses the _id index
	serverIDOnly      // FerretDB: {_id, wm} scans the collection and is not atomic anyway
)

// NewRollups returns the roll-up store of m. With r, reads are cached in
// process until the next write (r holds the generation token); with a nil
// r, every read goes to m.
func NewRollups(m *Mongo, r *Redis) *Rollups {
	return &Rollups{c: m.db.Collection(colRollups), state: m.db.Collection(colStatsState), r: r}
}

func rollupID(period, dim string) string { return period + "|" + dim }

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

// Applied returns the number of the last event fully applied.
func (s *Rollups) Applied(ctx context.Context) (int64, error) {
	var d struct {
		Applied int64 `bson:"applied"`
	}
	err := s.state.FindOne(ctx, bson.M{"_id": "applier"}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stats state: %w", translate(err))
	}
	return d.Applied, nil
}

// SetApplied records that event seq is fully applied.
func (s *Rollups) SetApplied(ctx context.Context, seq int64) error {
	_, err := s.state.UpdateOne(ctx, bson.M{"_id": "applier"}, bson.M{"$set": bson.M{"applied": seq}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("stats state: %w", translate(err))
	}
	return nil
}

// Apply adds event seq's deltas: each document is read, added to and
// written back once, skipping documents that already have the event. Then
// it starts a new cache generation — also when every document was skipped,
// so that the retry of an event whose applier died between its writes and
// the new generation ends any staleness.
func (s *Rollups) Apply(ctx context.Context, seq int64, rows []model.RollupRow) error {
	var order []string
	byID := map[string][]model.RollupRow{}
	for _, r := range rows {
		id := rollupID(r.Period, r.Dim)
		if byID[id] == nil {
			order = append(order, id)
		}
		byID[id] = append(byID[id], r)
	}
	for _, id := range order {
		d, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if d != nil && d.WM >= seq {
			continue // the document already has this event
		}
		if d == nil {
			d = &rollupDoc{ID: id}
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
		if err := s.write(ctx, d, seq, encodeRollup(packed)); err != nil {
			return err
		}
	}
	return s.newGeneration(ctx)
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
// one row per bucket and key. The rows may be shared with other callers:
// they are read-only.
//
// It first takes the generation token from Redis (one GET), then each
// document from the cache if it was read under that token, else from
// MongoDB. A writer replaces the token only after writing, so a document
// cached under a token was read after every write that came before the
// token: a reader never sees less than a direct read made when the last
// applier pass ended. Without Redis it reads MongoDB every time.
func (s *Rollups) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	token := s.generation(ctx)
	var out []model.RollupRow
	// One lookup by _id per bucket: FerretDB pushes an _id equality down to
	// its storage, but would decode the whole collection to answer $in.
	for _, p := range periods {
		id := rollupID(p, dim)
		if rows, ok := s.cache.get(token, id); ok {
			if len(periods) == 1 {
				return rows[:len(rows):len(rows)], nil // an append copies
			}
			out = append(out, rows...)
			continue
		}
		d, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		var rows []model.RollupRow
		if d != nil {
			err := decodeRollup(d.K, func(n int) { rows = make([]model.RollupRow, 0, n) }, func(key string, v *model.RollupValues) {
				rows = append(rows, model.RollupRow{Period: p, Dim: dim, Key: key, Values: *v})
			})
			if err != nil {
				return nil, fmt.Errorf("decode roll-up %s: %w", id, err)
			}
		}
		s.cache.put(token, id, rows)
		out = append(out, rows...)
	}
	return out, nil
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
		packed := encodeRollup(rows[i:j])
		batch = append(batch, rollupDoc{ID: rollupID(rows[i].Period, rows[i].Dim), WM: seq, K: packed})
		size += len(packed)
		if len(batch) == 500 || size > 8<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
		i = j
	}
	if err := flush(); err != nil {
		return err
	}
	if err := s.SetApplied(ctx, seq); err != nil {
		return err
	}
	return s.newGeneration(ctx)
}

// The cache generation: a random token under one Redis key, replaced
// after every write. Random rather than a counter, so that a Redis that
// lost the key (a restart, a flush) can never bring back a token a cache
// still holds.

func (s *Rollups) generationKey() string { return s.r.Key("stats", "rollups-generation") }

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newGeneration invalidates every instance's cache. Its error fails the
// write: the applier then retries the event, which ends in a new
// generation.
func (s *Rollups) newGeneration(ctx context.Context) error {
	if s.r == nil {
		return nil
	}
	if err := s.r.Client.Set(ctx, s.generationKey(), newToken(), 0).Err(); err != nil {
		return fmt.Errorf("roll-up generation: %w", translateRedis(err))
	}
	return nil
}

// generation returns the current token, making one if Redis has none; ""
// (no caching) without Redis or when it does not answer.
func (s *Rollups) generation(ctx context.Context) string {
	if s.r == nil {
		return ""
	}
	k := s.generationKey()
	for range 3 {
		tok, err := s.r.Client.Get(ctx, k).Result()
		if err == nil {
			return tok
		}
		if !errors.Is(err, redis.Nil) {
			return ""
		}
		// A new token taken before reading makes a cache entry that no
		// earlier write can be missing from.
		tok = newToken()
		if ok, err := s.r.Client.SetNX(ctx, k, tok, 0).Result(); err != nil {
			return ""
		} else if ok {
			return tok
		}
	}
	return ""
}

// rollupCacheRows bounds the cache: ~150 bytes a row, so ~40 MB.
const rollupCacheRows = 250_000

// rollupCache holds decoded documents of one generation.
type rollupCache struct {
	mu    sync.Mutex
	token string
	docs  map[string][]model.RollupRow // by document _id; nil rows: no document
	rows  int
}

func (c *rollupCache) get(token, id string) ([]model.RollupRow, bool) {
	if token == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != token {
		return nil, false
	}
	rows, ok := c.docs[id]
	return rows, ok
}

func (c *rollupCache) put(token, id string, rows []model.RollupRow) {
	if token == "" || len(rows) > rollupCacheRows {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != token || c.rows+len(rows) > rollupCacheRows {
		c.token, c.docs, c.rows = token, map[string][]model.RollupRow{}, 0
	}
	if _, ok := c.docs[id]; !ok {
		c.docs[id] = rows
		c.rows += len(rows)
	}
}
