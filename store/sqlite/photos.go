package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Variant names a stored rendition of a photo.
const (
	VariantFull  = "full"
	VariantThumb = "thumb"
)

// PhotoDir is the directory under DATA_DIR that holds the photos' files.
const PhotoDir = "photos"

// Photos stores photos: a row of what is known of each, and its two files
// (the full image and the thumbnail, already stripped of metadata by the
// photo package) under DATA_DIR/photos/<shard>/<id>.<variant>, the shard
// being the id's first five hex digits (its creation time in steps of
// 4096 s, so a directory holds about an hour of uploads).
//
// Every file has a row: Create stores the row before it writes the files
// (each written to a temporary name, synced, then renamed, and the
// directory synced), and DeleteUnused marks the row gone, removes the
// files, then the row. A crash between leaves a row whose files are
// missing or partial — never handed out, since Create did not return, and
// swept as unused — or a gone row whose deletion the next sweep finishes.
// A file without a row (a store restored from a backup older than its
// photos) is swept by DeleteUnused's pass over the shards older than its
// cutoff. A row whose file is missing answers not_found on Open.
type Photos struct {
	db  *DB
	dir string
	// newID gives a new photo its id (model.NewID); a test may fix it.
	newID func(time.Time) string
}

// Photos returns the photo store.
func (db *DB) Photos() *Photos {
	return &Photos{db: db, dir: filepath.Join(db.dir, PhotoDir), newID: model.NewID}
}

const photoColumns = `id, owner_id, content_type, width, height, size, sha256, taken_at, exif_lat, exif_lng,
	used_by, trace_id, suggest, checked_at, created_at, redacted_at, has_original, original_type`

func scanPhoto(r scannable) (*model.Photo, error) {
	var (
		p                  model.Photo
		taken, checked     sql.NullInt64
		redacted           sql.NullInt64
		lat, lng           sql.NullFloat64
		created            int64
		traceID, suggested string
	)
	if err := r.Scan(&p.ID, &p.OwnerID, &p.ContentType, &p.Width, &p.Height, &p.Size, &p.SHA256, &taken, &lat, &lng,
		&p.UsedBy, &traceID, &suggested, &checked, &created, &redacted, &p.HasOriginal, &p.OriginalType); err != nil {
		return nil, err
	}
	if taken.Valid {
		t := timeOfMs(taken.Int64)
		p.TakenAt = &t
	}
	if lat.Valid && lng.Valid {
		p.ExifLocation = &model.Point{Lat: lat.Float64, Lng: lng.Float64}
	}
	p.Moderation = model.Moderation{TraceID: traceID, Suggest: suggested, CheckedAt: timeOfNullMs(checked)}
	p.CreatedAt, p.RedactedAt = timeOfMs(created), timeOfNullMs(redacted)
	return &p, nil
}

// isPhotoID reports whether id is one this store gives (24 lower-case hex
// digits, see model.NewID): only such an id ever becomes a path.
func isPhotoID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// shardOf is the directory of a photo's files.
func (s *Photos) shardOf(id string) string { return filepath.Join(s.dir, id[:5]) }

// pathOf is the file of one variant of a photo.
func (s *Photos) pathOf(id, variant string) string {
	return filepath.Join(s.shardOf(id), id+"."+variant)
}

// Create stores a photo's row, then its two files, and returns the photo
// with its new id and creation time. Errors: unavailable (a full disk says
// so, in the database or in the files), internal.
func (s *Photos) Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error) {
	now := s.db.clockMs()
	p.ID, p.CreatedAt = s.newID(now), now
	p.Size, p.SHA256, p.UsedBy, p.Moderation = int64(len(full.Data)), full.SHA256, "", model.Moderation{}
	if !isPhotoID(p.ID) {
		return nil, fmt.Errorf("store photo: id %q is not a photo id", p.ID)
	}
	var taken sql.NullInt64
	if p.TakenAt != nil {
		t := p.TakenAt.UTC().Truncate(time.Millisecond)
		p.TakenAt, taken = &t, msOrNull(t)
	}
	var lat, lng sql.NullFloat64
	if p.ExifLocation != nil {
		lat = sql.NullFloat64{Float64: p.ExifLocation.Lat, Valid: true}
		lng = sql.NullFloat64{Float64: p.ExifLocation.Lng, Valid: true}
	}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO photos (id, owner_id, content_type, width, height, size, sha256, thumb_size, thumb_sha256,
			taken_at, exif_lat, exif_lng, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.OwnerID, p.ContentType, p.Width, p.Height, p.Size, full.SHA256, int64(len(thumb.Data)), thumb.SHA256,
			taken, lat, lng, msOf(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store photo: %w", err)
	}
	if err := s.writeFiles(p.ID, full.Data, thumb.Data); err != nil {
		s.db.noteWrite(err)
		// Nothing of it is left if the disk lets us; else the row is swept
		// as an unused upload.
		_ = s.removeFiles(p.ID)
		bg := context.WithoutCancel(ctx)
		_ = s.db.write(bg, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(bg, "DELETE FROM photos WHERE id = ?", p.ID)
			return err
		})
		return nil, err
	}
	return &p, nil
}

