package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/model"
)

const (
	colPhotos    = "photos"
	photosBucket = "photo_files"
)

// Photos stores a photo's metadata and, when they are small enough (all a
// phone's photos after processing), its (metadata-free) image bytes in one
// document — one write at upload, one read to serve it; larger files go to
// GridFS, as <id>.full and <id>.thumb.
type Photos struct {
	c      *mongo.Collection
	db     *mongo.Database
	now    func() time.Time
	ferret bool // see SetTrace
}

// NewPhotos returns the photo store of m.
func NewPhotos(m *Mongo, now func() time.Time) *Photos {
	return &Photos{c: m.db.Collection(colPhotos), db: m.db, now: msClock(now), ferret: m.ferret}
}

// bucket returns a GridFS bucket for one operation: the driver's bucket
// keeps per-upload state and is not safe for concurrent use.
func (s *Photos) bucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(photosBucket))
}

type moderationDoc struct {
	TraceID   string    `bson:"trace_id"`
	Suggest   string    `bson:"suggest"`
	SentAt    time.Time `bson:"sent_at,omitempty"`
	CheckedAt time.Time `bson:"checked_at,omitempty"`
}

type photoDoc struct {
	ID          string        `bson:"_id"`
	OwnerID     string        `bson:"owner_id"`
	ContentType string        `bson:"content_type"`
	Width       int           `bson:"width"`
	Height      int           `bson:"height"`
	Size        int64         `bson:"size"`
	SHA256      string        `bson:"sha256"`
	ThumbSHA256 string        `bson:"thumb_sha256"`
	ThumbSize   int64         `bson:"thumb_size"`
	TakenAt     *time.Time    `bson:"taken_at,omitempty"`
	ExifLoc     *pointDoc     `bson:"exif_location,omitempty"`
	UsedBy      string        `bson:"used_by"`
	Moderation  moderationDoc `bson:"moderation"`
	CreatedAt   time.Time     `bson:"created_at"`
	// The files themselves, when stored in the document (Inline; see
	// inlineMax).
	Inline bool   `bson:"in_doc,omitempty"`
	Full   []byte `bson:"full,omitempty"`
	Thumb  []byte `bson:"thumb,omitempty"`
	// FullType and ThumbType are their content types.
	FullType  string `bson:"full_type,omitempty"`
	ThumbType string `bson:"thumb_type,omitempty"`
	// A redacted photo (redaction.go): when, and its kept original (in the
	// document when Inline, else the GridFS file <id>.original).
	RedactedAt     time.Time `bson:"redacted_at,omitempty"`
	HasOriginal    bool      `bson:"has_original,omitempty"`
	OriginalSHA256 string    `bson:"original_sha256,omitempty"`
	OriginalSize   int64     `bson:"original_size,omitempty"`
	OriginalType   string    `bson:"original_type,omitempty"`
	Original       []byte    `bson:"original,omitempty"`
}

// inlineMax is the size of the two files up to which they are kept in the
// photo's document (MongoDB's limit for one document is 16 MB).
const inlineMax = 8 << 20

// noFiles leaves the files out of a read of metadata.
var noFiles = bson.M{"full": 0, "thumb": 0, "original": 0}

func (d *photoDoc) model() *model.Photo {
	p := &model.Photo{
		ID: d.ID, OwnerID: d.OwnerID, ContentType: d.ContentType, Width: d.Width, Height: d.Height,
		Size: d.Size, SHA256: d.SHA256, TakenAt: d.TakenAt, UsedBy: d.UsedBy, CreatedAt: d.CreatedAt,
		Moderation: model.Moderation{TraceID: d.Moderation.TraceID, Suggest: d.Moderation.Suggest, CheckedAt: d.Moderation.CheckedAt},
		RedactedAt: d.RedactedAt, HasOriginal: d.HasOriginal, OriginalType: d.OriginalType,
	}
	if d.ExifLoc != nil {
		p.ExifLocation = &model.Point{Lat: d.ExifLoc.Lat, Lng: d.ExifLoc.Lng}
	}
	return p
}

// Variant names a stored rendition.
const (
	VariantFull  = "full"
	VariantThumb = "thumb"
)

