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
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/redis"
)

const colRollups = "rollups"

// Rollups are the statistics' running counters: per period bucket ×
// dimension, one document (y2026|category|0), or eight for the dimensions
// with thousands of keys (y2026|grid|0 … y2026|grid|7, by a hash of the
// key), each holding its keys' counters packed in one binary value ({k:
// <binary>}, see rollupcodec.go). A summary reads a handful of documents by
// _id whatever the number of grids, and one packed value is cheap to move
// and decode.
//
// Each document carries a watermark: the number of the last batch of
// transitions added to it. The applier (Stats) is the only writer; it
// numbers its batches and writes a document only if its watermark is below
// the batch's number — so a batch finished again after a crash is added to
// each document at most once.
//
// Reads are served from an in-process cache of decoded documents, each
// valid for one generation: a random token per document in Redis that
// every write of the document replaces once it is written (see Read). A
// transition rewrites one shard of the grids, so a summary after it
// re-reads an eighth of them.
type Rollups struct {
	c     *mongo.Collection
	r     *redis.Redis // holds the generations; nil: no cache
	cache rollupCache

	// The applier's memory of the documents it wrote (see Apply).
	mu    sync.Mutex
	known map[string]*rollupDoc // by _id; nil value: known not to exist
	// knownSeq is the batch the memory is as of (-1: none); complete says
	// that a document not in it does not exist (no batch was ever counted).
	knownSeq int64
	complete bool
}

// rollupsKnownMax bounds the applier's memory of documents.
const rollupsKnownMax = 4096