// writeFiles writes both files of a photo durably: each to a temporary
// name, synced, renamed into place, then the directory synced.
func (s *Photos) writeFiles(id string, full, thumb []byte) error {
	shard := s.shardOf(id)
	if _, err := os.Stat(shard); errors.Is(err, fs.ErrNotExist) {
		_, rootErr := os.Stat(s.dir)
		if err := os.MkdirAll(shard, 0o700); err != nil {
			return photoFileError(err, "create photo directory")
		}
		// The new directories' entries must survive a crash too.
		if errors.Is(rootErr, fs.ErrNotExist) {
			if err := syncDir(s.db.dir); err != nil {
				return photoFileError(err, "sync data directory")
			}
		}
		if err := syncDir(s.dir); err != nil {
			return photoFileError(err, "sync photo directory")
		}
	}
	for _, v := range []struct {
		name string
		data []byte
	}{{VariantFull, full}, {VariantThumb, thumb}} {
		path := s.pathOf(id, v.name)
		if err := writeSynced(path+".tmp", v.data); err != nil {
			return photoFileError(err, "write photo file")
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return photoFileError(err, "write photo file")
		}
	}
	return photoFileError(syncDir(shard), "sync photo directory")
}

// writeSynced writes data to path and syncs it to the disk.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir syncs a directory, so that the names created or renamed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeFiles removes every file of a photo, the temporary ones of an
// interrupted write among them; a file already gone is no error.
func (s *Photos) removeFiles(id string) error {
	var errs []error
	for _, v := range []string{VariantFull, VariantThumb, model.VariantOriginal} {
		for _, path := range []string{s.pathOf(id, v), s.pathOf(id, v) + ".tmp"} {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Get returns a photo's row. Errors: not_found, unavailable.
func (s *Photos) Get(ctx context.Context, id string) (*model.Photo, error) {
	p, err := scanPhoto(s.db.queryRow(ctx, "SELECT "+photoColumns+" FROM photos WHERE id = ? AND gone = 0", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("照片不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("get photo: %w", translate(err))
	}
	return p, nil
}

// Many returns the photos of ids that exist, in the order of ids.
// Errors: unavailable.
func (s *Photos) Many(ctx context.Context, ids []string) ([]*model.Photo, error) {
	out := []*model.Photo{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.query(ctx, "SELECT "+photoColumns+" FROM photos WHERE id IN ("+qmarks(len(ids))+") AND gone = 0", argsOf(ids)...)
	if err != nil {
		return nil, fmt.Errorf("get photos: %w", translate(err))
	}
	defer rows.Close()
	byID := map[string]*model.Photo{}
	for rows.Next() {
		p, err := scanPhoto(rows)
		if err != nil {
			return nil, fmt.Errorf("get photos: %w", translate(err))
		}
		byID[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get photos: %w", translate(err))
	}
	for _, id := range ids {
		if p := byID[id]; p != nil {
			out = append(out, p)
			delete(byID, id)
		}
	}
	return out, nil
}

// Open returns a reader of one variant's bytes, its length and its
// SHA-256. Errors: not_found (no such photo or variant, or its file is
// missing), unavailable.
func (s *Photos) Open(ctx context.Context, id, variant string) (io.ReadCloser, int64, string, error) {
	gone := missing("照片不存在")
	if variant != VariantFull && variant != VariantThumb && variant != model.VariantOriginal {
		return nil, 0, "", gone
	}
	var full, thumb, original string
	var hasOriginal bool
	err := s.db.r.QueryRowContext(ctx, "SELECT sha256, thumb_sha256, original_sha256, has_original FROM photos WHERE id = ? AND gone = 0", id).
		Scan(&full, &thumb, &original, &hasOriginal)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !isPhotoID(id)) {
		return nil, 0, "", gone
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("open photo: %w", translate(err))
	}
	sum := full
	switch {
	case variant == VariantThumb:
		sum = thumb
	case variant == model.VariantOriginal && hasOriginal:
		sum = original
	case variant == model.VariantOriginal:
		variant = VariantFull // never redacted: the full rendition is the original
	}
	f, err := os.Open(s.pathOf(id, variant))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, "", gone
	}
	if err != nil {
		return nil, 0, "", photoFileError(err, "open photo")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, "", photoFileError(err, "open photo")
	}
	return f, fi.Size(), sum, nil
}

// Claim makes photos ticketID's, the owner's own photos only, all or
// none: if every one of ids is a photo of ownerID that is unused or
// already the ticket's, all become the ticket's; otherwise none changes.
// It returns how many of ids are the ticket's after the call, so a retry
// of a claim that succeeded succeeds again, and of two tickets claiming a
// photo exactly one gets it. Errors: unavailable.
func (s *Photos) Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n := 0
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, owner_id, used_by FROM photos WHERE id IN ("+qmarks(len(ids))+") AND gone = 0", argsOf(ids)...)
		if err != nil {
			return err
		}
		type state struct{ owner, usedBy string }
		found := map[string]state{}
		for rows.Next() {
			var id string
			var st state
			if err := rows.Scan(&id, &st.owner, &st.usedBy); err != nil {
				rows.Close()
				return err
			}
			found[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		all := true
		for _, id := range ids {
			st, ok := found[id]
			switch {
			case ok && st.owner == ownerID && st.usedBy == ticketID:
				n++
			case ok && st.owner == ownerID && st.usedBy == "":
			default:
				all = false
			}
		}
		if !all {
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE photos SET used_by = ? WHERE id IN ("+qmarks(len(ids))+") AND used_by = ''",
			append([]any{ticketID}, argsOf(ids)...)...)
		n = len(ids)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("claim photos: %w", err)
	}
	return n, nil
}

// SetTrace records that a photo was sent for content checking under
// traceID. Errors: unavailable.
func (s *Photos) SetTrace(ctx context.Context, id, traceID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		now := msOf(s.db.clockMs())
		if _, err := tx.ExecContext(ctx, "INSERT INTO photo_traces (trace_id, photo_id, at) VALUES (?, ?, ?) ON CONFLICT (trace_id) DO NOTHING",
			traceID, id, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE photos SET trace_id = ?, sent_at = ? WHERE id = ?", traceID, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set photo trace: %w", err)
	}
	return nil
}

// SetVerdict records WeChat's verdict for a trace id and returns the
// photo. Errors: not_found (an unknown trace, or its photo is gone),
// unavailable.
func (s *Photos) SetVerdict(ctx context.Context, traceID, suggest string) (*model.Photo, error) {
	var p *model.Photo
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var photo string
		err := tx.QueryRowContext(ctx, "SELECT photo_id FROM photo_traces WHERE trace_id = ?", traceID).Scan(&photo)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有内容检查 %s", traceID)
		}
		if err != nil {
			return err
		}
		p, err = scanPhoto(tx.QueryRowContext(ctx, "UPDATE photos SET trace_id = ?, suggest = ?, checked_at = ? WHERE id = ? AND gone = 0 RETURNING "+photoColumns,
			traceID, suggest, msOf(s.db.clockMs()), photo))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("照片不存在")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set photo verdict: %w", err)
	}
	return p, nil
}

// ExpireModeration marks checks sent before cutoff that never got a
// verdict as timed out, and returns how many; verdicts parked before
// cutoff that no photo took were not ours and go. Errors: unavailable.
func (s *Photos) ExpireModeration(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, sqlExpireModeration, msOf(s.db.clockMs()), msOf(cutoff))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM media_verdicts WHERE at < ?", msOf(cutoff))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire moderation: %w", err)
	}
	return int(n), nil
}