// Create stores the files, then the metadata (so a photo that exists is
// always servable), and returns the photo with its new id.
func (s *Photos) Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error) {
	p.ID, p.CreatedAt = NewID(), s.now().UTC()
	inline := len(full.Data)+len(thumb.Data) <= inlineMax
	if !inline {
		if err := s.writeFiles(ctx, p.ID, p.OwnerID, p.CreatedAt, full, thumb); err != nil {
			return nil, err
		}
	}
	d := photoDoc{
		ID: p.ID, OwnerID: p.OwnerID, ContentType: p.ContentType, Width: p.Width, Height: p.Height,
		Size: int64(len(full.Data)), SHA256: full.SHA256, ThumbSHA256: thumb.SHA256, ThumbSize: int64(len(thumb.Data)),
		TakenAt: p.TakenAt, CreatedAt: p.CreatedAt,
	}
	if p.ExifLocation != nil {
		d.ExifLoc = &pointDoc{Lat: p.ExifLocation.Lat, Lng: p.ExifLocation.Lng}
	}
	if inline {
		d.Inline, d.Full, d.Thumb, d.FullType, d.ThumbType = true, full.Data, thumb.Data, full.ContentType, thumb.ContentType
	}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return nil, fmt.Errorf("store photo: %w", translate(err))
	}
	p.Size = d.Size
	p.SHA256 = d.SHA256
	return &p, nil
}

// writeFiles stores a photo's two files in GridFS's own layout — every
// chunk of both in one insert, then both files documents in one — so that
// the driver's bucket reads and deletes them. The driver's upload would
// take three commands per file (a look whether the files collection is
// empty, to create its indexes on first use, then the chunks and the
// file); the indexes are made at start-up instead (EnsureIndexes).
func (s *Photos) writeFiles(ctx context.Context, id, owner string, at time.Time, full, thumb model.PhotoFile) error {
	size := int(mongo.DefaultGridFSChunkSize)
	var chunks, files []any
	for _, v := range []struct {
		name string
		f    model.PhotoFile
	}{{VariantFull, full}, {VariantThumb, thumb}} {
		fid := id + "." + v.name
		for n, i := 0, 0; i < len(v.f.Data); n, i = n+1, i+size {
			end := min(i+size, len(v.f.Data))
			chunks = append(chunks, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "files_id", Value: fid},
				{Key: "n", Value: int32(n)}, {Key: "data", Value: bson.Binary{Data: v.f.Data[i:end]}}})
		}
		files = append(files, bson.D{{Key: "_id", Value: fid}, {Key: "length", Value: int64(len(v.f.Data))},
			{Key: "chunkSize", Value: int32(size)}, {Key: "uploadDate", Value: bson.NewDateTimeFromTime(at)},
			{Key: "filename", Value: fid},
			{Key: "metadata", Value: bson.D{{Key: "content_type", Value: v.f.ContentType}, {Key: "owner_id", Value: owner}}}})
	}
	if len(chunks) > 0 {
		if _, err := s.db.Collection(photosBucket+".chunks").InsertMany(ctx, chunks); err != nil {
			return fmt.Errorf("store photo file: %w", translate(err))
		}
	}
	if _, err := s.db.Collection(photosBucket+".files").InsertMany(ctx, files); err != nil {
		return fmt.Errorf("store photo file: %w", translate(err))
	}
	return nil
}

// Get returns a photo's metadata.
func (s *Photos) Get(ctx context.Context, id string) (*model.Photo, error) {
	var d photoDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(noFiles)).Decode(&d); err != nil {
		return nil, fmt.Errorf("get photo: %w", translate(err))
	}
	return d.model(), nil
}

// Many returns the photos with the given ids that exist, in no order, in
// one read. Errors: unavailable.
func (s *Photos) Many(ctx context.Context, ids []string) ([]*model.Photo, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return findAll(ctx, s.c, "get photos", (*photoDoc).model, bson.M{"_id": bson.M{"$in": ids}}, options.Find().SetProjection(noFiles))
}