// NewRollups returns the roll-up store of m. With r, reads are cached in
// process until the next write (r holds the generation tokens); with a nil
// r, every read goes to m.
func NewRollups(m *Mongo, r *redis.Redis) *Rollups {
	return &Rollups{c: m.db.Collection(colRollups), r: r, knownSeq: -1}
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

// rollupIDs are the documents of a period × dimension: its shards.
func rollupIDs(period, dim string) []string {
	ids := make([]string, 0, shardsOf(dim))
	for shard := range shardsOf(dim) {
		ids = append(ids, period+"|"+dim+"|"+strconv.Itoa(shard))
	}
	return ids
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

// updatedAt returns the time of the last count kept in Redis, if any.
func (s *Rollups) updatedAt(ctx context.Context) (time.Time, bool) {
	if s.r == nil {
		return time.Time{}, false
	}
	v, err := s.r.Client.HGet(ctx, s.generationKey(), updatedField).Result()
	if err != nil {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	return at, err == nil
}

// keepUpdatedAt puts back in Redis the time of the last count read from
// MongoDB (unless a newer one is there).
func (s *Rollups) keepUpdatedAt(ctx context.Context, at time.Time) {
	if s.r != nil && !at.IsZero() {
		_ = s.r.Client.HSetNX(ctx, s.generationKey(), updatedField, at.UTC().Format(time.RFC3339Nano)).Err()
	}
}

// Forget drops the applier's memory of the documents: the next batch is
// added to what MongoDB holds. The applier calls it before finishing a
// batch another run left half written.
func (s *Rollups) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known, s.knownSeq, s.complete = nil, -1, false
}

// knowEmpty tells the applier's memory that no roll-up exists: no batch
// was ever counted, so the first one reads nothing.
func (s *Rollups) knowEmpty() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known, s.knownSeq, s.complete = map[string]*rollupDoc{}, 0, true
}

// Apply adds batch seq's rows, counted at at: each document is read,
// added to and written back once, skipping documents that already have the
// batch. Then it starts a new cache generation of those documents — also
// when every one was skipped, so that a batch finished again after its
// applier died between its writes and the new generation ends any
// staleness — and records at as the time of the last count, in the same
// Redis command.
//
// The applier remembers what it wrote, so that while it holds the lease
// (no other writer) it reads a document only the first time.
//
// record, when set, is the batch's record: inserted first, in the same
// bulk write, so that a number another applier took fails the batch
// (errBatchTaken) before any document is written.
func (s *Rollups) Apply(ctx context.Context, seq int64, at time.Time, rows []model.RollupRow, record *batchDoc) error {
	var order []string
	byID := map[string][]model.RollupRow{}
	for _, r := range applyOrder(rows) {
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
		// Another applier counted meanwhile, or this is a batch finished
		// again: what this one remembers may be behind.
		s.known, s.complete = map[string]*rollupDoc{}, false
	}
	s.knownSeq = -1 // until this batch is written in full
	s.mu.Unlock()

	current, err := s.current(ctx, order)
	if err != nil {
		return err
	}
	var writes []rollupDoc
	var conds []int64
	for _, id := range order {
		d := current[id]
		if d != nil && d.WM >= seq {
			continue // the document already has this batch
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
		writes = append(writes, rollupDoc{ID: id, WM: seq, K: encodeRollup(packed)})
		conds = append(conds, d.WM)
	}
	if err := s.writeAll(ctx, writes, conds, record); err != nil {
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

// errBatchTaken says a batch's number is another applier's.
var errBatchTaken = errors.New("statistics batch number taken")

// applyOrder sorts a batch's rows: the "all" documents go last, so a
// reader that sees a transition in the totals sees it in every group too.
func applyOrder(rows []model.RollupRow) []model.RollupRow {
	slices.SortFunc(rows, func(a, b model.RollupRow) int {
		if (a.Dim == model.DimAll) != (b.Dim == model.DimAll) {
			if b.Dim == model.DimAll {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Key, b.Key))
	})
	return rows
}

// current returns the documents as the applier last wrote them, or as
// MongoDB has them (those it does not remember, in one read); a document
// that does not exist is nil.
func (s *Rollups) current(ctx context.Context, ids []string) (map[string]*rollupDoc, error) {
	out := make(map[string]*rollupDoc, len(ids))
	var missing []string
	s.mu.Lock()
	for _, id := range ids {
		if d, ok := s.known[id]; ok || s.complete {
			out[id] = d
		} else {
			missing = append(missing, id)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	docs, err := s.getMany(ctx, missing)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range missing {
		d := docs[id]
		out[id] = d
		if s.known != nil && len(s.known) < rollupsKnownMax {
			s.known[id] = d
		}
	}
	return out, nil
}

// getMany reads documents by _id, in one command; those that do not exist
// are absent.
func (s *Rollups) getMany(ctx context.Context, ids []string) (map[string]*rollupDoc, error) {
	out := make(map[string]*rollupDoc, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var docs []rollupDoc
	cur, err := s.c.Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err == nil {
		err = cur.All(ctx, &docs)
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-ups: %w", translate(err))
	}
	for i := range docs {
		out[docs[i].ID] = &docs[i]
	}
	return out, nil
}

// writeAll stores the documents in one command (an ordered bulk write:
// the "all" documents, last in the list, are written last), each at its
// new watermark and only if its watermark is still conds[i] — on MongoDB,
// where that condition is atomic, an applier that lost its lease while it
// was paused cannot undo its successor's writes. (On FerretDB, whose
// conditional writes are not atomic, the lease alone keeps the writer
// single.) A document written meanwhile by an applier that had the batch
// is left as it is.
func (s *Rollups) writeAll(ctx context.Context, docs []rollupDoc, conds []int64, record *batchDoc) error {
	var models []mongo.WriteModel
	if record != nil {
		// An upsert that can only insert: no document has "never", so an
		// _id already taken is a duplicate key, as an insert's would be.
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": record.ID, "never": true}).SetReplacement(record).SetUpsert(true))
	}
	for i := range docs {
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": docs[i].ID, "wm": conds[i]}).SetReplacement(docs[i]).SetUpsert(true))
	}
	if len(models) == 0 {
		return nil
	}
	_, err := s.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
	if err == nil {
		return nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("write roll-ups: %w", translate(err))
	}
	if record != nil {
		var bw mongo.BulkWriteException
		if errors.As(err, &bw) && len(bw.WriteErrors) > 0 && bw.WriteErrors[0].Index == 0 {
			return errBatchTaken
		}
	}
	// Some were written meanwhile: the rest one at a time. One written by
	// an applier that had this batch is left as it is; one written by
	// another batch means this applier's view is stale (it lost the lease,
	// or remembered wrong): the batch fails, and is finished again from
	// what is stored.
	for i := range docs {
		_, err := s.c.ReplaceOne(ctx, bson.M{"_id": docs[i].ID, "wm": conds[i]}, docs[i], options.Replace().SetUpsert(true))
		if err == nil {
			continue
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("write roll-up: %w", translate(err))
		}
		d, err := s.get(ctx, docs[i].ID)
		if err != nil {
			return err
		}
		if d == nil || d.WM < docs[i].WM {
			return model.Errorf(model.CodeConflict, "统计文档 %s 已被另一次统计改写", docs[i].ID)
		}
	}
	return nil
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
	// The documents not cached, in one read.
	if len(missing) > 0 {
		want := make([]string, len(missing))
		for j, i := range missing {
			want[j] = ids[i]
		}
		found, err := s.getMany(ctx, want)
		if err != nil {
			return nil, err
		}
		for _, i := range missing {
			if docs[i], err = s.decoded(found[ids[i]], ids[i], tokens[i], periods[i/per], dim); err != nil {
				return nil, err
			}
		}
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

// decoded returns a document's rows in key order (none for a nil
// document), caching them under token.
func (s *Rollups) decoded(d *rollupDoc, id, token, period, dim string) ([]model.RollupRow, error) {
	var rows []model.RollupRow
	if d != nil {
		err := decodeRollup(d.K, func(n int) { rows = make([]model.RollupRow, 0, n) }, func(key string, v *model.RollupValues) {
			rows = append(rows, model.RollupRow{Period: period, Dim: dim, Key: key, Values: *v})
		})
		if err != nil {
			return nil, fmt.Errorf("decode roll-up %s: %w", id, err)
		}
	}
	s.cache.put(token, id, rows)
	return rows, nil
}

// mergeRows appends to out the rows of runs, each in key order, in key
// order, adding up the rows of one key.
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
// seq: the rebuild. It sorts rows. Every applier's memory of the
// documents is out of date afterwards: the next batch reads them (its
// number does not follow the one they remember).
func (s *Rollups) Replace(ctx context.Context, seq int64, rows []model.RollupRow) error {
	slices.SortFunc(rows, func(a, b model.RollupRow) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Key, b.Key))
	})
	if _, err := s.c.DeleteMany(ctx, bson.M{"wm": bson.M{"$exists": true}}); err != nil { // not the batch records
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