const sqlExpireModeration = `UPDATE photos SET suggest = 'timeout', checked_at = ?
	WHERE trace_id <> '' AND suggest = '' AND sent_at < ?`

// deleteBatch bounds the photos one DeleteUnused call deletes.
const deleteBatch = 1000

// DeleteUnused removes photos no report used that were uploaded before
// cutoff, files and all, and returns how many; then it removes the files
// without a row in the shards older than cutoff it has not swept yet. A
// photo a ticket claims meanwhile is kept: the mark and the claim are
// transactions, one of them first. Errors: unavailable, internal (a file
// that cannot be removed; its row stays, marked, for the next call).
func (s *Photos) DeleteUnused(ctx context.Context, cutoff time.Time) (int, error) {
	var ids, traces []string
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, sqlMarkUnused, msOf(cutoff), deleteBatch); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, sqlGonePhotos)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, trace string
			if err := rows.Scan(&id, &trace); err != nil {
				return err
			}
			ids = append(ids, id)
			if trace != "" {
				traces = append(traces, trace)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("delete unused photos: %w", err)
	}
	var done []string
	var errs []error
	for _, id := range ids {
		if !isPhotoID(id) {
			done = append(done, id)
			continue
		}
		if err := s.removeFiles(id); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, id)
	}
	var n int64
	if len(done) > 0 {
		err = s.db.write(ctx, func(tx *sql.Tx) error {
			for chunk := range slices.Chunk(done, 500) {
				res, err := tx.ExecContext(ctx, "DELETE FROM photos WHERE gone = 1 AND id IN ("+qmarks(len(chunk))+")", argsOf(chunk)...)
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n += k
			}
			for chunk := range slices.Chunk(traces, 500) {
				if _, err := tx.ExecContext(ctx, "DELETE FROM photo_traces WHERE trace_id IN ("+qmarks(len(chunk))+")", argsOf(chunk)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("delete unused photos: %w", err)
		}
	}
	if len(errs) > 0 {
		return int(n), photoFileError(errors.Join(errs...), "delete photo files")
	}
	if err := s.sweepOrphans(ctx, cutoff); err != nil {
		return int(n), err
	}
	return int(n), nil
}

const (
	sqlMarkUnused = `UPDATE photos SET gone = 1 WHERE id IN
		(SELECT id FROM photos WHERE used_by = '' AND gone = 0 AND created_at < ? ORDER BY created_at LIMIT ?)`
	sqlGonePhotos = "SELECT id, trace_id FROM photos WHERE gone = 1"
)

// metaPhotosSwept is the meta row holding the last shard whose files
// without a row were removed.
const metaPhotosSwept = "photos.swept"

// sweepOrphans removes the files without a row from the shards that ended
// before cutoff (and before now) and come after the last one swept, and records how far it
// got. A shard is written to only during its own 4096 seconds, so a shard
// swept once stays clean.
func (s *Photos) sweepOrphans(ctx context.Context, cutoff time.Time) error {
	var mark string
	err := s.db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaPhotosSwept).Scan(&mark)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sweep photo files: %w", translate(err))
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return photoFileError(err, "sweep photo files")
	}
	// Only a shard whose time has passed is written to no more.
	if now := s.db.now().Add(-time.Minute); now.Before(cutoff) {
		cutoff = now
	}
	swept := mark
	for _, e := range entries { // in name order, which is time order
		name := e.Name()
		n, err := strconv.ParseUint(name, 16, 32)
		if !e.IsDir() || len(name) != 5 || err != nil || name <= mark {
			continue
		}
		if end := time.Unix(int64(n+1)<<12, 0); !end.Before(cutoff) {
			break
		}
		if err := s.sweepShard(ctx, name); err != nil {
			return err
		}
		swept = name
	}
	if swept == mark {
		return nil
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			metaPhotosSwept, swept)
		return err
	})
	if err != nil {
		return fmt.Errorf("sweep photo files: %w", err)
	}
	return nil
}