// Open returns a reader of one variant's bytes, its length and its digest.
func (s *Photos) Open(ctx context.Context, id, variant string) (io.ReadCloser, int64, string, error) {
	var d photoDoc
	if err := s.c.FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, 0, "", fmt.Errorf("open photo: %w", translate(err))
	}
	size, sum, data := d.Size, d.SHA256, d.Full
	switch {
	case variant == VariantThumb:
		size, sum, data = d.ThumbSize, d.ThumbSHA256, d.Thumb
	case variant == model.VariantOriginal && d.HasOriginal:
		size, sum, data = d.OriginalSize, d.OriginalSHA256, d.Original
	case variant == model.VariantOriginal:
		variant = VariantFull // never redacted: the full rendition is the original
	case variant != VariantFull:
		return nil, 0, "", model.Errorf(model.CodeNotFound, "照片不存在")
	}
	if d.Inline {
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), sum, nil
	}
	ds, err := s.bucket().OpenDownloadStream(ctx, id+"."+variant)
	if errors.Is(err, mongo.ErrFileNotFound) {
		return nil, 0, "", model.Errorf(model.CodeNotFound, "照片不存在")
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("open photo: %w", translate(err))
	}
	return ds, size, sum, nil
}

// Claims and traces live in collections keyed by _id, because FerretDB
// v1 pushes only an _id equality down to its storage (any other filter
// decodes the whole collection) and makes only unique inserts atomic.
const (
	// colPhotoClaims holds {_id: photo id, ticket}: inserting it decides
	// which ticket uses a photo, once and for all. The sweeper claims an
	// unused photo for claimDeleted before deleting it.
	colPhotoClaims = "photo_claims"
	// colPhotoTraces maps a mediaCheckAsync trace id to its photo.
	colPhotoTraces = "photo_traces"
	claimDeleted   = "-deleted"
)

// Claim makes photos durably ticketID's — all of them or none: each must
// exist, be ownerID's, and be free or the ticket's already. It succeeds
// again for the same ticket, and returns how many of ids are the ticket's
// afterwards. Of two tickets claiming a photo, exactly one gets it (and
// the other none of its photos). Errors: unavailable.
//
// The claims go first, in id order, in one ordered insert: of two claims
// sharing photos, the first photo they share decides, and the loser stops
// there. Then one conditional update marks the photos, only if every one
// is the owner's and free (or the ticket's); if not, the claims made are
// taken back.
func (s *Photos) Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return 0, nil
	}
	taken, held, err := s.claimAll(ctx, ids, ticketID)
	if err != nil {
		s.unclaim(ctx, taken, ticketID)
		return 0, err
	}
	if held {
		res, err := s.c.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": ids}, "owner_id": ownerID, "used_by": bson.M{"$in": bson.A{"", ticketID}}},
			bson.M{"$set": bson.M{"used_by": ticketID}})
		if err != nil {
			s.unclaim(ctx, taken, ticketID)
			return 0, fmt.Errorf("claim photos: %w", translate(err))
		}
		if res.MatchedCount == int64(len(ids)) {
			return len(ids), nil
		}
		// Unknown, another's, or used: none is claimed.
		if len(taken) > 0 && res.ModifiedCount > 0 {
			if _, err := s.c.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": taken}, "used_by": ticketID}, bson.M{"$set": bson.M{"used_by": ""}}); err != nil {
				return 0, fmt.Errorf("claim photos: %w", translate(err))
			}
		}
	}
	s.unclaim(ctx, taken, ticketID)
	photos, err := s.Many(ctx, ids)
	if err != nil {
		return 0, err
	}
	mine := 0
	for _, p := range photos {
		if p.UsedBy == ticketID {
			mine++
		}
	}
	return mine, nil
}

// claimAll inserts the claims of ids (sorted) for holder, in order, and
// returns those this call made and whether holder holds them all (false:
// another holds one, and the rest were not tried).
func (s *Photos) claimAll(ctx context.Context, ids []string, holder string) (taken []string, held bool, err error) {
	claims := s.db.Collection(colPhotoClaims)
	at := s.now().UTC()
	for rest := ids; len(rest) > 0; {
		docs := make([]any, len(rest))
		for i, id := range rest {
			docs[i] = bson.M{"_id": id, "ticket": holder, "at": at}
		}
		_, err := claims.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		if err == nil {
			return append(taken, rest...), true, nil
		}
		var bw mongo.BulkWriteException
		if !errors.As(err, &bw) || len(bw.WriteErrors) == 0 || !mongo.IsDuplicateKeyError(bw.WriteErrors[0].WriteError) {
			return taken, false, fmt.Errorf("claim photos: %w", translate(err))
		}
		i := bw.WriteErrors[0].Index
		taken = append(taken, rest[:i]...)
		var d struct {
			Ticket string `bson:"ticket"`
		}
		if err := claims.FindOne(ctx, bson.M{"_id": rest[i]}).Decode(&d); err != nil {
			return taken, false, fmt.Errorf("claim photo: %w", translate(err))
		}
		if d.Ticket != holder {
			return taken, false, nil
		}
		rest = rest[i+1:] // the ticket's already (a retry)
	}
	return taken, true, nil
}

// unclaim takes back claims a refused Claim made. Best effort: a claim
// left behind keeps a photo for a ticket that does not use it, and the
// sweeper's claim is refused for it.
func (s *Photos) unclaim(ctx context.Context, ids []string, ticketID string) {
	if len(ids) > 0 {
		_, _ = s.db.Collection(colPhotoClaims).DeleteMany(context.WithoutCancel(ctx), bson.M{"_id": bson.M{"$in": ids}, "ticket": ticketID})
	}
}

// claim inserts the photo's claim for holder, and reports whether holder
// has it (now or from before) and whether this call made it.
func (s *Photos) claim(ctx context.Context, photoID, holder string) (held, made bool, err error) {
	claims := s.db.Collection(colPhotoClaims)
	_, err = claims.InsertOne(ctx, bson.M{"_id": photoID, "ticket": holder, "at": s.now().UTC()})
	if err == nil {
		return true, true, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, false, fmt.Errorf("claim photo: %w", translate(err))
	}
	var d struct {
		Ticket string `bson:"ticket"`
	}
	if err := claims.FindOne(ctx, bson.M{"_id": photoID}).Decode(&d); err != nil {
		return false, false, fmt.Errorf("claim photo: %w", translate(err))
	}
	return d.Ticket == holder, false, nil
}

// SetTrace records that a photo was sent for content checking.
func (s *Photos) SetTrace(ctx context.Context, id, traceID string) error {
	_, err := s.db.Collection(colPhotoTraces).InsertOne(ctx, bson.M{"_id": traceID, "photo": id, "at": s.now().UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("set photo trace: %w", translate(err))
	}
	_, err = s.c.UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"moderation.trace_id": traceID, "moderation.sent_at": s.now().UTC()}})
	if err != nil {
		return fmt.Errorf("set photo trace: %w", translate(err))
	}
	if !s.ferret {
		return nil // MongoDB's $sets of different fields never undo each other
	}
	// On FerretDB a verdict that came while the photo was being updated
	// may have been overwritten by that update (it rewrites the whole
	// document, so two $sets of different fields at once can lose one).
	// SetVerdict writes the trace first: whatever it wrote there before
	// this look is put back on the photo; one written after it reaches the
	// photo after the update above has finished.
	var tr traceDoc
	if err := s.db.Collection(colPhotoTraces).FindOne(ctx, bson.M{"_id": traceID}).Decode(&tr); err != nil {
		return fmt.Errorf("set photo trace: %w", translate(err))
	}
	if tr.Suggest != "" {
		if _, err := s.c.UpdateOne(ctx, bson.M{"_id": id},
			bson.M{"$set": bson.M{"moderation.suggest": tr.Suggest, "moderation.checked_at": tr.CheckedAt}}); err != nil {
			return fmt.Errorf("set photo trace: %w", translate(err))
		}
	}
	return nil
}

// traceDoc is a photo check sent to WeChat (photo_traces), with the verdict
// once it came: the record a verdict is written to first.
type traceDoc struct {
	Photo     string    `bson:"photo"`
	Suggest   string    `bson:"suggest,omitempty"`
	CheckedAt time.Time `bson:"checked_at,omitempty"`
}