// sweepShard removes the files of one shard whose photo has no row, and
// the shard's directory if nothing is left in it.
func (s *Photos) sweepShard(ctx context.Context, shard string) error {
	dir := filepath.Join(s.dir, shard)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return photoFileError(err, "sweep photo files")
	}
	files := map[string][]string{} // photo id → its files
	for _, e := range entries {
		id, _, _ := strings.Cut(e.Name(), ".")
		files[id] = append(files[id], e.Name())
	}
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := s.db.r.QueryContext(ctx, "SELECT id FROM photos WHERE id IN ("+qmarks(len(chunk))+")", argsOf(chunk)...)
		if err != nil {
			return fmt.Errorf("sweep photo files: %w", translate(err))
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("sweep photo files: %w", translate(err))
			}
			delete(files, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sweep photo files: %w", translate(err))
		}
	}
	for _, names := range files {
		for _, name := range names {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return photoFileError(err, "sweep photo files")
			}
		}
	}
	_ = os.Remove(dir) // only if empty
	return nil
}

// SaveEarlyVerdict keeps a verdict that arrived before its trace id was
// recorded on a photo. Errors: unavailable.
func (s *Photos) SaveEarlyVerdict(ctx context.Context, traceID, suggest string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media_verdicts (trace_id, suggest, at) VALUES (?, ?, ?)
			ON CONFLICT (trace_id) DO UPDATE SET suggest = excluded.suggest, at = excluded.at`,
			traceID, suggest, msOf(s.db.clockMs()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save early verdict: %w", err)
	}
	return nil
}

// TakeEarlyVerdict returns and removes a verdict kept by SaveEarlyVerdict;
// false when there is none. Errors: unavailable.
func (s *Photos) TakeEarlyVerdict(ctx context.Context, traceID string) (string, bool, error) {
	// Almost always there is none: a read, not a write.
	var suggest string
	err := s.db.r.QueryRowContext(ctx, "SELECT suggest FROM media_verdicts WHERE trace_id = ?", traceID).Scan(&suggest)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("take early verdict: %w", translate(err))
	}
	found := false
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "DELETE FROM media_verdicts WHERE trace_id = ? RETURNING suggest", traceID).Scan(&suggest)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("take early verdict: %w", err)
	}
	if !found {
		return "", false, nil
	}
	return suggest, true, nil
}