// SetVerdict records WeChat's verdict for a trace id and returns the photo
// (not_found for an unknown trace). The verdict is written to the trace
// before the photo, so SetTrace can repair a photo update that raced it.
func (s *Photos) SetVerdict(ctx context.Context, traceID, suggest string) (*model.Photo, error) {
	now := s.now().UTC()
	var tr traceDoc
	if err := s.db.Collection(colPhotoTraces).FindOneAndUpdate(ctx, bson.M{"_id": traceID},
		bson.M{"$set": bson.M{"suggest": suggest, "checked_at": now}}).Decode(&tr); err != nil {
		return nil, fmt.Errorf("set photo verdict: %w", translate(err))
	}
	var d photoDoc
	err := s.c.FindOneAndUpdate(ctx,
		bson.M{"_id": tr.Photo},
		// The trace id too: this update may race SetTrace's, and either may
		// overwrite the other's fields.
		bson.M{"$set": bson.M{"moderation.trace_id": traceID, "moderation.suggest": suggest, "moderation.checked_at": now}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d) // with its files: FerretDB projects no findAndModify
	if err != nil {
		return nil, fmt.Errorf("set photo verdict: %w", translate(err))
	}
	return d.model(), nil
}

// ExpireModeration marks checks sent before cutoff that never got a verdict
// as timed out, and returns how many.
func (s *Photos) ExpireModeration(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.c.UpdateMany(ctx,
		bson.M{"moderation.trace_id": bson.M{"$ne": ""}, "moderation.suggest": "", "moderation.sent_at": bson.M{"$lt": cutoff.UTC()}},
		bson.M{"$set": bson.M{"moderation.suggest": "timeout", "moderation.checked_at": s.now().UTC()}})
	if err != nil {
		return 0, fmt.Errorf("expire moderation: %w", translate(err))
	}
	// Parked verdicts that no photo claimed by now were not ours.
	if _, err := s.db.Collection(colEarlyVerdicts).DeleteMany(ctx, bson.M{"at": bson.M{"$lt": cutoff.UTC()}}); err != nil {
		return 0, fmt.Errorf("expire early verdicts: %w", translate(err))
	}
	return int(res.ModifiedCount), nil
}

// DeleteUnused removes photos never used by a report and uploaded before
// cutoff, files and all, and returns how many.
func (s *Photos) DeleteUnused(ctx context.Context, cutoff time.Time) (int, error) {
	cur, err := s.c.Find(ctx, bson.M{"used_by": "", "created_at": bson.M{"$lt": cutoff.UTC()}},
		options.Find().SetProjection(bson.M{"_id": 1}).SetLimit(1000))
	if err != nil {
		return 0, fmt.Errorf("find unused photos: %w", translate(err))
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("find unused photos: %w", translate(err))
	}
	n := 0
	for _, d := range docs {
		// The sweeper claims the photo like a report would, so that of a
		// report and the sweeper exactly one gets it; the metadata goes
		// first, so a photo that exists is always servable.
		ok, _, err := s.claim(ctx, d.ID, claimDeleted)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		if _, err := s.c.DeleteOne(ctx, bson.M{"_id": d.ID}); err != nil {
			return n, fmt.Errorf("delete photo: %w", translate(err))
		}
		for _, v := range []string{VariantFull, VariantThumb} {
			if err := s.bucket().Delete(ctx, d.ID+"."+v); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
				return n, fmt.Errorf("delete photo file: %w", translate(err))
			}
		}
		n++
	}
	return n, nil
}

const colEarlyVerdicts = "media_verdicts"

// SaveEarlyVerdict keeps a verdict that arrived before its trace id was
// recorded on a photo.
func (s *Photos) SaveEarlyVerdict(ctx context.Context, traceID, suggest string) error {
	_, err := s.db.Collection(colEarlyVerdicts).UpdateOne(ctx, bson.M{"_id": traceID},
		bson.M{"$set": bson.M{"suggest": suggest, "at": s.now().UTC()}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("save early verdict: %w", translate(err))
	}
	return nil
}

// TakeEarlyVerdict returns (and removes) a verdict kept by
// SaveEarlyVerdict; of several takers at once exactly one gets it (the
// delete by _id decides, which is atomic on FerretDB too). Errors:
// unavailable.
func (s *Photos) TakeEarlyVerdict(ctx context.Context, traceID string) (string, bool, error) {
	var d struct {
		Suggest string `bson:"suggest"`
	}
	c := s.db.Collection(colEarlyVerdicts)
	// Almost always there is none: one read.
	err := c.FindOne(ctx, bson.M{"_id": traceID}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("take early verdict: %w", translate(err))
	}
	res, err := c.DeleteOne(ctx, bson.M{"_id": traceID})
	if err != nil {
		return "", false, fmt.Errorf("take early verdict: %w", translate(err))
	}
	if res.DeletedCount == 0 {
		return "", false, nil // another taker had it
	}
	return d.Suggest, true, nil
}
